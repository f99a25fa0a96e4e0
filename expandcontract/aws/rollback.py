"""Phase-aware rollback: what is safe depends on how far the release got.

1. A deployment is in progress: stop it with rollback (CodeDeploy moves traffic back).
2. The shift finished and no contract ran since: redeploy the previous task definition through
   CodeDeploy, or, as break-glass, flip the production listener, but only to a target group
   with healthy targets.
3. A contract ran since the release was deployed: the previous release would find its columns
   gone, so refuse and explain the snapshot restore (or, asked to, start it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from expandcontract.aws.budget import budget_for, deployment_group
from expandcontract.aws.clients import Aws, Echo, Sleep
from expandcontract.aws.codedeploy import (
    ROLLBACK_DESCRIPTION,
    active_deployments,
    appspec_content,
    create_deployment,
    is_rollback,
    stop_with_rollback,
)
from expandcontract.aws.errors import (
    AwsConfigurationError,
    AwsError,
    AwsTimeout,
    DeploymentUnfinished,
    RollbackRefused,
)
from expandcontract.aws.records import Records
from expandcontract.aws.restore import restore_cluster, restore_instance
from expandcontract.aws.target import ReleaseTarget
from expandcontract.aws.traffic import flip_listener, roles
from expandcontract.aws.watch import Watch
from expandcontract.durations import Clock
from expandcontract.ledger import Entry, Event, Ledger


@dataclass(frozen=True)
class RollbackState:
    """What the ledger and CodeDeploy say about the current release."""

    active: list[str]
    deployed: Entry | None
    contract: Entry | None
    snapshot: Entry | None

    @property
    def name(self) -> str:
        if self.active:
            return "shifting"
        if self.contract is not None:
            return "contracted"
        return "shifted"


def rollback_state(aws: Aws, target: ReleaseTarget, records: Records) -> RollbackState:
    target.require("codedeploy_app", "codedeploy_group")
    active = active_deployments(aws, str(target.codedeploy_app), str(target.codedeploy_group))

    def read(ledger: Ledger) -> RollbackState:
        deployed = ledger.latest(Event.RELEASE_DEPLOYED)
        contract = ledger.latest(Event.CONTRACT_APPLIED)
        if contract is not None and deployed is not None and contract.id < deployed.id:
            contract = None  # that contract belongs to an earlier release
        return RollbackState(active, deployed, contract, ledger.latest(Event.SNAPSHOT_RECORDED))

    return records.read(read)


def rollback(
    aws: Aws,
    target: ReleaseTarget,
    records: Records,
    *,
    clock: Clock,
    sleep: Sleep,
    echo: Echo,
    listener: bool = False,
    task_definition: str | None = None,
    restore_snapshot: str | None = None,
    restored_identifier: str | None = None,
    timeout: timedelta | None = None,
    poll_interval: float = 15.0,
) -> str:
    """Roll back the way the current state allows; the state name (``shifting``, ...).

    It waits for the deployment that brings the previous release back (CodeDeploy's rollback
    deployment, or the redeployment) and never stops that one: the way back is not undone.
    ``timeout`` defaults to the deployment group's budget.
    """
    state = rollback_state(aws, target, records)
    echo(f"state: {state.name}")
    watch = Watch(
        aws,
        clock,
        sleep,
        echo,
        poll_interval=poll_interval,
        test_listener_arn=target.test_listener_arn,
    )
    if state.name == "shifting":
        wait = timeout or _budget(aws, target)
        deployment_id = ""
        for active in state.active:
            deployment_id = _undo_active(aws, watch, active, wait, clock=clock, echo=echo)
        release = state.deployed.details.get("previous_release") if state.deployed else None
        previous = (
            state.deployed.details.get("previous_task_definition") if state.deployed else None
        )
        records.record(
            Event.RELEASE_DEPLOYED,
            release=str(release or previous or "previous"),
            details={
                "task_definition": previous,
                "deployment_id": deployment_id,
                "rollback": True,
                "stopped": state.active,
            },
        )
        return state.name
    if state.name == "contracted":
        _after_contract(aws, target, state, echo, restore_snapshot, restored_identifier)
        return state.name
    if listener:
        _break_glass(aws, target, echo)
        return state.name
    previous = task_definition or (
        state.deployed.details.get("previous_task_definition") if state.deployed else None
    )
    if not previous:
        raise AwsConfigurationError(
            "the ledger has no deployed release to roll back from: pass --task-definition ARN"
        )
    target.require("container_name", "container_port")
    echo(f"redeploying previous task definition {previous} through CodeDeploy")
    service = _service(aws, target)
    wait = timeout or _budget(aws, target)
    deployment_id = create_deployment(
        aws,
        application=str(target.codedeploy_app),
        group=str(target.codedeploy_group),
        appspec=appspec_content(
            previous, str(target.container_name), int(target.container_port or 0), None, service
        ),
        config_name="CodeDeployDefault.ECSAllAtOnce",
        description=ROLLBACK_DESCRIPTION,
    )
    echo(f"  deployment {deployment_id} created")
    release = state.deployed.details.get("previous_release") if state.deployed else None
    details: dict[str, object] = {
        "task_definition": previous,
        "deployment_id": deployment_id,
        "rollback": True,
    }
    # The same loop as a release: it continues the deployment once it is Ready, or the
    # group's deployment_ready_option would stop it and leave the bad release in place. It
    # is our own way back: never stopped by us, not even at the timeout.
    try:
        watch.deployment(deployment_id, wait, own=True)
    except DeploymentUnfinished as err:
        details.update(confirmed=False, where=err.where)
        records.record(Event.RELEASE_DEPLOYED, release=str(release or previous), details=details)
        raise
    records.record(Event.RELEASE_DEPLOYED, release=str(release or previous), details=details)
    return state.name


def _service(aws: Aws, target: ReleaseTarget) -> dict[str, object]:
    if not (target.cluster and target.service):
        return {}
    found = aws.ecs.describe_services(cluster=target.cluster, services=[target.service])
    services = found.get("services") or []
    return dict(services[0]) if services else {}


def _budget(aws: Aws, target: ReleaseTarget) -> timedelta:
    group = deployment_group(aws, str(target.codedeploy_app), str(target.codedeploy_group))
    budget = budget_for(aws, group, config_name="CodeDeployDefault.ECSAllAtOnce")
    return budget.until_done


def _undo_active(
    aws: Aws, watch: Watch, deployment_id: str, wait: timedelta, *, clock: Clock, echo: Echo
) -> str:
    """Stop one active deployment with rollback and wait for the way back; its id.

    A deployment that is itself a rollback is waited for, never stopped: stopping it would
    send traffic back to the release being rolled back.
    """
    info = aws.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    if is_rollback(info):
        echo(f"deployment {deployment_id} is itself a rollback: waiting for it, not undoing it")
        watch.deployment(deployment_id, wait, own=True, finish=True)
        return deployment_id
    echo(f"stopping deployment {deployment_id} with rollback (traffic returns to blue)")
    try:
        stop_with_rollback(aws, deployment_id)
    except AwsError as err:
        if err.code != "DeploymentAlreadyCompletedException":
            raise
        echo(f"  deployment {deployment_id} had already finished")
    deadline = clock() + wait
    while True:
        info = aws.codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        rollback_id = (info.get("rollbackInfo") or {}).get("rollbackDeploymentId")
        if rollback_id:
            echo(f"  CodeDeploy rollback deployment {rollback_id}: waiting for it")
            watch.deployment(str(rollback_id), wait, own=True, finish=True)
            return str(rollback_id)
        status = info.get("status")
        if status in ("Stopped", "Failed") and clock() >= deadline:
            echo(
                f"  deployment {deployment_id} {status}; CodeDeploy created no rollback deployment"
            )
            return deployment_id
        if clock() >= deadline:
            raise AwsTimeout(
                f"deployment {deployment_id} still {status} after {wait} since the stop; check "
                f"`aws deploy get-deployment --deployment-id {deployment_id}`"
            )
        watch.sleep(watch.poll_interval)


def _break_glass(aws: Aws, target: ReleaseTarget, echo: Echo) -> None:
    target.require("prod_listener_arn", "blue_target_group_arn", "green_target_group_arn")
    listener_arn = str(target.prod_listener_arn)
    current = roles(aws, listener_arn, target.target_groups)
    echo(f"break-glass: checking target health of {current.idle}")
    healthy = flip_listener(aws, listener_arn, current.idle)
    echo(
        f"flipped {listener_arn} to {current.idle} ({len(healthy)} healthy targets). CodeDeploy "
        "does not know: redeploy through `expandcontract rollback` once things are calm."
    )


def _after_contract(
    aws: Aws,
    target: ReleaseTarget,
    state: RollbackState,
    echo: Echo,
    restore_snapshot: str | None,
    restored_identifier: str | None,
) -> None:
    assert state.contract is not None
    snapshot_id = state.snapshot.details.get("identifier") if state.snapshot else None
    explanation = (
        f"contract revision {state.contract.revision} was applied at "
        f"{state.contract.recorded_at.isoformat(timespec='seconds')}: the previous release "
        "would find the columns it uses gone, so no traffic can go back to it. The way back is "
        "the pre-contract snapshot"
        + (f" {snapshot_id}" if snapshot_id else " (none recorded)")
        + ": restore it to a NEW instance (`expandcontract rollback --restore-snapshot ID`), "
        "point the previous release at it, and redeploy that release."
    )
    if not restore_snapshot:
        raise RollbackRefused(explanation)
    kind = str(state.snapshot.details.get("kind", "instance")) if state.snapshot else "instance"
    cluster = (
        target.db_cluster_identifier
        if kind == "cluster" or not target.db_instance_identifier
        else None
    )
    source = cluster or target.db_instance_identifier or "db"
    new_id = restored_identifier or f"{source}-restored-{restore_snapshot}"[:63].rstrip("-")
    if cluster:
        echo(f"restoring cluster snapshot {restore_snapshot} to new cluster {new_id}")
        restored = restore_cluster(
            aws, source_id=cluster, snapshot=restore_snapshot, new_id=new_id, echo=echo
        )
    else:
        echo(f"restoring snapshot {restore_snapshot} to new instance {new_id}")
        restored = restore_instance(
            aws,
            source_id=target.db_instance_identifier,
            snapshot=restore_snapshot,
            new_id=new_id,
            echo=echo,
        )
    previous = (
        state.deployed.details.get("previous_task_definition") if state.deployed else None
    ) or "of the previous release"
    endpoint = (restored.get("Endpoint") or {}).get("Address") or restored.get(
        "Endpoint", "(assigned when available)"
    )
    echo(
        "restore started. What must change before the previous release can serve:\n"
        f"  - the database host: {endpoint} (instance {new_id}) in the app's DB_HOST / "
        "DATABASE_URL (task definition environment or its secret)\n"
        f"  - terraform: db_instance_identifier {source} -> {new_id}, or import the new "
        "instance, so the next apply does not replace it\n"
        f"  - redeploy the previous task definition {previous} (with that setting) through "
        "CodeDeploy once the restore is available\n"
        "  - writes made after the snapshot are not in the restored database"
    )
