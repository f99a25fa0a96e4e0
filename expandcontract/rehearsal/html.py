"""The report page: one self-contained HTML file (inline SVG, no scripts, no network).

The chart is drawn here in Python as SVG so the page opens offline in any browser; the same
data is embedded as JSON in ``<script type="application/json" id="rehearsal-data">`` for tools.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from expandcontract.rehearsal.report import RehearsalReport, phase_table
from expandcontract.rehearsal.state_report import state_html

WIDTH, LEFT, RIGHT = 960, 56, 16
PLOT = WIDTH - LEFT - RIGHT
BLUE, GREEN, RED, ORANGE, GREY = "#2f6fdf", "#2e9e5b", "#d23c3c", "#e08a1e", "#777"
_BANDS = ("#f4f6fa", "#ffffff")


def render_html(report: RehearsalReport) -> str:
    data = report.to_dict()
    # "</" inside JSON would end the script element early; "<\/" is the same JSON string.
    embedded = json.dumps(data, indent=1).replace("</", "<\\/")
    verdict = (
        "zero failed requests, zero data mismatches"
        if report.ok
        else "NOT zero-downtime: " + "; ".join(report.reasons)
    )
    title = f"expandcontract rehearsal ({report.mode})"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>
body{{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px auto;max-width:1000px;
color:#1d1d1f;padding:0 12px}}
h1{{font-size:20px;margin:0 0 4px}} h2{{font-size:16px;margin:24px 0 8px}}
.verdict{{padding:8px 12px;border-radius:6px;font-weight:600;margin:12px 0}}
.ok{{background:#e6f5ec;color:#1b6b3c}} .bad{{background:#fbe9e9;color:#9b1c1c}}
table{{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}}
th,td{{padding:4px 8px;border-bottom:1px solid #e3e3e3;text-align:right}}
th:first-child,td:first-child{{text-align:left}} tfoot td{{font-weight:600}}
tr.bad td{{color:#9b1c1c}} svg{{display:block;margin:8px 0}} .muted{{color:{GREY}}}
code{{background:#f3f3f3;padding:1px 4px;border-radius:3px}}
</style></head><body>
<h1>{escape(title)}</h1>
<div class="muted">started {escape(data["started_at"])}, {data["duration_seconds"]:.0f} s,
options {escape(json.dumps(report.options))}</div>
<div class="verdict {"ok" if report.ok else "bad"}">{escape(verdict)}</div>
<h2>Timeline</h2>
{_chart(report)}
<h2>Per phase</h2>
{_table_html(report)}
<h2>Consistency</h2>
{_consistency_html(report)}
{state_html(report.state)}
{_failures_html(report)}
<script type="application/json" id="rehearsal-data">
{embedded}
</script>
</body></html>
"""


def _table_html(report: RehearsalReport) -> str:
    table = phase_table(report)
    heads = "".join(f"<th>{escape(str(c.header))}</th>" for c in table.columns)
    cells = [list(c.cells) for c in table.columns]
    rows = []
    for index, stats in enumerate(report.phases):
        css = ' class="bad"' if stats.failed or stats.bad_reads else ""
        tds = "".join(f"<td>{escape(str(col[index]))}</td>" for col in cells)
        rows.append(f"<tr{css}>{tds}</tr>")
    foot = "".join(f"<td>{escape(str(c.footer))}</td>" for c in table.columns)
    return (
        f"<table><thead><tr>{heads}</tr></thead><tbody>{''.join(rows)}</tbody>"
        f"<tfoot><tr>{foot}</tr></tfoot></table>"
        + _notes_html(report)
        + '<p class="muted">failed: 5xx, no answer or unexpected status. bad reads: a 200 whose '
        "customer differs from what was written. stalled: slower than 1 s. Latency is measured "
        "from when the request was due (open loop).</p>"
    )


def _notes_html(report: RehearsalReport) -> str:
    items = "".join(
        f"<li><b>{escape(p.phase)}</b>: {escape(p.note)}</li>" for p in report.phases if p.note
    )
    return f"<ul>{items}</ul>" if items else ""


def _consistency_html(report: RehearsalReport) -> str:
    c = report.consistency
    parts = [
        f"<p>{c.checked:,} customers written during the run were read back through green: "
        f"<b>{len(c.mismatches):,}</b> mismatch(es).</p>"
    ]
    if c.error:
        parts.append(f"<p class='bad'>The check could not finish: {escape(c.error)}</p>")
    if c.mismatches:
        items = "".join(f"<li>{escape(m)}</li>" for m in c.mismatches[:20])
        parts.append(f"<ul>{items}</ul>")
    if c.quarantined:
        rows = "".join(
            f"<tr><td>{q['id']}</td><td>{escape(repr(q['value']))}</td>"
            f"<td>{escape(str(q['reason']))}</td></tr>"
            for q in c.quarantined
        )
        parts.append(
            "<p>Quarantined rows (never converted, original value kept):</p>"
            "<table><thead><tr><th>id</th><th>original</th><th>reason</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
    return "\n".join(parts)


def _failures_html(report: RehearsalReport) -> str:
    if not report.failures:
        return ""
    items = "".join(f"<li><code>{escape(line)}</code></li>" for line in report.failures)
    return f"<h2>First failures</h2><ul>{items}</ul>"


def _chart(report: RehearsalReport) -> str:
    series = report.series
    spans = report.phase_spans
    end = max([s["end"] for s in spans] + [series[-1]["t"] if series else 1.0, 1.0])
    width = series[1]["t"] - series[0]["t"] if len(series) > 1 else end

    def x(t: float) -> float:
        return LEFT + PLOT * min(max(t, 0.0), end) / end

    panels = [
        ("traffic share", 120, _share_panel),
        ("latency p50 / p99 (ms)", 120, _latency_panel),
        ("failed requests and bad reads", 80, _error_panel),
    ]
    top, out = 52, []
    for title, height, draw in panels:
        out.append(_bands(spans, x, top, height))
        out.append(f'<text x="{LEFT}" y="{top - 5}" font-size="12" fill="#333">{title}</text>')
        out.append(draw(series, x, width, top, height))
        out.append(
            f'<line x1="{LEFT}" y1="{top + height}" x2="{LEFT + PLOT}" y2="{top + height}" '
            'stroke="#bbb"/>'
        )
        top += height + 30
    labels = []
    for index, span in enumerate(spans):
        mid = (x(span["start"]) + x(span["end"])) / 2
        dy = 12 if index % 2 == 0 else 26
        labels.append(
            f'<text x="{mid:.1f}" y="{dy}" font-size="10" text-anchor="middle" '
            f'fill="#444">{escape(span["name"])}</text>'
        )
    ticks = []
    step = _tick_step(end)
    t = 0.0
    while t <= end + 1e-9:
        ticks.append(
            f'<text x="{x(t):.1f}" y="{top - 12}" font-size="10" text-anchor="middle" '
            f'fill="{GREY}">{t:g}s</text>'
        )
        t += step
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {WIDTH} {top}" '
        f'role="img" aria-label="rehearsal timeline">{"".join(labels)}{"".join(out)}'
        f"{''.join(ticks)}</svg>"
    )


def _bands(spans: list[dict[str, Any]], x: Any, top: float, height: float) -> str:
    rects = []
    for index, span in enumerate(spans):
        x0, x1 = x(span["start"]), x(span["end"])
        rects.append(
            f'<rect x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 0.5):.1f}" height="{height}" '
            f'fill="{_BANDS[index % 2]}" stroke="#e3e3e3" stroke-width="0.5">'
            f"<title>{escape(span['name'])}</title></rect>"
        )
    return "".join(rects)


def _share_panel(series: list[dict[str, Any]], x: Any, width: float, top: float, h: float) -> str:
    if not series:
        return ""
    # Blue fills from the top down to the boundary, green from the boundary to the bottom.
    boundary = []
    busy = [p for p in series if p["blue"] + p["green"]]
    if not busy:
        return ""
    share_blue = busy[0]["blue"] / (busy[0]["blue"] + busy[0]["green"])
    for point in series:
        answered = point["blue"] + point["green"]
        if answered:  # an empty interval keeps the last share (nothing was routed)
            share_blue = point["blue"] / answered
        for t in (point["t"], point["t"] + width):
            boundary.append((x(t), top + h * share_blue))
    top_edge = [(px, top) for px, _ in boundary]
    bottom_edge = [(px, top + h) for px, _ in boundary]
    blue_poly = [*top_edge, *reversed(boundary)]
    green_poly = [*boundary, *reversed(bottom_edge)]
    return (
        f'<polygon points="{_pts(blue_poly)}" fill="{BLUE}" fill-opacity="0.55"/>'
        f'<polygon points="{_pts(green_poly)}" fill="{GREEN}" fill-opacity="0.55"/>'
        f'<text x="{LEFT - 6}" y="{top + 10}" font-size="10" text-anchor="end" fill="{BLUE}">'
        f"blue</text>"
        f'<text x="{LEFT - 6}" y="{top + h}" font-size="10" text-anchor="end" fill="{GREEN}">'
        f"green</text>"
    )


def _latency_panel(series: list[dict[str, Any]], x: Any, width: float, top: float, h: float) -> str:
    values = [p["p99_ms"] for p in series if p["p99_ms"] is not None]
    if not values:
        return ""
    ceiling = max(10.0, max(values)) * 1.1
    out = []
    for key, color in (("p99_ms", ORANGE), ("p50_ms", BLUE)):
        points = [
            (x(p["t"] + width / 2), top + h - h * p[key] / ceiling)
            for p in series
            if p[key] is not None
        ]
        out.append(
            f'<polyline points="{_pts(points)}" fill="none" stroke="{color}" stroke-width="1.4">'
            f"<title>{key}</title></polyline>"
        )
    out.append(
        f'<text x="{LEFT - 6}" y="{top + 10}" font-size="10" text-anchor="end" fill="{GREY}">'
        f"{ceiling:,.0f}</text>"
        f'<text x="{LEFT - 6}" y="{top + h}" font-size="10" text-anchor="end" '
        f'fill="{GREY}">0</text>'
        f'<text x="{LEFT + 170}" y="{top - 5}" font-size="11">'
        f'<tspan fill="{BLUE}">— p50</tspan>  <tspan fill="{ORANGE}">— p99</tspan></text>'
    )
    return "".join(out)


def _error_panel(series: list[dict[str, Any]], x: Any, width: float, top: float, h: float) -> str:
    peak = max([p["failed"] + p["bad_reads"] for p in series] + [1])
    out = []
    for p in series:
        x0, x1 = x(p["t"]), x(p["t"] + width)
        failed_h = h * p["failed"] / peak
        bad_h = h * p["bad_reads"] / peak
        if failed_h:
            out.append(
                f'<rect x="{x0:.1f}" y="{top + h - failed_h:.1f}" width="{max(x1 - x0, 1):.1f}" '
                f'height="{failed_h:.1f}" fill="{RED}"><title>{p["t"]:g}s: {p["failed"]} '
                "failed</title></rect>"
            )
        if bad_h:
            out.append(
                f'<rect x="{x0:.1f}" y="{top + h - failed_h - bad_h:.1f}" '
                f'width="{max(x1 - x0, 1):.1f}" height="{bad_h:.1f}" fill="{ORANGE}">'
                f"<title>{p['t']:g}s: {p['bad_reads']} bad reads</title></rect>"
            )
    if not out:
        out.append(
            f'<text x="{LEFT + PLOT / 2}" y="{top + h / 2 + 4}" font-size="12" '
            f'text-anchor="middle" fill="{GREEN}">none</text>'
        )
    out.append(
        f'<text x="{LEFT - 6}" y="{top + 10}" font-size="10" text-anchor="end" fill="{GREY}">'
        f"{peak}</text>"
        f'<text x="{LEFT + 210}" y="{top - 5}" font-size="11">'
        f'<tspan fill="{RED}">■ failed</tspan>  <tspan fill="{ORANGE}">■ bad reads</tspan></text>'
    )
    return "".join(out)


def _pts(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{px:.1f},{py:.1f}" for px, py in points)


def _tick_step(end: float) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300):
        if end / step <= 12:
            return float(step)
    return 600.0
