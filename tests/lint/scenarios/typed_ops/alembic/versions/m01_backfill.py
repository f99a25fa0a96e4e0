"""m01_backfill"""
import sqlalchemy as sa
from alembic import op

revision = 'm01_backfill'
down_revision = None
branch_labels = ('migrate',)
depends_on = 'e01_expand'


def upgrade():
    op.migrate_backfill(
        "split_address",
        "customers",
        {"street": "split_part(t.address, ',', 1)", "city": "split_part(t.address, ',', 2)"},
        pending="t.street IS NULL",
    )
    op.migrate_validate_constraint("ck_customers_street_nn", "customers")


def downgrade():
    pass  # expandcontract: ignore[EC304] the old column still holds every value
