"""CodeDeploy ``AfterAllowTestTraffic`` hook: smoke-test the replacement task set.

CodeDeploy has started the replacement (green) task set and pointed the test listener at it, while
production traffic still goes to the original (blue) one. This function walks the customer API
through the test listener -- health, create, read, update, delete, read-after-delete -- and
reports ``Succeeded`` or ``Failed`` to CodeDeploy. A failure fails the deployment before any
customer request reaches the replacement, and the deployment group's auto-rollback takes over.

Configuration (environment):

``TEST_LISTENER_URL``
    Base URL of the test listener, e.g. ``http://my-alb-123.eu-west-1.elb.amazonaws.com:8080``.
``REQUEST_TIMEOUT_SECONDS``
    Timeout of each HTTP request (default 5). The whole run is bounded by six requests.

Only the standard library and boto3 (both in the Lambda Python runtime) are used.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

import boto3

# Records propagate to the handler the Lambda runtime installs on the root logger.
LOG = logging.getLogger("smoke_test")
LOG.setLevel(logging.INFO)

DEFAULT_TIMEOUT_SECONDS = 5.0
# Smoke-test customers use a reserved TLD so they can never collide with a real address.
SMOKE_EMAIL_DOMAIN = "smoke-test.invalid"


class SmokeTestFailure(Exception):
    """A smoke-test step did not get the answer a healthy release gives; the message says which."""


@dataclass(frozen=True)
class HttpResult:
    """Status code and decoded JSON body (``None`` when empty or not JSON) of one request."""

    status: int
    body: Any


class TestListenerClient:
    """Minimal JSON-over-HTTP client for the test listener, every request bounded by ``timeout``."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> HttpResult:
        """Send one request; HTTP error statuses are returned, network failures raise."""
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - URL is ours
                return HttpResult(resp.status, _decode(resp.read()))
        except urllib.error.HTTPError as err:
            with err:  # an error answer still holds the connection until closed
                return HttpResult(err.code, _decode(err.read()))
        except TimeoutError as err:
            raise SmokeTestFailure(f"{method} {path}: no answer within {self.timeout:g}s") from err
        except urllib.error.URLError as err:
            if isinstance(err.reason, TimeoutError):
                raise SmokeTestFailure(
                    f"{method} {path}: no answer within {self.timeout:g}s"
                ) from err
            raise SmokeTestFailure(f"{method} {path}: connection failed ({err.reason})") from err
        except (OSError, http.client.HTTPException) as err:
            # Reset connections and malformed answers from a task that is crashing.
            raise SmokeTestFailure(f"{method} {path}: connection failed ({err!r})") from err


def _decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _expect(result: HttpResult, status: int, step: str) -> Any:
    if result.status != status:
        detail = f": {json.dumps(result.body)[:200]}" if result.body is not None else ""
        raise SmokeTestFailure(f"{step}: expected HTTP {status}, got {result.status}{detail}")
    return result.body


def run_smoke_test(base_url: str, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> list[str]:
    """Exercise the release through ``base_url``; return the steps passed.

    Raises SmokeTestFailure with the failing step and what it got.
    """
    client = TestListenerClient(base_url, timeout)
    passed: list[str] = []

    health = _expect(client.request("GET", "/health"), 200, "GET /health")
    if not isinstance(health, dict) or health.get("status") != "healthy":
        raise SmokeTestFailure(f'GET /health: expected "status": "healthy", got {health!r}')
    passed.append(f"GET /health ({health.get('version', 'unknown version')})")

    marker = uuid.uuid4().hex[:12]
    created = _expect(
        client.request(
            "POST",
            "/api/customers",
            {
                "name": f"Smoke Test {marker}",
                "email": f"smoke-{marker}@{SMOKE_EMAIL_DOMAIN}",
                # The flat "street, city, ST, zip" form every release accepts (green splits it).
                "address": "1 Smoke Test Way, Testville, TS, 00000",
            },
        ),
        201,
        "POST /api/customers",
    )
    customer_id = created.get("id") if isinstance(created, dict) else None
    if customer_id is None:
        raise SmokeTestFailure(f"POST /api/customers: no id in the answer {created!r}")
    passed.append("POST /api/customers")

    path = f"/api/customers/{customer_id}"
    try:
        fetched = _expect(client.request("GET", path), 200, f"GET {path}")
        if not isinstance(fetched, dict) or fetched.get("id") != customer_id:
            raise SmokeTestFailure(f"GET {path}: answered a different customer {fetched!r}")
        passed.append(f"GET {path}")

        new_name = f"Smoke Test {marker} updated"
        updated = _expect(client.request("PUT", path, {"name": new_name}), 200, f"PUT {path}")
        if not isinstance(updated, dict) or updated.get("name") != new_name:
            raise SmokeTestFailure(f"PUT {path}: the update was not applied, got {updated!r}")
        passed.append(f"PUT {path}")
    except SmokeTestFailure:
        _delete_quietly(client, path)
        raise

    _expect(client.request("DELETE", path), 204, f"DELETE {path}")
    passed.append(f"DELETE {path}")
    _expect(client.request("GET", path), 404, f"GET {path} after DELETE")
    passed.append(f"GET {path} after DELETE")
    return passed


def _delete_quietly(client: TestListenerClient, path: str) -> None:
    """Best-effort clean-up so a failed run does not leave its customer behind."""
    try:
        client.request("DELETE", path)
    except SmokeTestFailure:
        LOG.warning("could not delete smoke-test customer %s", path)


def handler(event: dict[str, Any], context: Any, codedeploy: Any = None) -> dict[str, str]:
    """Lambda entry point: run the smoke test and report the verdict to CodeDeploy.

    ``codedeploy`` is an injectable boto3 CodeDeploy client (tests pass a stubbed one).
    The verdict is always reported, including for a misconfigured function, because an unreported
    hook leaves the deployment hanging until CodeDeploy's hook timeout.
    """
    deployment_id = event["DeploymentId"]
    hook_execution_id = event["LifecycleEventHookExecutionId"]

    status, reason = "Succeeded", ""
    try:
        base_url = os.environ.get("TEST_LISTENER_URL", "").strip()
        if not base_url:
            raise SmokeTestFailure("TEST_LISTENER_URL is not set")
        timeout = _timeout_from_env()
        passed = run_smoke_test(base_url, timeout)
        reason = "all steps passed: " + ", ".join(passed)
    except SmokeTestFailure as err:
        status, reason = "Failed", str(err)

    LOG.info(json.dumps({"deploymentId": deployment_id, "status": status, "reason": reason}))
    client = codedeploy if codedeploy is not None else boto3.client("codedeploy")
    client.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id,
        lifecycleEventHookExecutionId=hook_execution_id,
        status=status,
    )
    return {"status": status, "reason": reason}


def _timeout_from_env() -> float:
    raw = os.environ.get("REQUEST_TIMEOUT_SECONDS", "")
    if not raw:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        value = float(raw)
    except ValueError as err:
        raise SmokeTestFailure(f"REQUEST_TIMEOUT_SECONDS={raw!r} is not a number") from err
    if not 0 < value <= 60:
        raise SmokeTestFailure(f"REQUEST_TIMEOUT_SECONDS={raw!r} must be in (0, 60]")
    return value
