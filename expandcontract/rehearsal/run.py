"""Run a whole rehearsal: set the stage, play the story under load, check, report, clean up.

Everything started here (database, app processes, router, load threads, work directory) is
registered on one :class:`~expandcontract.rehearsal.cleanup.Cleanup` *before* it is created
(signals wait while it is), so it is stopped and removed however the run ends: success,
failure, an exception, Ctrl-C (even during start-up) or SIGTERM. The report and the error
raised on interruption say what, if anything, is left behind.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from expandcontract.backfill.errors import BackfillInterrupted
from expandcontract.errors import ExpandContractError
from expandcontract.rehearsal.cleanup import Cleanup, Interrupts, RehearsalInterrupted
from expandcontract.rehearsal.consistency import check_written_customers, quarantined_rows
from expandcontract.rehearsal.context import MachineMonitor, run_context
from expandcontract.rehearsal.customers import CustomerRegistry
from expandcontract.rehearsal.database import rehearsal_database
from expandcontract.rehearsal.html import render_html
from expandcontract.rehearsal.load import LoadGenerator
from expandcontract.rehearsal.migrations import alembic_config, create_v1_schema
from expandcontract.rehearsal.options import RehearsalOptions
from expandcontract.rehearsal.probes import run_probes
from expandcontract.rehearsal.progress import StoryProgress
from expandcontract.rehearsal.report import Consistency, RehearsalReport, build_report
from expandcontract.rehearsal.router import WeightedRouter
from expandcontract.rehearsal.seed import seed_customers
from expandcontract.rehearsal.servers import AppServer
from expandcontract.rehearsal.stage import Stage
from expandcontract.rehearsal.state_probe import StateRehearsal
from expandcontract.rehearsal.timeline import Timeline


def run_rehearsal(options: RehearsalOptions, console: Console | None = None) -> RehearsalReport:
    """Play the address-split story under load and return the report (also written to
    ``options.report_path`` when set). Raises for set-up problems and
    :class:`RehearsalInterrupted` on SIGINT/SIGTERM (after cleaning up; its ``leftovers``
    lists anything that could not be removed); a story step that fails ends the story early
    and is reported as such."""
    console = console or Console()
    wall_start = time.monotonic()
    cleanup = Cleanup()
    with Interrupts() as interrupts:
        try:
            report = _run(options, console, cleanup, interrupts)
        except RehearsalInterrupted as interrupted:
            interrupts.shield()
            interrupted.leftovers = cleanup.close()
            raise
        except BackfillInterrupted:
            # Ctrl-C while the backfill ran (it catches SIGINT to stop cleanly).
            interrupts.shield()
            stopped = RehearsalInterrupted(2)
            stopped.leftovers = cleanup.close()
            raise stopped from None
        except BaseException:
            interrupts.shield()
            cleanup.close()
            raise
        interrupts.shield()
        report.leftovers = cleanup.close()
        report.removed = cleanup.removed()
        report.wall_seconds = time.monotonic() - wall_start
    if options.report_path is not None:
        options.report_path.write_text(render_html(report), encoding="utf-8")
    return report


def _run(
    options: RehearsalOptions, console: Console, cleanup: Cleanup, interrupts: Interrupts
) -> RehearsalReport:
    started_at = datetime.now(UTC)
    timeline = Timeline()
    registry = CustomerRegistry(options.seed)
    aborted: str | None = None
    consistency = Consistency()
    progress = StoryProgress(console, timeline)
    where = "an embedded PostgreSQL" if options.database_url is None else "a scratch database"
    progress.note(f"starting {where}")
    with interrupts.deferred():
        database = cleanup.enter(
            "database", rehearsal_database(options.database_url), lambda: database.gone()
        )
        cleanup.entries[-1].what = database.description
    url = database.url
    if database.name is not None:
        progress.note(f"scratch database {database.name} (dropped at the end)")
    with interrupts.deferred():
        workdir = Path(tempfile.mkdtemp(prefix="ec-rehearsal-"))
        cleanup.callback(
            f"the work directory {workdir}",
            lambda: shutil.rmtree(workdir, ignore_errors=True),
            lambda: not workdir.exists(),
        )
    config = alembic_config(url, options.soak)
    revision = create_v1_schema(config)
    malformed = seed_customers(url, options.rows, registry, options.seed)
    progress.note(
        f"v1 schema ({revision}) with {options.rows:,} customers, {malformed} of them with "
        "addresses no parser can split"
    )
    progress.note("starting the shared services (moto's server for SQS/S3, Redis)")
    with interrupts.deferred():
        state = cleanup.enter(
            "the state services (moto's server, redis-server, consumers)",
            StateRehearsal(workdir, naive=options.naive, rows=options.rows),
            lambda: state.stopped,
        )
    if state.figures.note:
        progress.warn(state.figures.note)
    blue = AppServer("blue", url, workdir, state.env)
    with interrupts.deferred():
        cleanup.callback("the blue release (gunicorn)", blue.stop, lambda: not blue.running)
        blue.start()
    blue.wait_healthy()
    with interrupts.deferred():
        router = cleanup.enter("", WeightedRouter({"blue": blue.port}), lambda: True)
    router.set_weights(blue=100)
    progress.note(f"blue on :{blue.port}, router on :{router.port}, load {options.rps:g} rps")
    stage = Stage(
        options, url, config, workdir, timeline, progress, registry, router, blue,
        deferred=interrupts.deferred, server_env=state.env, state=state,
    )  # fmt: skip
    cleanup.callback(
        "the green release (gunicorn)",
        lambda: stage.green.stop() if stage.green else None,
        lambda: stage.green is None or not stage.green.running,
    )
    context = run_context(url, options)
    monitor = MachineMonitor(timeline)
    load = LoadGenerator(
        router.url,
        registry,
        timeline.add_sample,
        rps=options.rps,
        started_at=timeline.started_at,
        seed=options.seed,
        green_url=lambda: stage.green.url if stage.green and stage.green_ready else None,
        bad_share=options.bad_address_share,
    )
    cleanup.callback("", load.stop, lambda: True)
    cleanup.callback("", monitor.stop, lambda: True)
    cleanup.enter("", progress, lambda: True)
    cleanup.enter("", progress.library_logs(), lambda: True)
    monitor.start()
    load.start()
    state.start(stage)
    try:
        _play(stage)
    except ExpandContractError as err:
        aborted = str(err).splitlines()[0]
        progress.warn(f"the story stopped: {err}")
    load.stop()
    monitor.stop()
    timeline.end()
    progress.pause()
    if stage.green is not None and stage.green.running:
        progress.note("checking every customer written during the run through green")
        consistency = check_written_customers(stage.green.url, registry)
    else:
        consistency.error = "green is not running"
    if not options.naive:
        consistency.quarantined = quarantined_rows(url)
        stage.quarantine.converted_later = sum(
            1 for q in consistency.quarantined if str(q["resolution"]).startswith("converted")
        )
    probes = run_probes(stage)
    context["machine"] = monitor.summary()
    return build_report(
        timeline,
        mode="naive" if options.naive else "safe",
        started_at=started_at,
        options=options,
        consistency=consistency,
        aborted=aborted,
        context=context,
        probes=probes,
        quarantine=None if options.naive else stage.quarantine,
    )


def _play(stage: Stage) -> None:
    if stage.options.naive:
        from expandcontract.rehearsal.naive import play_naive

        play_naive(stage)
    else:
        from expandcontract.rehearsal.story import play_safe

        play_safe(stage)
