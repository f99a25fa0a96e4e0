"""Errors of the AWS helpers; all are :class:`~expandcontract.errors.ExpandContractError`."""

from __future__ import annotations

from expandcontract.errors import ConfigurationError, ExpandContractError


class AwsError(ExpandContractError):
    """An AWS call or an AWS-side process (task, deployment, snapshot) failed."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        operation: str | None = None,
        transient: bool = False,
    ):
        super().__init__(message)
        self.code = code
        self.operation = operation
        # Throttling or a server-side blip that outlasted the retries: a poll may try again.
        self.transient = transient


class CredentialsExpired(AwsError):
    """The session's credentials expired and could not be renewed."""


class AwsConfigurationError(ConfigurationError):
    """Missing credentials, region, or a required setting (exit 2)."""


class MigrationTaskFailed(AwsError):
    """The one-off migration task stopped with a non-zero exit code.

    The command exits with the task's own status (``task_exit_code``), or 1 when it never ran.
    """

    def __init__(self, message: str, *, exit_code: int | None, log_stream: str | None = None):
        super().__init__(message)
        self.task_exit_code = exit_code
        self.exit_code = exit_code if exit_code and 0 < exit_code < 256 else 1
        self.log_stream = log_stream


class DeploymentFailed(AwsError):
    """The CodeDeploy deployment failed, was stopped, or was rolled back by us (``reason``)."""

    def __init__(self, message: str, *, deployment_id: str, reason: str):
        super().__init__(message)
        self.deployment_id = deployment_id
        self.reason = reason


class DeploymentUnfinished(AwsError):
    """We stopped watching a deployment that is still running in AWS; it was NOT stopped.

    Raised when our wait budget ran out after production traffic reached green, or when the
    credentials expired mid-watch. ``where`` says where the deployment stands (status, traffic
    on green, lifecycle events); the command exits 4 and the ledger records it.
    """

    exit_code = 4

    def __init__(self, message: str, *, deployment_id: str, where: dict[str, object]):
        super().__init__(message)
        self.deployment_id = deployment_id
        self.where = where


class PreflightFailed(AwsConfigurationError):
    """A preflight check failed: nothing was changed (exit 2). ``checks`` lists all of them."""

    def __init__(self, message: str, checks: list[object]):
        super().__init__(message)
        self.checks = checks


class DeploymentInProgress(AwsError):
    """Another deployment of the group is running; we never start a second one."""


class AwsTimeout(AwsError):
    """Something did not finish within the time we were willing to wait."""


class RollbackRefused(AwsError):
    """Rolling back would be unsafe (contract applied, or no healthy targets behind a flip)."""
