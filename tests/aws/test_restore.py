"""Restores keep what makes the database reachable and behave the same (moto RDS)."""

from __future__ import annotations

from typing import Any

import pytest

from expandcontract.aws.clients import Aws
from expandcontract.aws.restore import restore_cluster, restore_instance
from tests.aws.conftest import World
from tests.aws.fakes import Delegate

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:moto")


def test_instance_restore_keeps_placement_parameters_class_and_multi_az(world: World) -> None:
    rds = world.clients["rds"]
    rds.create_db_parameter_group(
        DBParameterGroupName="ec-pg16", DBParameterGroupFamily="postgres16", Description="ec"
    )
    rds.create_db_subnet_group(
        DBSubnetGroupName="ec-db",
        DBSubnetGroupDescription="ec",
        SubnetIds=list(world.target.subnets),
    )
    rds.create_db_instance(
        DBInstanceIdentifier="ec-prod",
        DBInstanceClass="db.r6g.large",
        Engine="postgres",
        MasterUsername="app",
        MasterUserPassword="secret-password",
        AllocatedStorage=20,
        DBParameterGroupName="ec-pg16",
        DBSubnetGroupName="ec-db",
        VpcSecurityGroupIds=list(world.target.security_groups),
        MultiAZ=True,
        MonitoringInterval=60,
        MonitoringRoleArn="arn:aws:iam::123456789012:role/ec-rds-monitoring",
    )
    rds.create_db_snapshot(DBInstanceIdentifier="ec-prod", DBSnapshotIdentifier="pre-1")
    lines: list[str] = []
    sent: list[dict[str, Any]] = []

    def restore(**params: Any) -> dict[str, Any]:
        sent.append(params)
        return rds.restore_db_instance_from_db_snapshot(**params)

    def describe(**params: Any) -> dict[str, Any]:
        answer = rds.describe_db_instances(**params)
        for instance in answer["DBInstances"]:  # moto does not keep monitoring settings
            instance.setdefault("MonitoringInterval", 60)
            instance.setdefault("MonitoringRoleArn", "arn:aws:iam::123456789012:role/mon")
        return answer

    clients = {
        **world.clients,
        "rds": Delegate(
            rds, restore_db_instance_from_db_snapshot=restore, describe_db_instances=describe
        ),
    }
    restore_instance(
        Aws(clients=clients),
        source_id="ec-prod",
        snapshot="pre-1",
        new_id="ec-prod-restored",
        echo=lines.append,
    )
    new = rds.describe_db_instances(DBInstanceIdentifier="ec-prod-restored")["DBInstances"][0]
    assert new["DBInstanceClass"] == "db.r6g.large"
    assert new["MultiAZ"] is True
    assert new["DBSubnetGroup"]["DBSubnetGroupName"] == "ec-db"
    assert [g["VpcSecurityGroupId"] for g in new["VpcSecurityGroups"]] == list(
        world.target.security_groups
    )
    # moto drops the parameter group of a restore: the request is what AWS acts on.
    assert sent[0]["DBParameterGroupName"] == "ec-pg16"
    # Monitoring cannot be given to the restore call: the command to restore it is printed.
    assert "--monitoring-interval 60" in lines[0]


def test_aurora_cluster_restore_is_a_cluster_with_a_writer_like_the_source(world: World) -> None:
    rds = world.clients["rds"]
    rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName="ec-aurora",
        DBParameterGroupFamily="aurora-postgresql16",
        Description="ec",
    )
    rds.create_db_cluster(
        DBClusterIdentifier="ec-aurora",
        Engine="aurora-postgresql",
        MasterUsername="app",
        MasterUserPassword="secret-password",
        DBClusterParameterGroupName="ec-aurora",
        VpcSecurityGroupIds=list(world.target.security_groups),
    )
    rds.create_db_instance(
        DBInstanceIdentifier="ec-aurora-1",
        DBClusterIdentifier="ec-aurora",
        DBInstanceClass="db.r6g.large",
        Engine="aurora-postgresql",
    )
    rds.create_db_cluster_snapshot(
        DBClusterIdentifier="ec-aurora", DBClusterSnapshotIdentifier="pre-c"
    )
    restore_cluster(
        Aws(clients=world.clients),
        source_id="ec-aurora",
        snapshot="pre-c",
        new_id="ec-aurora-restored",
        echo=lambda line: None,
    )
    cluster: dict[str, Any] = rds.describe_db_clusters(DBClusterIdentifier="ec-aurora-restored")[
        "DBClusters"
    ][0]
    assert cluster["Engine"] == "aurora-postgresql"
    assert cluster["DBClusterParameterGroup"] == "ec-aurora"
    writer = rds.describe_db_instances(DBInstanceIdentifier="ec-aurora-restored-writer")[
        "DBInstances"
    ][0]
    assert writer["DBInstanceClass"] == "db.r6g.large"
    assert writer["DBClusterIdentifier"] == "ec-aurora-restored"
