"""The ledger database URL from SSM or Secrets Manager (moto)."""

from __future__ import annotations

import pytest

from expandcontract.aws.clients import Aws
from expandcontract.aws.database import url_from_parameter, url_from_secret
from expandcontract.aws.errors import AwsConfigurationError, AwsError
from tests.aws.conftest import World


def test_url_from_an_ssm_parameter(world: World) -> None:
    world.clients["ssm"].put_parameter(
        Name="/ec/database-url", Value="postgresql://app:pw@db:5432/app", Type="SecureString"
    )
    aws = Aws(clients=world.clients)
    assert url_from_parameter(aws, "/ec/database-url") == "postgresql://app:pw@db:5432/app"


def test_url_from_the_rds_managed_secret(world: World) -> None:
    arn = world.clients["secretsmanager"].create_secret(
        Name="rds!db-1", SecretString='{"username": "app", "password": "p@ss/word"}'
    )["ARN"]
    aws = Aws(clients=world.clients)
    url = url_from_secret(
        aws, arn, host="ec-db.abc.eu-west-1.rds.amazonaws.com:5432", database="app"
    )
    assert (
        url
        == "postgresql+psycopg://app:p%40ss%2Fword@ec-db.abc.eu-west-1.rds.amazonaws.com:5432/app"
    )


def test_the_endpoint_port_is_kept(world: World) -> None:
    arn = world.clients["secretsmanager"].create_secret(
        Name="rds!db-3", SecretString='{"username": "app", "password": "pw"}'
    )["ARN"]
    url = url_from_secret(Aws(clients=world.clients), arn, host="db.internal:6543")
    assert url == "postgresql+psycopg://app:pw@db.internal:6543/postgres"


def test_secret_without_a_host_asks_for_the_endpoint(world: World) -> None:
    arn = world.clients["secretsmanager"].create_secret(
        Name="rds!db-2", SecretString='{"username": "app", "password": "pw"}'
    )["ARN"]
    with pytest.raises(AwsConfigurationError, match="--db-endpoint"):
        url_from_secret(Aws(clients=world.clients), arn)


def test_missing_parameter_is_an_aws_error(world: World) -> None:
    with pytest.raises(AwsError, match="ParameterNotFound"):
        url_from_parameter(Aws(clients=world.clients), "/nope")


def test_cli_reads_the_ledger_url_from_ssm(cli, world: World, database_url: str) -> None:  # type: ignore[no-untyped-def]
    world.clients["ssm"].put_parameter(Name="/ec/ledger", Value=database_url, Type="SecureString")
    world.codedeploy.add_active()
    result = cli("rollback", "--database-url-parameter", "/ec/ledger")
    assert result.exit_code == 0, result.output
    assert "state: shifting" in result.output
