"""The ledger database's URL from AWS: an SSM parameter, or the RDS-managed secret.

CI runners rarely hold the database password; they hold a role that may read it.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from expandcontract.aws.clients import Aws
from expandcontract.aws.errors import AwsConfigurationError


def url_from_parameter(aws: Aws, name: str) -> str:
    """The (decrypted) value of an SSM parameter holding a full database URL."""
    return str(aws.ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])


def url_from_secret(
    aws: Aws,
    secret_id: str,
    *,
    host: str | None = None,
    database: str | None = None,
) -> str:
    """A PostgreSQL URL built from a Secrets Manager secret (RDS-managed or RDS-style JSON).

    RDS-managed master secrets hold only ``username`` and ``password``: ``host`` (the
    ``db_endpoint`` output, ``address`` or ``address:port``) and ``database`` fill in what the
    secret lacks.
    """
    raw = aws.secretsmanager.get_secret_value(SecretId=secret_id).get("SecretString")
    try:
        secret = json.loads(raw or "")
    except json.JSONDecodeError as err:
        raise AwsConfigurationError(
            f"secret {secret_id} is not JSON with username/password"
        ) from err
    user, password = secret.get("username"), secret.get("password")
    endpoint = str(secret.get("host") or host or "")
    if not (user and password and endpoint):
        raise AwsConfigurationError(
            f"secret {secret_id} lacks username, password or host: pass --db-endpoint HOST"
        )
    host, _, endpoint_port = endpoint.partition(":")
    name = secret.get("dbname") or database or "postgres"
    port = int(secret.get("port") or endpoint_port or 5432)
    return (
        f"postgresql+psycopg://{quote(str(user), safe='')}:{quote(str(password), safe='')}"
        f"@{host}:{port}/{quote(str(name), safe='')}"
    )
