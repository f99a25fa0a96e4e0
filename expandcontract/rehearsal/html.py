"""The report page: one self-contained HTML file (inline SVG, no scripts, no network).

The chart is drawn here in Python as SVG so the page opens offline in any browser; the same
data is embedded as JSON in ``<script type="application/json" id="rehearsal-data">`` for tools.
"""

from __future__ import annotations

import json
import math
from html import escape
from typing import Any

from expandcontract.rehearsal.quarantine_report import quarantine_html
from expandcontract.rehearsal.report import RehearsalReport, phase_table
from expandcontract.rehearsal.state_report import state_html

WIDTH, LEFT, RIGHT = 960, 56, 16
PLOT = WIDTH - LEFT - RIGHT
BLUE, GREEN, RED, ORANGE, GREY = "#2f6fdf", "#2e9e5b", "#d23c3c", "#e08a1e", "#777"
AMBER = "#f0a500"
_BANDS = ("#f4f6fa", "#ffffff")


def render_html(report: RehearsalReport) -> str:
    data = report.to_dict()
    # "</" inside JSON would end the script element early; "<\/" is the same JSON string.
    embedded = json.dumps(data, indent=1).replace("</", "<\\/")
    verdict = (
        "zero-downtime: zero failed requests, zero data mismatches, no stalls"
        if report.ok
        else f"{report.verdict.upper()}: " + "; ".join(report.reasons)
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
.inconclusive{{background:#fff3dc;color:#7a4b00;border-left:4px solid {AMBER}}}
table{{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}}
th,td{{padding:4px 8px;border-bottom:1px solid #e3e3e3;text-align:right}}
th:first-child,td:first-child{{text-align:left}} tfoot td{{font-weight:600}}
tr.bad td{{color:#9b1c1c}} svg{{display:block;margin:8px 0}} .muted{{color:{GREY}}}
code{{background:#f3f3f3;padding:1px 4px;border-radius:3px}}
.facts{{display:grid;grid-template-columns:repeat(3,1fr);gap:2px 16px;margin:6px 0}}
.legend span{{margin-right:14px}}
</style></head><body>
<h1>{escape(title)}</h1>
{_header_html(report)}
<div class="verdict {_verdict_class(report)}">{escape(verdict)}</div>
<h2>Timeline</h2>
{_chart(report)}
<h2>Per phase</h2>
{_table_html(report)}
<h2>Consistency</h2>
{_consistency_html(report)}
{quarantine_html(report.rejected, report.quarantine) if report.rejected else ""}
{state_html(report.state)}
{_failures_html(report)}
<script type="application/json" id="rehearsal-data">
{embedded}
</script>
</body></html>
"""


def _verdict_class(report: RehearsalReport) -> str:
    """Green when proven, amber when the machine could not tell, red when it broke."""
    if report.ok:
        return "ok"
    return "inconclusive" if report.verdict == "inconclusive" else "bad"


def _header_html(report: RehearsalReport) -> str:
    c = report.context
    machine = c.get("machine") or {}
    cpu = machine.get("cpu_percent_mean")
    facts = [
        ("started", report.started_at.isoformat(timespec="seconds")),
        ("took", f"{report.wall_seconds:.0f} s wall time"),
        ("expandcontract", str(c.get("tool_version", "?"))),
        ("PostgreSQL", f"{c.get('postgresql_version', '?')} ({c.get('database', '?')})"),
        (
            "machine",
            f"{c.get('cpus', '?')} CPU(s), load {c.get('load_average_at_start', '?')} → "
            f"{machine.get('load_average_at_end', '?')}, CPU "
            + ("-" if cpu is None else f"{cpu:g} % mean, {machine.get('cpu_percent_max')} % max"),
        ),
        (
            "load",
            f"{(report.judged or report.totals).achieved_rps:g} of {report.options.rps:g} "
            "requests/s sent (after the warm-up), "
            f"p99 limit {report.options.max_p99_ms:g} ms",
        ),
    ]
    options = " ".join(f"{k} {v}" for k, v in report.options.user_set().items())
    cells = "".join(f"<div><b>{escape(k)}</b> {escape(v)}</div>" for k, v in facts)
    return (
        f'<div class="facts">{cells}</div>'
        f'<div class="muted">options: <code>{escape(options)}</code></div>'
    )


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
        left = ' style="text-align:left"'
        rows = "".join(
            f"<tr><td>{q['id']}</td><td{left}>{escape(repr(q['value']))}</td>"
            f"<td{left}>{escape(str(q['reason']))}</td>"
            f"<td{left}>{escape(str(q['resolution'] or 'open'))}</td></tr>"
            for q in c.quarantined
        )
        parts.append(
            "<p>Quarantined rows (never converted, original value kept):</p>"
            f"<table><thead><tr><th>id</th><th{left}>original</th><th{left}>reason</th>"
            f"<th{left}>resolution</th></tr></thead><tbody>{rows}</tbody></table>"
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

    # The chart starts when the story does (setting up the database comes before).
    start = spans[0]["start"] if spans else 0.0
    length = max(end - start, 1e-6)

    def x(t: float) -> float:
        return LEFT + PLOT * (min(max(t, start), end) - start) / length

    panels = [
        ("traffic share: blue / green", 100, _share_panel),
        ("latency, ms (log scale): p50 / p95 / p99 all, p99 per release", 170, _latency_panel),
        (f"requests sent per second (target {report.options.rps:g})", 80, _rate_panel),
        (f"failed requests and bad reads per {width:g} s bucket, by release", 80, _error_panel),
    ]
    top, out = 52, []
    for title, height, draw in panels:
        out.append(_bands(spans, x, top, height))
        out.append(f'<text x="{LEFT}" y="{top - 5}" font-size="12" fill="#333">{title}</text>')
        out.append(draw(series, x, width, top, height, report))
        out.append(
            f'<line x1="{LEFT}" y1="{top + height}" x2="{LEFT + PLOT}" y2="{top + height}" '
            'stroke="#bbb"/>'
        )
        top += height + 30
    out.append(_markers(report.events, x, 52, top - 30))
    labels = []
    for index, span in enumerate(spans):
        mid = (x(span["start"]) + x(span["end"])) / 2
        dy = 12 if index % 2 == 0 else 26
        labels.append(
            f'<text x="{mid:.1f}" y="{dy}" font-size="10" text-anchor="middle" '
            f'fill="#444">{escape(span["name"])}</text>'
        )
    ticks = []
    step = _tick_step(length)
    t = math.ceil(start / step) * step
    while t <= end + 1e-9:
        ticks.append(
            f'<text x="{x(t):.1f}" y="{top - 12}" font-size="10" text-anchor="middle" '
            f'fill="{GREY}">{t:g}s</text>'
        )
        t += step
    ticks.append(
        f'<text x="{LEFT + PLOT}" y="{top + 2}" font-size="10" text-anchor="end" '
        f'fill="{GREY}">seconds since the start →</text>'
    )
    top += 8
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


_KIND_COLOURS = {"traffic": BLUE, "guard": "#8a3ffc", "retry": ORANGE, "release": GREEN}


# Marker labels: rows of text at the top of the chart, each label in the first row where it
# does not overlap the one before it; a label that fits nowhere keeps only its hover title.
LABEL_ROWS, LABEL_ROW_PX, LABEL_CHAR_PX, LABEL_GAP_PX = 5, 11, 5.0, 6


def _markers(events: list[dict[str, Any]], x: Any, top: float, bottom: float) -> str:
    """Annotations, as on a Grafana panel: a dashed line per event with its label on hover
    and a short label at the top for the ones that matter most (never overlapping)."""
    out = []
    labelled = []
    for event in events:
        colour = _KIND_COLOURS.get(event.get("kind", ""), "#555")
        px = x(event["t"])
        out.append(
            f'<line x1="{px:.1f}" y1="{top}" x2="{px:.1f}" y2="{bottom}" stroke="{colour}" '
            f'stroke-dasharray="3,3" stroke-width="1" opacity="0.8">'
            f"<title>{event['t']:.1f}s: {escape(event['label'])}</title></line>"
        )
        if event.get("kind") in ("guard", "release"):
            short = event["label"].split(";")[0].split(":")[0][:28]
            labelled.append((px, short, colour, event))
    for (_, short, colour, event), (x0, row) in zip(
        labelled, label_layout([(px, len(short)) for px, short, _, _ in labelled]), strict=True
    ):
        if row is None:
            continue
        out.append(
            f'<text x="{x0:.1f}" y="{top + 10 + LABEL_ROW_PX * row}" font-size="9" '
            f'fill="{colour}" stroke="#fff" stroke-width="3" paint-order="stroke">'
            f"{escape(short)}<title>{event['t']:.1f}s: {escape(event['label'])}</title></text>"
        )
    return "".join(out)


def label_layout(labels: list[tuple[float, int]]) -> list[tuple[float, int | None]]:
    """Where each label (marker x, characters) goes: (left x, row), row None when no row has
    room. A label starts just right of its marker, or ends just left of it near the right
    edge; it takes the first row whose last label ends before it starts."""
    ends: list[float] = [float("-inf")] * LABEL_ROWS
    placed: list[tuple[float, int | None]] = []
    for px, chars in labels:
        width = chars * LABEL_CHAR_PX
        x0 = px + 2 if px + 2 + width <= LEFT + PLOT else px - 2 - width
        row = next((r for r in range(LABEL_ROWS) if ends[r] + LABEL_GAP_PX <= x0), None)
        if row is not None:
            ends[row] = x0 + width
        placed.append((x0, row))
    return placed


def _share_panel(
    series: list[dict[str, Any]], x: Any, width: float, top: float, h: float, _r: Any
) -> str:
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
        + _axis(top, h, [(0.0, "100 %"), (0.5, "50 %"), (1.0, "0 %")], "blue")
    )


def _axis(top: float, h: float, ticks: list[tuple[float, str]], unit: str = "") -> str:
    """Gridlines with labels; ``ticks`` are (fraction from the top, label)."""
    out = []
    for fraction, label in ticks:
        py = top + h * fraction
        out.append(
            f'<line x1="{LEFT}" y1="{py:.1f}" x2="{LEFT + PLOT}" y2="{py:.1f}" stroke="#ddd" '
            f'stroke-width="0.6"/><text x="{LEFT - 4}" y="{py + 3:.1f}" font-size="9" '
            f'text-anchor="end" fill="{GREY}">{label}</text>'
        )
    if unit:
        out.append(
            f'<text x="12" y="{top + h / 2:.1f}" font-size="9" fill="{GREY}" '
            f'transform="rotate(-90 12 {top + h / 2:.1f})" text-anchor="middle">{unit}</text>'
        )
    return "".join(out)


def _latency_panel(
    series: list[dict[str, Any]], x: Any, width: float, top: float, h: float, _r: Any
) -> str:
    values = [p["p99_ms"] for p in series if p["p99_ms"] is not None]
    if not values:
        return ""
    low, high = 1.0, max(2000.0, max(values) * 1.2)
    span = math.log10(high) - math.log10(low)

    def y(ms: float) -> float:
        return top + h - h * (math.log10(max(ms, low)) - math.log10(low)) / span

    grid = [(ms, f"{ms:g}") for ms in (1, 10, 100, 1000, 10000) if ms <= high]
    out = [_axis(top, h, [((y(ms) - top) / h, label) for ms, label in grid], "ms")]
    one_second = y(1000.0)
    out.append(
        f'<line x1="{LEFT}" y1="{one_second:.1f}" x2="{LEFT + PLOT}" y2="{one_second:.1f}" '
        f'stroke="{RED}" stroke-dasharray="6,3" stroke-width="1.2"/>'
        f'<text x="{LEFT + PLOT - 2}" y="{one_second - 3:.1f}" font-size="9" text-anchor="end" '
        f'fill="{RED}">1 s: stalled</text>'
    )
    lines = (
        ("p50_ms", "#555", "1.2", ""),
        ("p95_ms", "#b08800", "1.2", ""),
        ("p99_ms", ORANGE, "1.6", ""),
        ("blue_p99_ms", BLUE, "1", "4,2"),
        ("green_p99_ms", GREEN, "1", "4,2"),
    )
    for key, colour, stroke, dash in lines:
        points = [(x(p["t"] + width / 2), y(p[key])) for p in series if p.get(key) is not None]
        if points:
            out.append(
                f'<polyline points="{_pts(points)}" fill="none" stroke="{colour}" '
                f'stroke-width="{stroke}" stroke-dasharray="{dash}"><title>{key}</title></polyline>'
            )
    legend = "".join(
        f'<tspan fill="{colour}">— {key.replace("_ms", "").replace("_", " ")}  </tspan>'
        for key, colour, _, _ in lines
    )
    out.append(f'<text x="{LEFT + 420}" y="{top - 5}" font-size="10">{legend}</text>')
    return "".join(out)


def _rate_panel(
    series: list[dict[str, Any]], x: Any, width: float, top: float, h: float, report: Any
) -> str:
    target = report.options.rps
    peak = max([p["sent_per_s"] for p in series] + [target]) * 1.15
    out = [
        _axis(
            top, h, [(0.0, f"{peak:,.0f}"), (1 - target / peak, f"{target:g}"), (1.0, "0")], "req/s"
        )
    ]
    points = [(x(p["t"] + width / 2), top + h - h * p["sent_per_s"] / peak) for p in series]
    out.append(
        f'<polyline points="{_pts(points)}" fill="none" stroke="{BLUE}" stroke-width="1.3"/>'
    )
    target_y = top + h - h * target / peak
    out.append(
        f'<line x1="{LEFT}" y1="{target_y:.1f}" x2="{LEFT + PLOT}" y2="{target_y:.1f}" '
        f'stroke="#333" stroke-dasharray="5,3"/>'
    )
    cpu = [
        (x(p["t"] + width / 2), top + h - h * p["cpu"] / 100)
        for p in series
        if p["cpu"] is not None
    ]
    if cpu:
        out.append(
            f'<polyline points="{_pts(cpu)}" fill="none" stroke="#999" stroke-width="1" '
            'stroke-dasharray="2,2"><title>machine CPU % (0-100 on the same height)</title>'
            "</polyline>"
        )
    out.append(
        f'<text x="{LEFT + 420}" y="{top - 5}" font-size="10"><tspan fill="{BLUE}">— achieved'
        '  </tspan><tspan fill="#333">-- target  </tspan><tspan fill="#999">·· CPU % (of 100)'
        "</tspan></text>"
    )
    return "".join(out)


def _error_panel(
    series: list[dict[str, Any]], x: Any, width: float, top: float, h: float, _r: Any
) -> str:
    peak = max([p["blue_errors"] + p["green_errors"] + p["failed"] for p in series] + [1])
    out = [_axis(top, h, [(0.0, str(peak)), (1.0, "0")], "per bucket")]
    for p in series:
        x0, x1 = x(p["t"]), x(p["t"] + width)
        base = top + h
        other = p["failed"] + p["bad_reads"] - p["blue_errors"] - p["green_errors"]
        for value, colour, who in (
            (p["blue_errors"], BLUE, "blue"),
            (p["green_errors"], GREEN, "green"),
            (max(other, 0), RED, "no answer"),
        ):
            if value:
                bar = h * value / peak
                base -= bar
                out.append(
                    f'<rect x="{x0:.1f}" y="{base:.1f}" width="{max(x1 - x0, 1):.1f}" '
                    f'height="{bar:.1f}" fill="{colour}"><title>{p["t"]:g}-{p["t"] + width:g}s: '
                    f"{value} on {who} ({p['failed']} failed, {p['bad_reads']} bad reads)</title>"
                    "</rect>"
                )
    if len(out) == 1:
        out.append(
            f'<text x="{LEFT + PLOT / 2}" y="{top + h / 2 + 4}" font-size="12" '
            f'text-anchor="middle" fill="{GREEN}">none</text>'
        )
    out.append(
        f'<text x="{LEFT + 420}" y="{top - 5}" font-size="10"><tspan fill="{BLUE}">■ on blue  '
        f'</tspan><tspan fill="{GREEN}">■ on green  </tspan><tspan fill="{RED}">■ no answer'
        "</tspan></text>"
    )
    return "".join(out)


def _pts(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{px:.1f},{py:.1f}" for px, py in points)


def _tick_step(end: float) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300):
        if end / step <= 12:
            return float(step)
    return 600.0
