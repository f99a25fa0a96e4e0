"""The same story the way the article's scripts do it, to show what breaks.

- expand: ``ALTER TABLE`` with no lock timeout (it queues behind the reporting query and every
  app query queues behind it) and no sync trigger (blue's writes never reach the new columns,
  green's never reach the old one);
- migrate: one ``UPDATE`` over the whole table in one transaction (one malformed row aborts it
  all, so nothing is migrated);
- contract: right after the first shift, no guard, no soak, while blue is still the rollback
  target; the rollback then sends traffic to a blue that cannot work any more.
"""

from __future__ import annotations

import time

import psycopg
from alembic.script import ScriptDirectory

from expandcontract.enforcement import TRIGGER_NAMES
from expandcontract.rehearsal.migrations import LongReport
from expandcontract.rehearsal.seed import libpq_dsn
from expandcontract.rehearsal.stage import Stage

ADD_COLUMNS = (
    "ALTER TABLE customers ADD COLUMN street_address varchar(255), "
    "ADD COLUMN city varchar(100), ADD COLUMN state varchar(2), ADD COLUMN zip_code varchar(10)"
)
ONE_SHOT_BACKFILL = (
    "UPDATE customers SET street_address = trim(split_part(address, ',', 1)), "
    "city = trim(split_part(address, ',', 2)), state = trim(split_part(address, ',', 3)), "
    "zip_code = trim(split_part(address, ',', 4))"
)
DROP_OLD = "ALTER TABLE customers DROP COLUMN address"


def play_naive(stage: Stage) -> None:
    # The naive team has no expandcontract: the server-side guard the seed's migration run
    # installed would refuse the early DROP, so it goes first.
    _execute(stage, *(f"DROP EVENT TRIGGER IF EXISTS {name}" for name in TRIGGER_NAMES))
    stage.v1_live()
    expand(stage)
    migrate(stage)
    stage.deploy_green()
    stage.shift("shift")
    contract(stage)
    stage.roll_back(check_blue=False)
    stage.shift("shift again")
    stage.retire_blue()


def _execute(stage: Stage, *statements: str) -> tuple[float, str | None]:
    """Run statements in one transaction, psql-style; (seconds, error message or None)."""
    started = time.monotonic()
    try:
        with psycopg.connect(libpq_dsn(stage.url)) as connection:
            for statement in statements:
                connection.execute(statement)  # type: ignore[arg-type]
    except psycopg.Error as err:
        return time.monotonic() - started, str(err).strip().splitlines()[0]
    return time.monotonic() - started, None


def expand(stage: Stage) -> None:
    p = stage.progress
    p.begin("expand", "naive: ALTER TABLE with no lock timeout, no sync trigger")
    seconds = stage.options.report_seconds
    with LongReport(stage.url, seconds):
        p.note(f"a reporting query holds a lock on customers for {seconds:g}s", event=True)
        waited, error = _execute(stage, ADD_COLUMNS, *parse_function_sql(stage))
    if error:
        p.warn(f"expand failed: {error}")
        stage.note_phase(f"expand failed: {error}")
    else:
        p.note(f"ALTER TABLE waited {waited:.1f}s for its lock; all traffic queued behind it")
        stage.note_phase(f"ALTER TABLE queued {waited:.1f}s behind a report query")
    stage.hold()


def migrate(stage: Stage) -> None:
    p = stage.progress
    p.begin("migrate", "naive: one UPDATE over the whole table, one transaction")
    _, error = _execute(stage, ONE_SHOT_BACKFILL)
    record = stage.timeline.phases[-1]
    record.rows_quarantined = 0
    if error:
        record.rows_migrated = 0
        p.warn(f"one-shot backfill aborted, 0 rows migrated: {error}")
        stage.note_phase(f"backfill aborted by one bad row: {error}")
        p.warn("the script carries on with the deploy, like the article's")
    else:
        record.rows_migrated = stage.options.rows
        p.note("one-shot backfill done")
    stage.hold()


def contract(stage: Stage) -> None:
    p = stage.progress
    p.begin("contract", "naive: drop address right after the shift, no soak, no guard")
    waited, error = _execute(stage, DROP_OLD)
    if error:
        p.warn(f"contract failed: {error}")
        stage.note_phase(f"contract failed: {error}")
    else:
        stage.registry.contracted = True
        p.note(
            f"address dropped after {waited:.1f}s; blue can no longer serve",
            event=True,
            kind="guard",
        )
        stage.note_phase("dropped address while blue was still the rollback target")
    stage.hold()


def parse_function_sql(stage: Stage) -> list[str]:
    """The address parse function green's code calls for flat input (not a sync trigger), with
    the helpers it calls.

    Taken from the reference expand revision's split pattern, so the naive story gives green
    what its code needs and differs from the safe story only in the ways the article's
    scripts do.
    """
    from expandcontract.ops.patterns.split_column import SplitColumn

    script = ScriptDirectory.from_config(stage.config)
    for revision in script.walk_revisions():
        for value in vars(revision.module).values():
            if isinstance(value, SplitColumn):
                return [*(f.create_sql() for f in value.helpers), value.parse.create_sql()]
    return []
