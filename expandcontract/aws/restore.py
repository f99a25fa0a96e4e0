"""Restoring a pre-contract snapshot to a NEW database that looks like the current one.

An RDS instance snapshot becomes an instance, an Aurora cluster snapshot a cluster plus its
writer instance. The source's subnet group, security groups, parameter group(s), instance
class, Multi-AZ and Enhanced Monitoring settings are carried over: a restore with defaults is
unreachable from the tasks, or quietly slower and unmonitored.
"""

from __future__ import annotations

from typing import Any

from expandcontract.aws.clients import Aws, Echo


def _groups(source: dict[str, Any]) -> list[str]:
    return [g["VpcSecurityGroupId"] for g in source.get("VpcSecurityGroups", [])]


def restore_instance(
    aws: Aws, *, source_id: str | None, snapshot: str, new_id: str, echo: Echo
) -> dict[str, Any]:
    """Restore an instance snapshot like ``source_id``; the new instance's description."""
    params: dict[str, Any] = {"DBInstanceIdentifier": new_id, "DBSnapshotIdentifier": snapshot}
    source: dict[str, Any] = {}
    if source_id:
        source = aws.rds.describe_db_instances(DBInstanceIdentifier=source_id)["DBInstances"][0]
        subnet_group = (source.get("DBSubnetGroup") or {}).get("DBSubnetGroupName")
        if subnet_group:
            params["DBSubnetGroupName"] = subnet_group
        if _groups(source):
            params["VpcSecurityGroupIds"] = _groups(source)
        parameter_groups = source.get("DBParameterGroups") or []
        if parameter_groups:
            params["DBParameterGroupName"] = parameter_groups[0]["DBParameterGroupName"]
        if source.get("DBInstanceClass"):
            params["DBInstanceClass"] = source["DBInstanceClass"]
        params["MultiAZ"] = bool(source.get("MultiAZ"))
    restored = dict(aws.rds.restore_db_instance_from_db_snapshot(**params)["DBInstance"])
    if source.get("MonitoringInterval"):
        # RestoreDBInstanceFromDBSnapshot takes no monitoring settings: once it is available.
        echo(
            "  once it is available, restore Enhanced Monitoring as on the source: "
            f"aws rds modify-db-instance --db-instance-identifier {new_id} "
            f"--monitoring-interval {source['MonitoringInterval']} "
            f"--monitoring-role-arn {source.get('MonitoringRoleArn', '')} --apply-immediately"
        )
    return restored


def restore_cluster(
    aws: Aws, *, source_id: str, snapshot: str, new_id: str, echo: Echo
) -> dict[str, Any]:
    """Restore an Aurora cluster snapshot like ``source_id``, with a writer like its writer."""
    source = aws.rds.describe_db_clusters(DBClusterIdentifier=source_id)["DBClusters"][0]
    params: dict[str, Any] = {
        "DBClusterIdentifier": new_id,
        "SnapshotIdentifier": snapshot,
        "Engine": source["Engine"],
    }
    if source.get("EngineVersion"):
        params["EngineVersion"] = source["EngineVersion"]
    if source.get("DBSubnetGroup"):
        params["DBSubnetGroupName"] = source["DBSubnetGroup"]
    if _groups(source):
        params["VpcSecurityGroupIds"] = _groups(source)
    if source.get("DBClusterParameterGroup"):
        params["DBClusterParameterGroupName"] = source["DBClusterParameterGroup"]
    restored = dict(aws.rds.restore_db_cluster_from_snapshot(**params)["DBCluster"])
    writer_id = next(
        (
            m["DBInstanceIdentifier"]
            for m in source.get("DBClusterMembers", [])
            if m.get("IsClusterWriter")
        ),
        None,
    )
    if writer_id is None:
        echo("  the source cluster has no writer instance to copy: add one to the restored cluster")
        return restored
    writer = aws.rds.describe_db_instances(DBInstanceIdentifier=writer_id)["DBInstances"][0]
    instance: dict[str, Any] = {
        "DBInstanceIdentifier": f"{new_id}-writer"[:63],
        "DBClusterIdentifier": new_id,
        "DBInstanceClass": writer["DBInstanceClass"],
        "Engine": source["Engine"],
    }
    parameter_groups = writer.get("DBParameterGroups") or []
    if parameter_groups:
        instance["DBParameterGroupName"] = parameter_groups[0]["DBParameterGroupName"]
    if writer.get("MonitoringInterval"):
        instance["MonitoringInterval"] = writer["MonitoringInterval"]
        instance["MonitoringRoleArn"] = writer.get("MonitoringRoleArn")
    aws.rds.create_db_instance(**instance)
    echo(f"  writer instance {instance['DBInstanceIdentifier']} created in {new_id}")
    return restored
