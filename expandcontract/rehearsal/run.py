"""Run a whole rehearsal: set the stage, play the story under load, check, report, clean up.

Everything started here (database, app processes, router, load threads, temporary files) is
registered on one ``ExitStack``, so it is stopped and removed however the run ends, Ctrl-C
included.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import make_url

from expandcontract.backfill.errors import BackfillInterrupted
from expandcontract.errors import ExpandContractError
from expandcontract.rehearsal.consistency import check_written_customers, quarantined_rows
from expandcontract.rehearsal.customers import CustomerRegistry
from expandcontract.rehearsal.database import rehearsal_database
from expandcontract.rehearsal.html import render_html
from expandcontract.rehearsal.load import LoadGenerator
from expandcontract.rehearsal.migrations import alembic_config, create_v1_schema
from expandcontract.rehearsal.options import RehearsalOptions
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
    ``options.report_path`` when set). Raises only for set-up problems; a story step that fails
    ends the story early and is reported as such."""
    console = console or Console()
    started_at = datetime.now(UTC)
    timeline = Timeline()
    registry = CustomerRegistry(options.seed)
    mode = "naive" if options.naive else "safe"
    aborted: str | None = None
    consistency = Consistency()
    with ExitStack() as stack:
        progress = StoryProgress(console, timeline)
        where = "an embedded PostgreSQL" if options.database_url is None else "a scratch database"
        progress.note(f"starting {where}")
        url = stack.enter_context(rehearsal_database(options.database_url))
        if options.database_url is not None:
            progress.note(f"scratch database {make_url(url).database} (dropped at the end)")
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ec-rehearsal-")))
        config = alembic_config(url, options.soak)
        revision = create_v1_schema(config)
        malformed = seed_customers(url, options.rows, registry, options.seed)
        progress.note(
            f"v1 schema ({revision}) with {options.rows:,} customers, {malformed} of them with "
            "addresses no parser can split"
        )
        progress.note("starting the shared services (moto's server for SQS/S3, Redis)")
        state = stack.enter_context(StateRehearsal(workdir, naive=options.naive, rows=options.rows))
        blue = AppServer("blue", url, workdir, state.env)
        stack.callback(blue.stop)
        blue.start()
        blue.wait_healthy()
        router = stack.enter_context(WeightedRouter({"blue": blue.port}))
        router.set_weights(blue=100)
        progress.note(f"blue on :{blue.port}, router on :{router.port}, load {options.rps:g} rps")
        stage = Stage(options, url, config, workdir, timeline, progress, registry, router, blue)
        stage.server_env = state.env
        stack.callback(lambda: stage.green.stop() if stage.green else None)
        load = LoadGenerator(
            router.url,
            registry,
            timeline.add_sample,
            rps=options.rps,
            started_at=timeline.started_at,
            seed=options.seed,
        )
        stack.callback(load.stop)
        stack.enter_context(progress)
        stack.enter_context(progress.library_logs())
        load.start()
        state.start(stage)
        try:
            _play(stage)
        except BackfillInterrupted:
            # Ctrl-C while the backfill ran (it catches SIGINT to stop cleanly): the user
            # wants out, not a report of a story cut short.
            raise KeyboardInterrupt from None
        except ExpandContractError as err:
            aborted = str(err).splitlines()[0]
            progress.warn(f"the story stopped: {err}")
        load.stop()
        timeline.end()
        state_figures = state.stop().to_dict()
        progress.pause()
        if stage.green is not None and stage.green.running:
            progress.note("checking every customer written during the run through green")
            consistency = check_written_customers(stage.green.url, registry)
        else:
            consistency.error = "green is not running"
        if not options.naive:
            consistency.quarantined = quarantined_rows(url)
    report = build_report(
        timeline,
        mode=mode,
        started_at=started_at,
        options=options.to_dict(),
        consistency=consistency,
        aborted=aborted,
        state=state_figures,
    )
    if options.report_path is not None:
        options.report_path.write_text(render_html(report), encoding="utf-8")
    return report


def _play(stage: Stage) -> None:
    if stage.options.naive:
        from expandcontract.rehearsal.naive import play_naive

        play_naive(stage)
    else:
        from expandcontract.rehearsal.story import play_safe

        play_safe(stage)
