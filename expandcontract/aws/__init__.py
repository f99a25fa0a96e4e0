"""AWS release helpers (extra ``aws``): ECS blue/green releases through CodeDeploy.

Every function takes an :class:`~expandcontract.aws.clients.Aws` (boto3 clients behind one
retrying choke point, or a dry run that only prints the calls) and an injectable clock and
sleep, so tests pass moto or stubbed clients and never wait for real. Nothing here is imported
by the core library: ``import expandcontract`` works without boto3.
"""

from __future__ import annotations
