"""Which target group serves production, and whether a target group can take traffic."""

from __future__ import annotations

from dataclasses import dataclass

from expandcontract.aws.clients import Aws
from expandcontract.aws.errors import AwsConfigurationError, RollbackRefused


@dataclass(frozen=True)
class Roles:
    """``live`` serves the production listener now; ``idle`` is the other target group."""

    live: str
    idle: str


def forwarded_target_group(aws: Aws, listener_arn: str) -> str:
    """The target group the listener's default action sends (most of) its traffic to."""
    listeners = aws.elbv2.describe_listeners(ListenerArns=[listener_arn])["Listeners"]
    for action in listeners[0].get("DefaultActions", []) if listeners else []:
        if action.get("Type") != "forward":
            continue
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        if groups:
            best = max(groups, key=lambda g: float(g.get("Weight", 1)))
            return str(best["TargetGroupArn"])
        if action.get("TargetGroupArn"):
            return str(action["TargetGroupArn"])
    raise AwsConfigurationError(f"listener {listener_arn} does not forward to a target group")


def roles(aws: Aws, listener_arn: str, target_groups: tuple[str, str]) -> Roles:
    live = forwarded_target_group(aws, listener_arn)
    if live not in target_groups:
        raise AwsConfigurationError(
            f"production listener forwards to {live}, which is neither configured target group "
            f"({', '.join(target_groups)})"
        )
    idle = target_groups[1] if live == target_groups[0] else target_groups[0]
    return Roles(live, idle)


def healthy_targets(aws: Aws, target_group: str) -> list[str]:
    answer = aws.elbv2.describe_target_health(TargetGroupArn=target_group)
    return [
        str(item["Target"]["Id"])
        for item in answer.get("TargetHealthDescriptions", [])
        if item.get("TargetHealth", {}).get("State") == "healthy"
    ]


def flip_listener(aws: Aws, listener_arn: str, target_group: str) -> list[str]:
    """Point the listener at ``target_group``, only if it has healthy targets; those targets."""
    healthy = healthy_targets(aws, target_group)
    if not healthy:
        raise RollbackRefused(
            f"refusing to flip {listener_arn} to {target_group}: it has no healthy targets, so "
            "every request would fail. Redeploy the previous task definition instead "
            "(`expandcontract rollback` without --listener)"
        )
    aws.elbv2.modify_listener(
        ListenerArn=listener_arn,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
    )
    return healthy
