"""``rehearse``: the whole blue-green address split on this machine, under load, with a report."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click

from expandcontract.cli._common import DURATION, translate_errors


@click.command()
@click.option(
    "--database-url",
    default=None,
    help="A PostgreSQL server to rehearse on (a scratch database is created there and dropped "
    "afterwards). Default: an embedded server started for the run and removed after.",
)
@click.option("--rows", default=20_000, show_default=True, help="Customers to seed.")
@click.option("--rps", default=200.0, show_default=True, help="Requests per second of load.")
@click.option(
    "--steps",
    "step_percent",
    default=10,
    show_default=True,
    help="Percent of traffic moved to green per step.",
)
@click.option(
    "--step-seconds",
    default=2.0,
    show_default=True,
    help="How long each traffic step (and each steady phase) holds under load.",
)
@click.option(
    "--soak",
    type=DURATION,
    default="10s",
    show_default=True,
    help="How long green must be stable before contract is allowed (90s, 30m, 24h).",
)
@click.option(
    "--max-p99",
    "max_p99_ms",
    default=500.0,
    show_default=True,
    help="The p99 latency (ms, whole run) above which the run is not zero-downtime. "
    "Any request over 1 s (stalled) fails the run too.",
)
@click.option(
    "--bad-addresses",
    "bad_address_percent",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0, 50),
    help="Percent of written addresses that blue accepts and the parser rejects "
    "('1 Infinite Loop, Cupertino, California, 95014'): green must still show them, the "
    "contract quarantines the late ones and refuses until they are resolved.",
)
@click.option(
    "--report",
    "report_path",
    default="rehearsal-report.html",
    show_default=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the HTML report (self-contained; the data is embedded as JSON).",
)
@click.option(
    "--naive",
    is_flag=True,
    help="Do it the article's way (one-shot backfill, no sync trigger, no lock timeout, "
    "contract right after the shift) and show what breaks.",
)
@translate_errors
def rehearse(
    database_url: str | None,
    rows: int,
    rps: float,
    step_percent: int,
    step_seconds: float,
    soak: timedelta,
    max_p99_ms: float,
    bad_address_percent: float,
    report_path: Path,
    naive: bool,
) -> None:
    """Rehearse a zero-downtime blue-green schema change, end to end, on this machine.

    \b
    Starts PostgreSQL, seeds customers, runs blue and green behind a weighted
    router under load, and walks the story: expand -> migrate -> shift traffic ->
    roll back -> shift again -> mark stable -> contract refused -> soak -> contract
    (refused while quarantined rows are open: resolved with `expandcontract quarantine`).
    Prints a table per phase and writes an HTML report.

    Exit status 0 only with zero failed requests, zero data mismatches, no
    request over 1 s and p99 under --max-p99; 1 otherwise (also when the machine
    could not carry the load: the run is then inconclusive, not safe).
    Interrupted (Ctrl-C, SIGTERM): everything is stopped and removed, exit 130/143.
    """
    from rich.console import Console

    from expandcontract.rehearsal.cleanup import RehearsalInterrupted
    from expandcontract.rehearsal.options import RehearsalOptions
    from expandcontract.rehearsal.report import print_summary
    from expandcontract.rehearsal.run import run_rehearsal

    if not report_path.parent.is_dir():
        raise click.BadParameter(
            f"folder {report_path.parent} does not exist", param_hint="--report"
        )
    options = RehearsalOptions(
        database_url=database_url,
        rows=rows,
        rps=rps,
        step_percent=step_percent,
        step_seconds=step_seconds,
        soak=soak,
        max_p99_ms=max_p99_ms,
        bad_address_share=bad_address_percent / 100,
        report_path=report_path,
        naive=naive,
    )
    console = Console(width=None if Console().is_terminal else 132)
    try:
        report = run_rehearsal(options, console)
    except RehearsalInterrupted as interrupted:
        if interrupted.leftovers:
            console.print(
                f"interrupted ({interrupted}); could not remove: "
                + "; ".join(interrupted.leftovers)
            )
        else:
            console.print(
                f"interrupted ({interrupted}): everything the rehearsal started was stopped "
                "and removed"
            )
        raise SystemExit(interrupted.exit_status) from None
    print_summary(report, console, str(report_path))
    if not report.ok:
        raise SystemExit(1)
