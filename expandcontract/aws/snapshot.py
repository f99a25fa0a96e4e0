"""RDS pre-contract snapshots (DB instance or Aurora cluster).

The identifier is computed once, before the first call, so a retried call or a slow wait can
never produce a second, differently named snapshot, and the ledger names the one that exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from expandcontract.aws.clients import Aws, Echo, Sleep
from expandcontract.aws.errors import AwsConfigurationError, AwsError, AwsTimeout
from expandcontract.durations import Clock

ALREADY_EXISTS = {"DBSnapshotAlreadyExists", "DBClusterSnapshotAlreadyExistsFault"}
NOT_FOUND = {"DBSnapshotNotFound", "DBSnapshotNotFoundFault", "DBClusterSnapshotNotFoundFault"}
MAX_IDENTIFIER = 63  # cluster snapshots allow 63 characters, instances 255: use the lower


@dataclass(frozen=True)
class Snapshot:
    identifier: str
    kind: str  # "instance" or "cluster"
    source: str
    arn: str | None = None

    def details(self) -> dict[str, str | None]:
        return {
            "identifier": self.identifier,
            "kind": self.kind,
            "source": self.source,
            "arn": self.arn,
        }


def snapshot_identifier(source: str, at: datetime, prefix: str = "precontract") -> str:
    """A valid RDS snapshot identifier: letters, digits, single hyphens, starts with a letter."""
    stamp = at.strftime("%Y%m%d-%H%M%S")
    base = re.sub(r"[^a-z0-9]+", "-", f"{prefix}-{source}".lower()).strip("-")
    base = base[: MAX_IDENTIFIER - len(stamp) - 1].strip("-")
    identifier = re.sub(r"-{2,}", "-", f"{base}-{stamp}")
    if not identifier[0].isalpha():
        identifier = ("s" + identifier)[:MAX_IDENTIFIER]
    return identifier


def take_snapshot(
    aws: Aws,
    *,
    clock: Clock,
    sleep: Sleep,
    echo: Echo,
    db_instance: str | None = None,
    db_cluster: str | None = None,
    identifier: str | None = None,
    timeout: timedelta = timedelta(hours=3),
    poll_interval: float = 30.0,
    not_before: datetime | None = None,
) -> Snapshot:
    """Create the snapshot and wait (generously) until it is available.

    An existing snapshot of the same identifier is reused only when it was taken of this
    database and not before ``not_before`` (the stable mark): an older one lacks the data
    the contract is about to destroy.
    """
    if bool(db_instance) == bool(db_cluster):
        raise AwsConfigurationError(
            "say which database to snapshot: --db-instance ID or --db-cluster ID (one of them)"
        )
    source = str(db_cluster or db_instance)
    kind = "cluster" if db_cluster else "instance"
    name = identifier or snapshot_identifier(source, clock())
    echo(f"  creating {kind} snapshot {name} of {source}")
    try:
        arn = _create(aws, kind, source, name)
    except AwsError as err:
        # Re-running with the identifier of a snapshot still being taken waits for it again.
        if identifier is None or err.code not in ALREADY_EXISTS:
            raise
        arn = _check_reusable(aws, kind, source, name, not_before)
        echo(f"  snapshot {name} already exists (of {source}, recent enough); waiting for it")
    snapshot = Snapshot(name, kind, source, arn)
    wait_available(
        aws, snapshot, clock=clock, sleep=sleep, timeout=timeout, poll_interval=poll_interval
    )
    echo(f"  snapshot {name} is available")
    return snapshot


def _check_reusable(
    aws: Aws, kind: str, source: str, name: str, not_before: datetime | None
) -> str | None:
    """Refuse an existing snapshot of another database or from before ``not_before``."""
    if kind == "cluster":
        found = aws.rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=name)[
            "DBClusterSnapshots"
        ][0]
        origin, arn = found.get("DBClusterIdentifier"), found.get("DBClusterSnapshotArn")
    else:
        found = aws.rds.describe_db_snapshots(DBSnapshotIdentifier=name)["DBSnapshots"][0]
        origin, arn = found.get("DBInstanceIdentifier"), found.get("DBSnapshotArn")
    if origin != source:
        raise AwsConfigurationError(
            f"snapshot {name} exists but was taken of {origin}, not {source}: refusing to record "
            "it; choose another --identifier"
        )
    taken = found.get("SnapshotCreateTime")
    if not_before is not None and taken is not None and taken < not_before:
        raise AwsConfigurationError(
            f"snapshot {name} was taken at {taken.isoformat(timespec='seconds')}, before the "
            f"stable mark ({not_before.isoformat(timespec='seconds')}): it does not hold what the "
            "contract would destroy; choose another --identifier"
        )
    return str(arn) if arn else None


def _create(aws: Aws, kind: str, source: str, name: str) -> str | None:
    if kind == "cluster":
        created = aws.rds.create_db_cluster_snapshot(
            DBClusterIdentifier=source, DBClusterSnapshotIdentifier=name
        )["DBClusterSnapshot"]
        return created.get("DBClusterSnapshotArn")
    created = aws.rds.create_db_snapshot(DBInstanceIdentifier=source, DBSnapshotIdentifier=name)[
        "DBSnapshot"
    ]
    return created.get("DBSnapshotArn")


def snapshot_status(aws: Aws, snapshot: Snapshot) -> str:
    """``available``, ``creating``, ... or ``missing``."""
    try:
        return _status(aws, snapshot)
    except AwsError as err:
        if err.code in NOT_FOUND:
            return "missing"
        raise


def _status(aws: Aws, snapshot: Snapshot) -> str:
    if snapshot.kind == "cluster":
        found = aws.rds.describe_db_cluster_snapshots(
            DBClusterSnapshotIdentifier=snapshot.identifier
        )["DBClusterSnapshots"]
    else:
        found = aws.rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot.identifier)[
            "DBSnapshots"
        ]
    return str(found[0].get("Status", "unknown")) if found else "missing"


def wait_available(
    aws: Aws,
    snapshot: Snapshot,
    *,
    clock: Clock,
    sleep: Sleep,
    timeout: timedelta,
    poll_interval: float,
) -> None:
    deadline = clock() + timeout
    while True:
        status = snapshot_status(aws, snapshot)
        if status == "available":
            return
        if status in ("failed", "error", "missing", "incompatible-restore"):
            raise AwsError(f"snapshot {snapshot.identifier} is {status}")
        if clock() >= deadline:
            raise AwsTimeout(
                f"snapshot {snapshot.identifier} still {status} after {timeout}; it keeps going "
                f"in RDS: re-run with --identifier {snapshot.identifier} to wait for it again"
            )
        sleep(poll_interval)
