"""gunicorn configuration: database credentials that survive rotation (RDS IAM authentication).

The app's tasks run for days; a password read once at task start stops working when the
secret rotates. With ``DB_IAM_AUTH=1`` every NEW database connection is opened with a fresh
IAM authentication token (valid 15 minutes, only needed to open the connection), generated
from the task role, so there is no password to go stale. The app's own code is unchanged:
a process-wide SQLAlchemy ``do_connect`` listener fills in the password for connections to
``DB_HOST``. The image installs this file as ``/app/gunicorn.conf.py``, which gunicorn reads
by default; without ``DB_IAM_AUTH`` it does nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

ENABLED = ("1", "true", "yes")


def install(
    environ: Mapping[str, str] = os.environ, token: Callable[[], str] | None = None
) -> Callable[..., None] | None:
    """Register the listener when ``DB_IAM_AUTH`` asks for it; the listener, or None."""
    if environ.get("DB_IAM_AUTH", "").strip().lower() not in ENABLED:
        return None
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    host = environ["DB_HOST"]
    if token is None:
        token = _rds_token(environ)

    def fresh_token(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        if cparams.get("host") == host:
            cparams["password"] = token()

    event.listen(Engine, "do_connect", fresh_token)
    return fresh_token


def _rds_token(environ: Mapping[str, str]) -> Callable[[], str]:
    import boto3

    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    client = boto3.client("rds", region_name=region)
    host, port, user = environ["DB_HOST"], int(environ.get("DB_PORT", "5432")), environ["DB_USER"]
    return lambda: str(
        client.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user, Region=region)
    )


if __name__ == "__config__":  # gunicorn loads its configuration file under this name
    install()
