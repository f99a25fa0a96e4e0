"""One choke point for every AWS call: retries on throttling, clear errors, dry runs.

Commands never touch a boto3 client directly; they call ``aws.ecs.describe_services(...)``
on an :class:`Aws`, which forwards to the real (or injected moto/stubbed) client, retries
throttling with backoff through the injected ``sleep``, and turns botocore exceptions into
:class:`~expandcontract.aws.errors.AwsError`. With ``dry_run=True`` the same calls are only
printed, answered with placeholders, and nothing reaches AWS.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from expandcontract.aws.errors import AwsConfigurationError, AwsError, CredentialsExpired

Sleep = Callable[[float], None]
Echo = Callable[[str], None]

SERVICES = (
    "ecs",
    "codedeploy",
    "cloudwatch",
    "elbv2",
    "rds",
    "ssm",
    "secretsmanager",
    "ecr",
    "iam",
    "logs",
)

# Error codes AWS uses for "slow down"; anything else fails at once.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)

# Server-side blips worth another try (botocore's own short retry may already have used up).
TRANSIENT_CODES = frozenset(
    {
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "InternalServiceError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ServerException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
# The session's temporary credentials ran out (a CI role session outlived).
EXPIRED_CODES = frozenset(
    {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "TokenRefreshRequired"}
)

NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
    "or run where an instance/task role is available (in GitHub Actions: "
    "aws-actions/configure-aws-credentials)"
)
NO_REGION = (
    "no AWS region configured: pass --region, set AWS_REGION, or use --from-terraform with an "
    "aws_region output"
)


def boto3_missing() -> AwsConfigurationError:
    return AwsConfigurationError(
        "the AWS helpers need boto3: install expandcontract[aws] (pip install 'expandcontract[aws]')"
    )


class Caller:
    """Forwards ``caller.operation(**params)`` to one client, retrying what is worth retrying.

    Throttling and server-side blips are retried with capped, jittered exponential backoff
    through the injected ``sleep``. Expired credentials are renewed once through ``renew``
    (a new client from a fresh session, which re-reads the credential chain) when there is
    one; otherwise, or when the new ones are expired too, :class:`CredentialsExpired`.
    """

    def __init__(
        self,
        service: str,
        client: Any,
        sleep: Sleep,
        attempts: int,
        renew: Callable[[], Any] | None = None,
    ) -> None:
        self.service = service
        self.client = client
        self.sleep = sleep
        self.attempts = max(1, attempts)
        self.renew = renew

    def __getattr__(self, operation: str) -> Callable[..., dict[str, Any]]:
        if operation.startswith("_"):
            raise AttributeError(operation)
        return lambda **params: self.call(operation, **params)

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectionError,
            NoCredentialsError,
            NoRegionError,
            PartialCredentialsError,
        )

        name = f"{self.service}.{operation}"
        renewed = False
        attempt = 0
        while True:
            attempt += 1
            try:
                return dict(getattr(self.client, operation)(**params))
            except ClientError as err:
                error = err.response.get("Error", {})
                code = str(error.get("Code", "Unknown"))
                message = error.get("Message") or str(err)
                if code in EXPIRED_CODES:
                    if self.renew is not None and not renewed:
                        renewed = True
                        self.client = self.renew()
                        continue
                    raise CredentialsExpired(
                        f"{name} failed: the AWS credentials expired ({code}) and could not be "
                        "renewed",
                        code=code,
                        operation=name,
                    ) from err
                status = int(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
                retry = code in THROTTLING_CODES or code in TRANSIENT_CODES or status >= 500
                if retry and attempt < self.attempts:
                    self._backoff(attempt)
                    continue
                raise AwsError(
                    f"{name} failed: {code}: {message}",
                    code=code,
                    operation=name,
                    transient=retry,
                ) from err
            except (NoCredentialsError, PartialCredentialsError) as err:
                raise AwsConfigurationError(NO_CREDENTIALS) from err
            except NoRegionError as err:
                raise AwsConfigurationError(NO_REGION) from err
            except ConnectionError as err:
                if attempt < self.attempts:
                    self._backoff(attempt)
                    continue
                raise AwsError(f"{name} failed: {err}", operation=name, transient=True) from err
            except BotoCoreError as err:
                raise AwsError(f"{name} failed: {err}", operation=name) from err

    def _backoff(self, attempt: int) -> None:
        # Exponential backoff with jitter, capped, so parallel runners spread out.
        self.sleep(min(20.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0))


class DryRunCaller:
    """Prints each call instead of making it, and answers with placeholders."""

    def __init__(
        self, service: str, echo: Echo, calls: list[str], hints: Mapping[str, Any]
    ) -> None:
        self.service = service
        self.echo = echo
        self.calls = calls
        self.hints = hints

    def __getattr__(self, operation: str) -> Callable[..., dict[str, Any]]:
        if operation.startswith("_"):
            raise AttributeError(operation)
        return lambda **params: self.call(operation, **params)

    def call(self, operation: str, **params: Any) -> dict[str, Any]:
        from expandcontract.aws.dryrun import placeholder_response

        shown = ", ".join(f"{key}={value!r}" for key, value in params.items())
        line = f"{self.service}.{operation}({shown})"
        self.calls.append(line)
        self.echo(f"  [dry-run] would call {line}")
        return placeholder_response(self.service, operation, params, self.hints, self.calls)


@dataclass(kw_only=True, eq=False)
class Aws:
    """The AWS clients a command uses, behind :class:`Caller` (or :class:`DryRunCaller`).

    ``clients`` maps a service name to a ready client (tests pass moto or stubbed clients);
    missing ones are created from a boto3 session for ``region``/``profile``. A dry run
    creates no client at all; ``dry_run_hints`` says what its placeholders should name
    (``containers``, ``live_target_group``, ``listener_target_groups``, ...).
    """

    region: str | None = None
    profile: str | None = None
    clients: Mapping[str, Any] = field(default_factory=dict)
    sleep: Sleep = time.sleep
    attempts: int = 8
    dry_run: bool = False
    echo: Echo = print
    dry_run_hints: Mapping[str, Any] = field(default_factory=dict)
    # Builds a replacement client for a service whose credentials expired (tests inject one).
    renew: Callable[[str], Any] | None = None
    dry_run_calls: list[str] = field(default_factory=list, init=False)
    _callers: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _session: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        # Copies: a command never changes what its caller handed in (``None`` means none).
        self.clients = dict(self.clients or {})
        self.dry_run_hints = dict(self.dry_run_hints or {})

    def client(self, service: str) -> Any:
        """The caller for ``service`` (``ecs``, ``codedeploy``, ...)."""
        if service not in self._callers:
            if self.dry_run:
                self._callers[service] = DryRunCaller(
                    service, self.echo, self.dry_run_calls, self.dry_run_hints
                )
            else:
                raw = self.clients.get(service) or self._create(service)
                self._callers[service] = Caller(
                    service, raw, self.sleep, self.attempts, self._renewer(service)
                )
        return self._callers[service]

    def check_credentials(self) -> None:
        """Fail fast, before any step runs, when credentials or the region are missing."""
        if self.dry_run or set(SERVICES) <= set(self.clients):
            return
        session = self._boto_session()
        if session.get_credentials() is None:
            raise AwsConfigurationError(NO_CREDENTIALS)

    def _boto_session(self) -> Any:
        if self._session is None:
            try:
                import boto3
            except ImportError as err:
                raise boto3_missing() from err
            from botocore.exceptions import ProfileNotFound

            try:
                self._session = boto3.session.Session(
                    profile_name=self.profile, region_name=self.region
                )
            except ProfileNotFound as err:
                raise AwsConfigurationError(f"AWS profile not found: {err}") from err
            if not self._session.region_name:
                raise AwsConfigurationError(NO_REGION)
        return self._session

    def _renewer(self, service: str) -> Callable[[], Any] | None:
        if self.renew is not None:
            renew = self.renew
            return lambda: renew(service)
        if service in self.clients:
            return None  # an injected client: nothing to renew it from

        def fresh() -> Any:
            # A new session re-reads the credential chain (environment, files, the task or
            # instance role), which is where refreshed credentials appear.
            self._session = None
            return self._create(service)

        return fresh

    def _create(self, service: str) -> Any:
        from botocore.config import Config

        # Our Caller retries throttling and blips with the injectable sleep; botocore keeps a
        # short standard retry for connection-level blips only.
        config = Config(retries={"mode": "standard", "max_attempts": 3})
        return self._boto_session().client(service, config=config)

    @property
    def ecs(self) -> Any:
        return self.client("ecs")

    @property
    def codedeploy(self) -> Any:
        return self.client("codedeploy")

    @property
    def cloudwatch(self) -> Any:
        return self.client("cloudwatch")

    @property
    def elbv2(self) -> Any:
        return self.client("elbv2")

    @property
    def rds(self) -> Any:
        return self.client("rds")

    @property
    def ssm(self) -> Any:
        return self.client("ssm")

    @property
    def secretsmanager(self) -> Any:
        return self.client("secretsmanager")

    @property
    def ecr(self) -> Any:
        return self.client("ecr")

    @property
    def iam(self) -> Any:
        return self.client("iam")

    @property
    def logs(self) -> Any:
        return self.client("logs")
