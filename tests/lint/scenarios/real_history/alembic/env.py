"""Alembic environment, guarded by expandcontract."""

from alembic import context

import expandcontract

target_metadata = None

expandcontract.run_migrations(context, target_metadata=target_metadata)
