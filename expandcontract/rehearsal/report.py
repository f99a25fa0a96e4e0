"""The rehearsal's results: one JSON-able document, the per-phase table, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from expandcontract.rehearsal.state_report import LOSS_KEYS, state_reasons, state_table
from expandcontract.rehearsal.timeline import PhaseStats, Timeline


@dataclass
class Consistency:
    """The end-of-run check: every customer written during the run, read back through green."""

    checked: int = 0
    mismatches: list[str] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "mismatch_count": len(self.mismatches),
            "mismatches": self.mismatches[:50],
            "quarantined": self.quarantined,
            "error": self.error,
        }


@dataclass
class RehearsalReport:
    """Everything the table, the HTML page and the tests read."""

    mode: str
    started_at: datetime
    options: dict[str, Any]
    phases: list[PhaseStats]
    totals: PhaseStats
    consistency: Consistency
    series: list[dict[str, Any]]
    phase_spans: list[dict[str, Any]]
    events: list[dict[str, Any]]
    failures: list[str]
    aborted: str | None = None
    state: dict[str, Any] | None = None  # sessions, cache, messages, objects, flags

    @property
    def reasons(self) -> list[str]:
        """Why the rehearsal did not prove a zero-downtime migration (empty when it did)."""
        reasons = []
        if self.aborted:
            reasons.append(f"the story stopped early: {self.aborted}")
        if self.totals.shed:
            reasons.append(
                f"{self.totals.shed} request(s) were never sent: the machine could not keep up "
                "with the load, so the proof is incomplete (try a lower --rps)"
            )
        if self.totals.failed:
            reasons.append(f"{self.totals.failed} failed request(s)")
        if self.totals.bad_reads:
            reasons.append(f"{self.totals.bad_reads} read(s) returned data other than written")
        if self.consistency.error:
            reasons.append(f"consistency check could not run: {self.consistency.error}")
        if self.consistency.mismatches:
            reasons.append(
                f"{len(self.consistency.mismatches)} customer(s) read back wrong through green"
            )
        reasons.extend(state_reasons(self.state))
        return reasons

    @property
    def ok(self) -> bool:
        return not self.reasons

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "ok": self.ok,
            "reasons": self.reasons,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "duration_seconds": self.totals.seconds,
            "options": self.options,
            "phases": [p.to_dict() for p in self.phases],
            "totals": self.totals.to_dict(),
            "consistency": self.consistency.to_dict(),
            "failures": self.failures,
            "state": self.state,
            **{key: (self.state or {}).get(key) for key in LOSS_KEYS},
            "timeline": {
                "series": self.series,
                "phases": self.phase_spans,
                "events": self.events,
            },
        }


def build_report(
    timeline: Timeline,
    *,
    mode: str,
    started_at: datetime,
    options: dict[str, Any],
    consistency: Consistency,
    aborted: str | None = None,
    state: dict[str, Any] | None = None,
) -> RehearsalReport:
    return RehearsalReport(
        mode=mode,
        started_at=started_at,
        options=options,
        phases=timeline.phase_stats(),
        totals=timeline.totals(),
        consistency=consistency,
        series=timeline.buckets(),
        phase_spans=[
            {"name": p.name, "start": round(p.start, 3), "end": round(p.end or p.start, 3)}
            for p in timeline.phases
        ],
        events=[{"t": round(t, 3), "label": label} for t, label in timeline.events],
        failures=failure_kinds(timeline),
        aborted=aborted,
        state=state,
    )


def failure_kinds(timeline: Timeline, limit: int = 20) -> list[str]:
    """Failed requests and bad reads grouped by kind: count, phase and the first example."""
    groups: dict[str, list[Any]] = {}
    for sample in sorted(timeline.snapshot(), key=lambda s: s.at):
        if sample.failed or sample.bad_read:
            kind = sample.kind_of_failure or sample.detail
            groups.setdefault(kind, [0, sample])[0] += 1
    phases = timeline.phases
    lines = []
    for kind, (count, first) in sorted(groups.items(), key=lambda g: -g[1][0]):
        phase = next((p.name for p in reversed(phases) if p.start <= first.at), "-")
        lines.append(f"{count:>5} x {kind} (first at {first.at:.1f}s in {phase}: {first.detail})")
    return lines[:limit]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


COLUMNS = (
    "phase", "s", "requests", "failed", "bad reads", "stalled", "p50 ms", "p99 ms", "blue",
    "green", "migrated", "quarantined",
)  # fmt: skip
# For terminals under ~130 columns; a legend line explains them.
SHORT = {"requests": "req", "failed": "fail", "bad reads": "bad", "stalled": "stall",
         "p50 ms": "p50", "p99 ms": "p99", "migrated": "migr", "quarantined": "quar"}  # fmt: skip
LEGEND = (
    "bad = bad reads (a 200 with other data than written), stall = requests slower than 1 s, "
    "p50/p99 in ms, migr/quar = rows migrated/quarantined"
)


def phase_table(report: RehearsalReport, *, compact: bool = False) -> Table:
    """The per-phase table printed at the end (and mirrored in the HTML page)."""
    title = "Rehearsal" + (" (naive: the article's way)" if report.mode == "naive" else "")
    table = Table(
        title=title,
        title_justify="left",
        show_footer=True,
        box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD,
        pad_edge=not compact,
        padding=(0, 0) if compact else (0, 1),  # compact: the box draws a space between
        show_edge=not compact,
    )
    totals = _cells(report.totals)
    for name, footer in zip(COLUMNS, totals, strict=True):
        header = SHORT.get(name, name) if compact else name
        justify = "left" if name == "phase" else "right"
        table.add_column(
            header,
            justify=justify,  # type: ignore[arg-type]
            footer=footer,
            no_wrap=True,
            min_width=len(header),
        )
    for row in report.phases:
        style = "red" if row.failed or row.bad_reads else None
        table.add_row(*_cells(row), style=style)
    return table


def _cells(row: PhaseStats) -> list[str]:
    return [
        row.phase,
        f"{row.seconds:.0f}" if row.seconds >= 100 else f"{row.seconds:.1f}",
        f"{row.requests:,}",
        f"{row.failed:,}",
        f"{row.bad_reads:,}",
        f"{row.stalled:,}",
        _ms(row.p50_ms),
        _ms(row.p99_ms),
        f"{row.blue_share:.0%}" if row.requests else "-",
        f"{row.green_share:.0%}" if row.requests else "-",
        _count(row.rows_migrated),
        _count(row.rows_quarantined),
    ]


def print_summary(report: RehearsalReport, console: Console, report_path: str | None) -> None:
    """The table, the consistency check, the first failures and the verdict."""
    compact = console.width < 130
    console.print(phase_table(report, compact=compact))
    if compact:
        console.print(f"[dim]{LEGEND}[/dim]")
    for row in report.phases:
        if row.note:
            console.print(f"  {row.phase}: {row.note}", highlight=False)
    c = report.consistency
    console.print(
        f"consistency: {c.checked:,} customers written during the run read back through green, "
        f"{len(c.mismatches):,} mismatch(es)" + (f" (check failed: {c.error})" if c.error else "")
    )
    for line in c.mismatches[:5]:
        console.print(f"  [red]{escape(line)}[/red]", highlight=False)
    if c.quarantined:
        console.print(f"quarantined rows ({len(c.quarantined)}), original values kept:")
        for entry in c.quarantined[:10]:
            console.print(
                f"  id {entry['id']}: {escape(repr(entry['value']))} - {escape(entry['reason'])}",
                highlight=False,
            )
    if report.state:
        console.print(state_table(report.state, compact=compact))
        for line in [report.state["note"], *report.state["examples"][:6]]:
            if line:
                console.print(f"  {escape(line)}", highlight=False)
    if report.failures:
        console.print("first failures:")
        for line in report.failures[:8]:
            console.print(f"  [red]{escape(line)}[/red]", highlight=False)
    if report_path:
        console.print(f"report: {report_path}")
    if report.ok:
        console.print(
            "[bold green]zero failed requests, zero data mismatches: the migration was "
            "zero-downtime[/bold green]"
        )
    else:
        console.print("[bold red]NOT zero-downtime:[/bold red] " + "; ".join(report.reasons))
