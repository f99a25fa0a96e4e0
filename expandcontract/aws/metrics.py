"""CloudWatch comparison of two ALB target groups: 5XX rate and latency.

CloudWatch omits datapoints for minutes without traffic, so missing data counts as zero. Rates
are computed here from the sums (metric math is not used: it is one more thing to get wrong).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from expandcontract.aws.clients import Aws
from expandcontract.aws.errors import AwsConfigurationError

NAMESPACE = "AWS/ApplicationELB"


@dataclass(frozen=True)
class Thresholds:
    """How far green may drift from blue before we roll back.

    ``max_5xx_increase``: green's 5XX rate may exceed blue's by this much (0.01 = 1 point).
    ``max_latency_ratio``/``latency_slack``: green's mean latency may be up to ratio × blue's,
    and differences under ``latency_slack`` seconds are never divergence.
    ``min_requests``: green needs this many requests before its rates mean anything; below
    it the verdict is "not enough data", which the contract gate refuses.
    ``max_elb_5xx``: the load balancer's own 5XX (502/503 from a crashing target) may be at
    most this fraction of the requests. Any unhealthy green target is a problem.
    """

    max_5xx_increase: float = 0.01
    max_latency_ratio: float = 1.5
    latency_slack: float = 0.05
    min_requests: int = 20
    max_elb_5xx: float = 0.01


@dataclass(frozen=True)
class TargetGroupStats:
    requests: float
    errors_5xx: float
    latency: float | None  # mean seconds, None without traffic
    unhealthy: float = 0.0  # the most unhealthy targets seen in one period
    elb_5xx: float = 0.0  # the load balancer's own 5XX over the same window (whole ALB)

    @property
    def error_rate(self) -> float:
        return self.errors_5xx / self.requests if self.requests else 0.0

    def describe(self) -> str:
        latency = f"{self.latency * 1000:.0f} ms" if self.latency is not None else "-"
        return (
            f"{self.requests:.0f} requests, 5XX {self.error_rate:.2%}, mean latency {latency}, "
            f"unhealthy targets {self.unhealthy:.0f}, load balancer 5XX {self.elb_5xx:.0f}"
        )


def target_group_dimension(arn: str) -> str:
    """``targetgroup/name/id`` from a target group ARN."""
    return "targetgroup/" + arn.split(":targetgroup/", 1)[-1]


def load_balancer_dimension(listener_arn: str) -> str:
    """``app/name/id`` from a listener ARN (``...:listener/app/name/id/listener-id``)."""
    tail = listener_arn.split(":listener/", 1)[-1]
    return "/".join(tail.split("/")[:3])


def _query(qid: str, metric: str, stat: str, dimensions: list[dict[str, str]], period: int):
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dimensions},
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def period_for(window: timedelta) -> int:
    """A period that keeps the number of datapoints small over long soak windows."""
    seconds = window.total_seconds()
    if seconds <= 3 * 3600:
        return 60
    if seconds <= 3 * 86400:
        return 300
    return 3600


def _series(
    aws: Aws,
    target_groups: Sequence[str],
    listener_arn: str,
    start: datetime,
    end: datetime,
) -> dict[str, dict[Any, float]]:
    """Datapoints per query id (``req0``, ``err0``, ``lat0``, ...): ``{timestamp: value}``."""
    period = period_for(end - start)
    lb = load_balancer_dimension(listener_arn)
    queries: list[dict[str, Any]] = []
    for index, arn in enumerate(target_groups):
        dims = [
            {"Name": "TargetGroup", "Value": target_group_dimension(arn)},
            {"Name": "LoadBalancer", "Value": lb},
        ]
        queries += [
            _query(f"req{index}", "RequestCount", "Sum", dims, period),
            _query(f"err{index}", "HTTPCode_Target_5XX_Count", "Sum", dims, period),
            _query(f"lat{index}", "TargetResponseTime", "Average", dims, period),
            _query(f"unh{index}", "UnHealthyHostCount", "Maximum", dims, period),
        ]
    # 502/503/504 the ALB answers itself (no healthy target, a crashing one) exist only per
    # load balancer, never per target group.
    queries.append(
        _query(
            "elb", "HTTPCode_ELB_5XX_Count", "Sum", [{"Name": "LoadBalancer", "Value": lb}], period
        )
    )
    series: dict[str, dict[Any, float]] = {}
    token: str | None = None
    while True:
        params: dict[str, Any] = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end}
        if token:
            params["NextToken"] = token
        answer = aws.cloudwatch.get_metric_data(**params)
        for result in answer.get("MetricDataResults", []):
            points = series.setdefault(result["Id"], {})
            points.update(zip(result.get("Timestamps", []), result.get("Values", []), strict=False))
        token = answer.get("NextToken")
        if not token:
            return series


def _stats(
    requests: dict[Any, float],
    errors: dict[Any, float],
    latency: dict[Any, float],
    unhealthy: dict[Any, float] | None = None,
    elb: dict[Any, float] | None = None,
) -> TargetGroupStats:
    # Weight each period's mean latency by its request count; unweighted without counts.
    weights = [(value, requests.get(ts, 0.0)) for ts, value in latency.items()]
    weight = sum(w for _, w in weights)
    if weights and weight:
        mean: float | None = sum(v * w for v, w in weights) / weight
    elif weights:
        mean = sum(v for v, _ in weights) / len(weights)
    else:
        mean = None
    return TargetGroupStats(
        sum(requests.values()),
        sum(errors.values()),
        mean,
        max((unhealthy or {}).values(), default=0.0),
        sum((elb or {}).values()),
    )


def target_group_stats(
    aws: Aws,
    target_groups: Sequence[str],
    listener_arn: str,
    start: datetime,
    end: datetime,
) -> dict[str, TargetGroupStats]:
    """Requests, 5XX and mean latency of each target group between ``start`` and ``end``."""
    series = _series(aws, target_groups, listener_arn, start, end)
    return {
        arn: _stats(
            series.get(f"req{index}", {}),
            series.get(f"err{index}", {}),
            series.get(f"lat{index}", {}),
            series.get(f"unh{index}", {}),
            series.get("elb", {}),
        )
        for index, arn in enumerate(target_groups)
    }


def window_stats(
    aws: Aws, target_group: str, listener_arn: str, start: datetime, end: datetime
) -> tuple[TargetGroupStats, list[TargetGroupStats]]:
    """The whole window's stats and one per CloudWatch period (a bad hour is not averaged away).

    Both come from the same datapoints: one query, not two.
    """
    series = _series(aws, [target_group], listener_arn, start, end)
    requests, errors, latency, unhealthy = (
        series.get(f"{k}0", {}) for k in ("req", "err", "lat", "unh")
    )
    elb = series.get("elb", {})
    periods = [
        _stats(
            {ts: requests.get(ts, 0.0)},
            {ts: errors.get(ts, 0.0)},
            {ts: latency[ts]} if ts in latency else {},
            {ts: unhealthy[ts]} if ts in unhealthy else {},
            {ts: elb[ts]} if ts in elb else {},
        )
        for ts in sorted(set(requests) | set(errors))
    ]
    return _stats(requests, errors, latency, unhealthy, elb), periods


NOT_ENOUGH_DATA = "not enough data"


def enough_data(green: TargetGroupStats, thresholds: Thresholds) -> bool:
    """Has green served enough requests for its rates to mean anything?"""
    return green.requests >= thresholds.min_requests


def divergence(
    blue: TargetGroupStats, green: TargetGroupStats, thresholds: Thresholds
) -> list[str]:
    """Why green looks worse than blue (empty when it does not, or has too little traffic).

    Unhealthy targets count whatever the traffic: a crashing green shows there first.
    """
    reasons = []
    if green.unhealthy > 0:
        reasons.append(f"green has {green.unhealthy:.0f} unhealthy targets")
    if not enough_data(green, thresholds):
        return reasons
    if green.elb_5xx / green.requests > thresholds.max_elb_5xx:
        reasons.append(
            f"the load balancer answered {green.elb_5xx:.0f} 5XX itself "
            f"({green.elb_5xx / green.requests:.2%} of green's requests)"
        )
    if green.error_rate > blue.error_rate + thresholds.max_5xx_increase:
        reasons.append(
            f"green 5XX rate {green.error_rate:.2%} exceeds blue's {blue.error_rate:.2%} by more "
            f"than {thresholds.max_5xx_increase:.2%}"
        )
    if green.latency is not None and blue.latency is not None:
        limit = max(
            blue.latency * thresholds.max_latency_ratio, blue.latency + thresholds.latency_slack
        )
        if green.latency > limit:
            reasons.append(
                f"green mean latency {green.latency * 1000:.0f} ms exceeds "
                f"{thresholds.max_latency_ratio:g}x blue's {blue.latency * 1000:.0f} ms"
            )
    return reasons


class AlarmMissing(AwsConfigurationError):
    """A named alarm does not exist: it could never fire, so nothing would be watched."""


def describe_alarms(aws: Aws, names: Sequence[str]) -> list[dict[str, Any]]:
    """The named metric and composite alarms; :class:`AlarmMissing` names any that do not exist.

    Composite alarms come back only when ``AlarmTypes`` asks for them; they carry
    ``"_composite": True`` here.
    """
    wanted = list(dict.fromkeys(names))
    found: list[dict[str, Any]] = []
    for start in range(0, len(wanted), 100):  # DescribeAlarms takes at most 100 names
        token: str | None = None
        while True:
            params: dict[str, Any] = {
                "AlarmNames": wanted[start : start + 100],
                "AlarmTypes": ["CompositeAlarm", "MetricAlarm"],
            }
            if token:
                params["NextToken"] = token
            answer = aws.cloudwatch.describe_alarms(**params)
            found += list(answer.get("MetricAlarms", []))
            found += [{**a, "_composite": True} for a in answer.get("CompositeAlarms", [])]
            token = answer.get("NextToken")
            if not token:
                break
    missing = [name for name in wanted if name not in {a.get("AlarmName") for a in found}]
    if missing:
        raise AlarmMissing(
            f"CloudWatch alarm(s) {', '.join(missing)} do not exist (a typo, or another "
            "region?): an alarm that does not exist never fires, so refusing to rely on it"
        )
    return found


def alarms_firing(aws: Aws, names: Sequence[str]) -> list[str]:
    """Names (with reasons) of the given CloudWatch alarms (metric or composite) in ALARM."""
    if not names:
        return []
    return [
        f"{alarm['AlarmName']} ({alarm.get('StateReason', 'in ALARM')})"
        for alarm in describe_alarms(aws, names)
        if alarm.get("StateValue") == "ALARM"
    ]
