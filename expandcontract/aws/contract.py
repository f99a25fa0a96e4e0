"""``contract``, the production path: every precondition checked, printed, then the phase.

1. the guard's conditions (DESIGN §5) hold, except the snapshot, which step 4 provides;
2. green's CloudWatch metrics stayed healthy over the soak window, and no alarm fires;
3. no deployment is in progress;
4. a pre-contract snapshot exists (reused when recorded after the stable mark, else taken);
5. the contract phase runs (through the guard, which records it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from expandcontract.aws.clients import Aws, Echo, Sleep
from expandcontract.aws.codedeploy import active_deployments
from expandcontract.aws.metrics import (
    NOT_ENOUGH_DATA,
    TargetGroupStats,
    Thresholds,
    alarms_firing,
    divergence,
    enough_data,
    window_stats,
)
from expandcontract.aws.records import Records
from expandcontract.aws.snapshot import Snapshot, snapshot_status, take_snapshot
from expandcontract.aws.target import ReleaseTarget
from expandcontract.aws.traffic import roles
from expandcontract.durations import Clock
from expandcontract.errors import ContractRefused
from expandcontract.guard import Verdict
from expandcontract.ledger import Entry, Event, Ledger

Judge = Callable[[], Verdict]
ApplyContract = Callable[[], object]  # its result (what was applied) is not used


def _refuse(records: Records, verdict: Verdict, reasons: list[str]) -> ContractRefused:
    """Record the refusal in the ledger (like the guard does) and build the error to raise."""
    records.record(
        Event.CONTRACT_REFUSED,
        details={
            "reasons": reasons,
            "revisions": verdict.revisions,
            "by": "expandcontract contract",
        },
    )
    return ContractRefused(reasons, verdict.revisions, verdict.allowed_at, verdict.remaining)


def run_contract(
    aws: Aws,
    target: ReleaseTarget,
    records: Records,
    *,
    judge: Judge,
    apply: ApplyContract,
    clock: Clock,
    sleep: Sleep,
    echo: Echo,
    thresholds: Thresholds | None = None,
    snapshot_timeout: timedelta = timedelta(hours=3),
    poll_interval: float = 30.0,
) -> Snapshot | None:
    """Check everything, snapshot, contract. Raise :class:`ContractRefused` (exit 3) if not safe."""
    echo("[1/5] guard: stable mark, soak, expanded schema, schema usage")
    verdict = judge()
    if not verdict.revisions:
        echo("  no pending contract revisions: nothing to do")
        return None
    # A missing snapshot is no obstacle here: step 4 takes it.
    blocking = [r for r in verdict.reasons if r != verdict.snapshot_missing]
    if blocking or verdict.stable is None:
        raise _refuse(records, verdict, blocking or verdict.reasons)
    stable = verdict.stable
    echo(
        f"  release {stable.release} stable since {stable.stable_at.isoformat(timespec='seconds')}"
        f"; pending {', '.join(verdict.revisions)}"
    )

    echo("[2/5] metrics: green over the soak window")
    target.require("prod_listener_arn", "blue_target_group_arn", "green_target_group_arn")
    listener = str(target.prod_listener_arn)
    live = roles(aws, listener, target.target_groups).live
    now = clock()
    stats, periods = window_stats(aws, live, listener, stable.stable_at, now)
    echo(f"  {live}: {stats.describe()}")
    limits = thresholds or Thresholds()
    if not enough_data(stats, limits) and not aws.dry_run:
        # No data is no evidence: a wrong dimension or an idle soak must not pass the gate.
        raise _refuse(
            records,
            verdict,
            [
                f"{NOT_ENOUGH_DATA}: green served {stats.requests:.0f} requests over the soak "
                f"window, fewer than --min-requests {limits.min_requests}"
            ],
        )
    problems = [f"alarm {name}" for name in alarms_firing(aws, target.alarm_names)]
    zero = TargetGroupStats(0.0, 0.0, None)
    problems += divergence(zero, stats, limits)
    # A bad hour inside a long, quiet soak must not be averaged away.
    worst = max(
        (p for p in periods if divergence(zero, p, limits)),
        key=lambda p: p.error_rate,
        default=None,
    )
    if worst is not None and not problems:
        problems.append(f"one period had {worst.describe()}")
    if problems:
        raise _refuse(
            records, verdict, [f"green is not healthy over the soak window: {p}" for p in problems]
        )

    echo("[3/5] deployments: none in progress")
    target.require("codedeploy_app", "codedeploy_group")
    active = active_deployments(aws, str(target.codedeploy_app), str(target.codedeploy_group))
    if active:
        raise _refuse(records, verdict, [f"deployment {', '.join(active)} is in progress"])

    echo("[4/5] snapshot: pre-contract backup")
    snapshot = _reusable_snapshot(aws, records, stable.recorded)
    if snapshot is not None:
        echo(f"  reusing snapshot {snapshot.identifier} recorded after the stable mark")
    else:
        snapshot = take_snapshot(
            aws,
            clock=clock,
            sleep=sleep,
            echo=echo,
            db_instance=None if target.db_cluster_identifier else target.db_instance_identifier,
            db_cluster=target.db_cluster_identifier,
            timeout=snapshot_timeout,
            poll_interval=poll_interval,
        )
        records.record(Event.SNAPSHOT_RECORDED, release=stable.release, details=snapshot.details())

    echo("[5/5] contract: expandcontract upgrade contract")
    if aws.dry_run:
        echo("  [dry-run] would apply " + ", ".join(verdict.revisions))
    else:
        apply()
        echo("  contract applied and recorded in the ledger")
    return snapshot


def _reusable_snapshot(aws: Aws, records: Records, stable: Entry) -> Snapshot | None:
    def latest(ledger: Ledger) -> Entry | None:
        return ledger.latest(Event.SNAPSHOT_RECORDED)

    entry = records.read(latest)
    if entry is None or entry.id < stable.id or not entry.details.get("identifier"):
        return None
    details = entry.details
    snapshot = Snapshot(
        str(details["identifier"]),
        str(details.get("kind", "instance")),
        str(details.get("source", "")),
        details.get("arn"),
    )
    # A snapshot deleted since it was recorded protects nothing.
    return snapshot if snapshot_status(aws, snapshot) == "available" else None
