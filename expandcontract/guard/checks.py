"""The contract guard's conditions, each a small named check paired with its offline SQL.

Online, a check reads :class:`Facts` (gathered once from the ledger, with the database's clock)
and returns its reasons. Offline, the same check is a PL/pgSQL fragment inside the script's
guard block that raises ``[name] reason``: the database decides when the script runs. One test
(``tests/guard/test_verdict_parity.py``) holds the two to the same verdict on every condition.

Inside the block, ``stable`` is the latest ``release_stable`` row (id, release, stable_at,
soak_seconds, usage, recorded_at, migrated) and ``problem`` a scratch text variable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from expandcontract.durations import format_duration
from expandcontract.ledger import QUALIFIED, Entry, StableMark
from expandcontract.usage import removed_in_use


@dataclass(frozen=True)
class Removal:
    """Something a revision takes away (the :func:`expandcontract.sql.removes` definition)."""

    revision: str
    kind: str
    table: str
    column: str | None = None

    def describe(self) -> str:
        target = f"{self.table}.{self.column}" if self.column else self.table
        return f"{self.kind.replace('_', ' ')} {target}"


@dataclass(frozen=True)
class Plan:
    """What the pending contract is, worked out from the revision files (no database)."""

    revisions: list[str]
    dependencies: list[str]  # expand/migrate revisions the pending ones depend on
    undeclared: list[str]  # pending revisions with an empty depends_on
    removed: list[Removal]
    unseen: list[str]  # pending revisions we cannot render or see into
    require_snapshot: bool
    minimum_soak: timedelta


@dataclass(frozen=True)
class Facts:
    """What the ledger says, read once, with the database's clock."""

    plan: Plan
    mark: StableMark
    now: datetime
    schema_changes: list[Entry]  # every phase_applied that is not contract
    applied: dict[str, Entry]  # revision -> its latest phase_applied
    contract_reverts: list[Entry]
    last_deployed: Entry | None
    snapshot: Entry | None
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    name: str
    online: Callable[[Facts], list[str]]
    offline: Callable[[Plan], str]


def _q(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def _array(values: Sequence[str]) -> str:
    return "ARRAY[" + ", ".join(_q(v) for v in values) + "]::text[]"


def _raise(name: str, message: str, *args: str) -> str:
    rest = "".join(f", {a}" for a in args)
    return f"RAISE EXCEPTION '%: [{name}] {message}', prefix{rest};"


# -- 1. the mark is one the guard can trust --------------------------------------------------


def _trusted_online(f: Facts) -> list[str]:
    if f.mark.migrated:
        return [
            f"the stable mark of release {f.mark.release} was copied from the old "
            "public ledger, which any role could write: mark the release stable again"
        ]
    if f.mark.stable_at > f.mark.recorded.recorded_at:
        return [
            f"release {f.mark.release} was marked stable since "
            f"{f.mark.stable_at.isoformat(timespec='seconds')}, later than the moment the mark "
            "was recorded: mark it again"
        ]
    return []


def _trusted_offline(plan: Plan) -> str:
    return f"""
    IF stable.migrated OR stable.stable_at > stable.recorded_at THEN
        {_raise("trusted_mark", "the stable mark of release % cannot be trusted (copied from the old public ledger, or stable since a time after it was recorded): mark it again", "stable.release")}
    END IF;"""


# -- 2. the stable release ran on the whole expanded schema -----------------------------------


def _after_schema_online(f: Facts) -> list[str]:
    late = [
        e for e in f.schema_changes if e.id > f.mark.recorded.id or e.recorded_at > f.mark.stable_at
    ]
    if not late:
        return []
    latest = max(late, key=lambda e: e.recorded_at)
    return [
        f"release {f.mark.release} was marked stable since "
        f"{f.mark.stable_at.isoformat(timespec='seconds')}, before {latest.phase or 'unphased'} "
        f"revision {latest.revision} was applied at "
        f"{latest.recorded_at.isoformat(timespec='seconds')}: it never ran on the expanded "
        "schema; mark it stable again once it has"
    ]


def _after_schema_offline(plan: Plan) -> str:
    return f"""
    SELECT string_agg(l.revision, ', ') INTO problem FROM {QUALIFIED} l
     WHERE l.event = 'phase_applied' AND l.phase IS DISTINCT FROM 'contract'
       AND (l.id > stable.id OR l.recorded_at > stable.stable_at);
    IF problem IS NOT NULL THEN
        {_raise("mark_after_schema", "release % was marked stable before revisions % were applied: it never ran on the expanded schema", "stable.release", "problem")}
    END IF;"""


def _dependencies_online(f: Facts) -> list[str]:
    return [
        f"revision {rev} that the contract depends on has not been "
        "applied: apply it, let the new release run on it, then mark it stable"
        for rev in f.plan.dependencies
        if rev not in f.applied
    ]


def _dependencies_offline(plan: Plan) -> str:
    return f"""
    SELECT string_agg(d.rev, ', ') INTO problem FROM unnest({_array(plan.dependencies)}) AS d(rev)
     WHERE NOT EXISTS (SELECT 1 FROM {QUALIFIED} l
                        WHERE l.event = 'phase_applied' AND l.revision = d.rev);
    IF problem IS NOT NULL THEN
        {_raise("dependencies_applied", "revisions % that the contract depends on have not been applied", "problem")}
    END IF;"""


def _declared_online(f: Facts) -> list[str]:
    return [
        f"contract revision {rev} has an empty depends_on: name the "
        "expand/migrate revisions it finishes, so the guard knows what must have soaked"
        for rev in f.plan.undeclared
    ]


def _declared_offline(plan: Plan) -> str:
    if not plan.undeclared:
        return ""
    revs = _q(", ".join(plan.undeclared))
    return f"""
    {_raise("depends_on_declared", "contract revisions % have an empty depends_on", revs)}"""


def _not_reverted_online(f: Facts) -> list[str]:
    return [
        f"contract revision {e.revision} was downgraded after release "
        f"{f.mark.release} was marked stable (ledger #{e.id}): the old release may have written "
        "again; mark the release stable again after a new soak"
        for e in f.contract_reverts
        if e.id > f.mark.recorded.id
    ]


def _not_reverted_offline(plan: Plan) -> str:
    return f"""
    SELECT string_agg(l.revision, ', ') INTO problem FROM {QUALIFIED} l
     WHERE l.event = 'phase_reverted' AND l.phase = 'contract' AND l.id > stable.id;
    IF problem IS NOT NULL THEN
        {_raise("contract_not_reverted", "contract revisions % were downgraded after release % was marked stable", "problem", "stable.release")}
    END IF;"""


def _deployed_last_online(f: Facts) -> list[str]:
    deployed = f.last_deployed
    if deployed is None or deployed.release == f.mark.release:
        return []
    return [
        f"release {f.mark.release} is marked stable, but the release deployed "
        f"last is {deployed.release} (ledger #{deployed.id}): mark the release that serves "
        "traffic now"
    ]


def _deployed_last_offline(plan: Plan) -> str:
    return f"""
    SELECT l.release INTO problem FROM {QUALIFIED} l
     WHERE l.event = 'release_deployed' ORDER BY l.id DESC LIMIT 1;
    IF problem IS DISTINCT FROM stable.release AND problem IS NOT NULL THEN
        {_raise("deployed_last", "release % is marked stable, but the release deployed last is %", "stable.release", "problem")}
    END IF;"""


# -- 3. time: the soak, read from the database clock ------------------------------------------


def _soak_online(f: Facts) -> list[str]:
    soak = max(f.mark.soak, f.plan.minimum_soak)
    allowed_at = f.mark.stable_at + soak
    reasons = []
    if f.mark.soak < f.plan.minimum_soak:
        reasons.append(
            f"release {f.mark.release} was marked with a soak of "
            f"{format_duration(f.mark.soak)}, below the configured minimum_soak of "
            f"{format_duration(f.plan.minimum_soak)}"
        )
    if f.now < allowed_at:
        soaked = max(f.now - f.mark.stable_at, timedelta(0))
        reasons.append(
            f"release {f.mark.release} has soaked {format_duration(soaked)} of "
            f"{format_duration(soak)}: contract allowed at "
            f"{allowed_at.isoformat(timespec='seconds')} (in {format_duration(allowed_at - f.now)})"
        )
    return reasons


def _soak_offline(plan: Plan) -> str:
    minimum = plan.minimum_soak.total_seconds()
    return f"""
    IF stable.soak_seconds < {minimum} THEN
        {_raise("soak", "release % was marked with a soak below the configured minimum_soak", "stable.release")}
    END IF;
    IF now() < stable.stable_at + make_interval(secs => greatest(stable.soak_seconds, {minimum})) THEN
        {_raise("soak", "release % is soaking; contract allowed at %", "stable.release", "stable.stable_at + make_interval(secs => greatest(stable.soak_seconds, " + str(minimum) + "))")}
    END IF;"""


# -- 4. nothing the stable release uses goes away ---------------------------------------------


def _usage_online(f: Facts) -> list[str]:
    usage = f.mark.usage
    if usage is None:
        return []
    reasons = [
        f"revision {r.revision} would {r.describe()}, which release {f.mark.release} "
        "(marked stable) still uses"
        for r in f.plan.removed
        if removed_in_use(usage, r.table, r.column)
    ]
    reasons.extend(
        f"revision {rev} cannot be checked against what release {f.mark.release} uses "
        "(it cannot be rendered offline, or runs SQL nobody can see into): refused; override "
        "with --force --reason"
        for rev in f.plan.unseen
    )
    return reasons


def _usage_offline(plan: Plan) -> str:
    pairs = ", ".join(f"({_q(r.table.rsplit('.', 1)[-1])}, {_q(r.column)})" for r in plan.removed)
    removed = (
        f"""
        SELECT string_agg(r.tbl || coalesce('.' || r.col, ''), ', ') INTO problem
          FROM (VALUES {pairs}) AS r(tbl, col)
         WHERE EXISTS (
               SELECT 1 FROM jsonb_each(stable.usage) AS u(name, cols)
                WHERE regexp_replace(u.name, '^.*\\.', '') = r.tbl
                  AND (r.col IS NULL OR u.cols ? r.col));
        IF problem IS NOT NULL THEN
            {_raise("usage", "it removes %, which release % (marked stable) still uses", "problem", "stable.release")}
        END IF;"""
        if plan.removed
        else ""
    )
    unseen = (
        f"""
        {_raise("usage", "revisions % cannot be checked against what release % uses", _q(", ".join(plan.unseen)), "stable.release")}"""
        if plan.unseen
        else ""
    )
    if not removed and not unseen:
        return ""
    return f"""
    IF stable.usage IS NOT NULL THEN{removed}{unseen}
    END IF;"""


# -- 5. a snapshot after the mark, when required ----------------------------------------------


def _snapshot_online(f: Facts) -> list[str]:
    if not f.plan.require_snapshot:
        return []
    if f.snapshot is not None and f.snapshot.id > f.mark.recorded.id:
        return []
    return [
        f"require_snapshot is set and no snapshot was recorded after release "
        f"{f.mark.release} was marked stable: run `expandcontract snapshot`"
    ]


def _snapshot_offline(plan: Plan) -> str:
    if not plan.require_snapshot:
        return ""
    return f"""
    IF NOT EXISTS (SELECT 1 FROM {QUALIFIED} WHERE event = 'snapshot_recorded' AND id > stable.id) THEN
        {_raise("snapshot", "require_snapshot is set and no snapshot was recorded after release % was marked stable", "stable.release")}
    END IF;"""


CHECKS: tuple[Check, ...] = (
    Check("trusted_mark", _trusted_online, _trusted_offline),
    Check("depends_on_declared", _declared_online, _declared_offline),
    Check("dependencies_applied", _dependencies_online, _dependencies_offline),
    Check("mark_after_schema", _after_schema_online, _after_schema_offline),
    Check("contract_not_reverted", _not_reverted_online, _not_reverted_offline),
    Check("deployed_last", _deployed_last_online, _deployed_last_offline),
    Check("soak", _soak_online, _soak_offline),
    Check("usage", _usage_online, _usage_offline),
    Check("snapshot", _snapshot_online, _snapshot_offline),
)

NO_MARK = "no_mark"
