"""The rehearsal's results: one JSON-able document, the per-phase table, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from expandcontract.rehearsal.operator import QuarantineLog
from expandcontract.rehearsal.options import RehearsalOptions
from expandcontract.rehearsal.probes import ProbeResult
from expandcontract.rehearsal.quarantine_report import rejected_writes, summary_lines
from expandcontract.rehearsal.state_report import state_table
from expandcontract.rehearsal.timeline import WARM_UP, PhaseStats, Timeline


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


# The baseline phase: the v1 release alone, before the migration touches anything. If the
# machine cannot serve the load there, slow or shed requests later prove nothing either way.
BASELINE = "v1 live"
# Below this share of the target rate the load generator could not keep up.
MIN_ACHIEVED = 0.9


@dataclass
class RehearsalReport:
    """Everything the table, the HTML page and the tests read."""

    mode: str
    started_at: datetime
    options: RehearsalOptions
    phases: list[PhaseStats]
    totals: PhaseStats
    consistency: Consistency
    series: list[dict[str, Any]]
    phase_spans: list[dict[str, Any]]
    events: list[dict[str, Any]]
    failures: list[str]
    aborted: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    probes: ProbeResult = field(default_factory=ProbeResult)
    wall_seconds: float = 0.0
    bucket_seconds: float = 0.0
    judged: PhaseStats | None = None  # the totals without the warm-up (see Timeline.judged)
    removed: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    # Addresses the parser rejects: the writes (see quarantine_report) and, in the safe story,
    # the quarantine's history (QuarantineLog.to_dict).
    rejected: dict[str, int] = field(default_factory=dict)
    quarantine: dict[str, Any] | None = None

    @property
    def state(self) -> dict[str, Any] | None:
        """The state probe's details (sessions, cache, messages, objects, flags), if it ran."""
        return self.probes.sections.get("state")

    @property
    def failure_reasons(self) -> list[str]:
        """Failures the machine's load cannot explain: lost or wrong data, errors, a broken story."""
        reasons = []
        if self.aborted:
            reasons.append(f"the story stopped early: {self.aborted}")
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
        reasons.extend(self.probes.problems)
        return reasons

    @property
    def latency_reasons(self) -> list[str]:
        """Users waited: stalled requests, or a p99 over ``--max-p99``."""
        reasons = []
        judged = self.judged or self.totals
        if judged.stalled:
            phases = [p for p in self.phases if p.phase != WARM_UP]
            worst = max(phases, key=lambda p: p.stalled, default=None)
            where = f", most in {worst.phase}" if worst is not None and worst.stalled else ""
            reasons.append(f"{judged.stalled} stalled request(s) (over 1 s{where})")
        p99 = judged.p99_ms
        if p99 is not None and p99 > self.options.max_p99_ms:
            reasons.append(
                f"p99 latency {p99:,.0f} ms is over --max-p99 {self.options.max_p99_ms:g} ms"
            )
        return reasons

    @property
    def saturation_reasons(self) -> list[str]:
        """Signs that the machine, not the migration, limited the run."""
        reasons = []
        target = self.options.rps
        if self.totals.shed:
            reasons.append(
                f"{self.totals.shed} request(s) were never sent: the load generator fell behind"
            )
        achieved = (self.judged or self.totals).achieved_rps
        if achieved < MIN_ACHIEVED * target:
            reasons.append(f"the load generator reached {achieved:g} of {target:g} requests/s")
        baseline = next((p for p in self.phases if p.phase == BASELINE), None)
        if baseline is not None and baseline.requests:
            slow = baseline.p99_ms is not None and baseline.p99_ms > self.options.max_p99_ms
            if slow or baseline.stalled:
                reasons.append(
                    f"before any migration step ({BASELINE}) p99 was {baseline.p99_ms:,.0f} ms "
                    f"with {baseline.stalled} stalled request(s): this machine cannot serve "
                    f"{target:g} requests/s"
                )
        machine = self.context.get("machine") or {}
        if machine.get("saturated") and self.latency_reasons:
            reasons.append(f"the CPU was {machine['cpu_percent_mean']:g} % busy on average")
        return reasons

    @property
    def verdict(self) -> str:
        """``zero-downtime``, ``not zero-downtime`` or ``inconclusive`` (the machine could not
        carry the load, so slow requests prove nothing; try a lower --rps)."""
        if self.failure_reasons:
            return "not zero-downtime"
        if self.saturation_reasons:
            return "inconclusive"
        if self.latency_reasons:
            return "not zero-downtime"
        return "zero-downtime"

    @property
    def reasons(self) -> list[str]:
        """Why the rehearsal did not prove a zero-downtime migration (empty when it did)."""
        if self.verdict == "zero-downtime":
            return []
        return self.failure_reasons + self.latency_reasons + self.saturation_reasons

    @property
    def ok(self) -> bool:
        return self.verdict == "zero-downtime"

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "ok": self.ok,
            "verdict": self.verdict,
            "reasons": self.reasons,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "duration_seconds": round(self.wall_seconds, 1),
            "story_seconds": self.totals.seconds,
            "context": self.context,
            "options": self.options.user_set(),
            "target_rps": self.options.rps,
            "max_p99_ms": self.options.max_p99_ms,
            "phases": [p.to_dict() for p in self.phases],
            "totals": self.totals.to_dict(),
            "judged": (self.judged or self.totals).to_dict(),
            "consistency": self.consistency.to_dict(),
            "rejected_addresses": self.rejected,
            "quarantine": self.quarantine,
            "figures": self.probes.figures,
            # Each probe's details under its own name (``state``) and its figures at the top
            # level too (sessions_lost, messages_unreadable, ...; DESIGN §9), never shadowing
            # a key of the report itself.
            **self.probes.sections,
            **{k: v for k, v in self.probes.figures.items() if k not in REPORT_KEYS},
            "failures": self.failures,
            "cleanup": {"removed": self.removed, "left_behind": self.leftovers},
            "timeline": {
                "bucket_seconds": self.bucket_seconds,
                "series": self.series,
                "phases": self.phase_spans,
                "events": self.events,
            },
        }


# Keys of the report's JSON that a probe's figure may not replace.
REPORT_KEYS = frozenset(
    ("mode", "ok", "verdict", "reasons", "options", "phases", "totals", "consistency", "figures",
     "failures", "cleanup", "timeline", "context", "judged", "state", "rejected_addresses",
     "quarantine")
)  # fmt: skip


def _figure(value: int | None) -> str:
    return "not measured" if value is None else f"{value:,}"


def build_report(
    timeline: Timeline,
    *,
    mode: str,
    started_at: datetime,
    options: RehearsalOptions,
    consistency: Consistency,
    aborted: str | None = None,
    context: dict[str, Any] | None = None,
    probes: ProbeResult | None = None,
    wall_seconds: float = 0.0,
    quarantine: QuarantineLog | None = None,
) -> RehearsalReport:
    series = timeline.buckets()
    return RehearsalReport(
        mode=mode,
        started_at=started_at,
        options=options,
        phases=timeline.phase_stats(),
        totals=timeline.totals(),
        consistency=consistency,
        series=series,
        phase_spans=[
            {"name": p.name, "start": round(p.start, 3), "end": round(p.end or p.start, 3)}
            for p in timeline.phases
        ],
        events=[
            {"t": round(t, 3), "kind": kind, "label": label} for t, kind, label in timeline.events
        ],
        failures=failure_kinds(timeline),
        judged=timeline.judged(),
        aborted=aborted,
        context=context or {},
        probes=probes or ProbeResult(),
        wall_seconds=wall_seconds,
        bucket_seconds=series[1]["t"] - series[0]["t"] if len(series) > 1 else 0.0,
        rejected=rejected_writes(timeline),
        quarantine=None if quarantine is None else quarantine.to_dict(),
    )


def failure_kinds(timeline: Timeline, limit: int = 100) -> list[str]:
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
    "phase", "s", "requests", "failed", "bad reads", "stalled", "p50 ms", "p95 ms", "p99 ms",
    "blue", "green", "migrated", "quarantined",
)  # fmt: skip
# For terminals under ~130 columns; a legend line explains them.
SHORT = {"requests": "req", "failed": "fail", "bad reads": "bad", "stalled": "stall",
         "p50 ms": "p50", "p95 ms": "p95", "p99 ms": "p99", "migrated": "migr", "quarantined": "quar"}  # fmt: skip
LEGEND = (
    "bad = bad reads (a 200 with other data than written), stall = requests slower than 1 s, "
    "p50/p95/p99 in ms, migr/quar = rows migrated/quarantined"
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
        _ms(row.p95_ms),
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
        more = (
            f", first 10 shown (all {len(c.quarantined)} in the report)"
            if len(c.quarantined) > 10
            else ""
        )
        console.print(f"quarantined rows ({len(c.quarantined)}), original values kept{more}:")
        for entry in c.quarantined[:10]:
            console.print(
                f"  id {entry['id']}: {escape(repr(entry['value']))} - {escape(entry['reason'])}",
                highlight=False,
            )
    if report.rejected:
        for line in summary_lines(report.rejected, report.quarantine):
            console.print(escape(line), highlight=False)
    if report.state:
        console.print(state_table(report.state, compact=compact))
        for line in [report.state.get("note"), *report.state.get("examples", [])[:6]]:
            if line:
                console.print(f"  {escape(line)}", highlight=False)
    shown = set(report.state or ())
    for name, value in report.probes.figures.items():
        if name not in shown:
            console.print(f"{name.replace('_', ' ')}: {_figure(value)}", highlight=False)
    if report.failures:
        console.print(f"failures by kind ({len(report.failures)}):")
        for line in report.failures:
            console.print(f"  [red]{escape(line)}[/red]", highlight=False)
    t = report.judged or report.totals
    console.print(
        f"load (after the warm-up): {t.achieved_rps:g} of {report.options.rps:g} requests/s sent; "
        f"p99 {_ms(t.p99_ms)} ms (limit --max-p99 {report.options.max_p99_ms:g} ms); "
        f"run took {report.wall_seconds:.0f}s",
        highlight=False,
    )
    if report.leftovers:
        console.print("[red]left behind:[/red] " + escape("; ".join(report.leftovers)))
    elif report.removed:
        console.print("cleaned up: stopped and removed " + escape(", ".join(report.removed)))
    if report_path:
        console.print(f"report: {report_path}")
    if report.ok:
        console.print(
            "[bold green]zero failed requests, zero data mismatches, no stalls: the migration "
            "was zero-downtime[/bold green]"
        )
    elif report.verdict == "inconclusive":
        console.print(
            "[bold yellow]INCONCLUSIVE (not proven safe): the machine could not carry the "
            "load[/bold yellow]: " + "; ".join(report.reasons) + " (try a lower --rps)"
        )
    else:
        console.print("[bold red]NOT zero-downtime:[/bold red] " + "; ".join(report.reasons))
