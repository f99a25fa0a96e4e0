"""c01_contract"""
import sqlalchemy as sa
from alembic import op

revision = 'c01_contract'
down_revision = None
branch_labels = ('contract',)
depends_on = 'm01_backfill'


def upgrade():
    op.contract_set_not_null("customers", "street")
    op.contract_drop_column("customers", "address", after_backfill="split_address")
    op.contract_drop_index("ix_customers_legacy", "customers")


def downgrade():
    pass
