"""Alembic environment of the reference app, guarded by expandcontract.

The one call below installs the contract guard, runtime phase policing, the migration lock,
lock timeouts and the ledger. The database URL comes from ``$DATABASE_URL``.

Autogenerate compares against green's models (the newest release); the migrations themselves
never import the app's models, so they keep working when the models change.
"""

from alembic import context

import expandcontract
from app.models_v2 import metadata as target_metadata

expandcontract.run_migrations(
    context, target_metadata=target_metadata, transaction_per_migration=True
)
