"""Everything contract is for: no finding expected"""
import sqlalchemy as sa
from alembic import op

revision = 'c01_drops'
down_revision = None
branch_labels = ('contract',)
depends_on = 'm04_drop_in_migrate'


def upgrade():
    op.drop_column("customers", "legacy_code")
    op.drop_table("audit_log")
    op.execute("DROP SCHEMA archive CASCADE")
    op.drop_constraint("ck_customers_name", "customers")
    with op.get_context().autocommit_block():
        op.drop_index("ix_customers_name", table_name="customers", postgresql_concurrently=True)
    op.execute("DO $$ BEGIN PERFORM 1; END $$")
    op.alter_column("customers", "email", nullable=False)


def downgrade():
    pass
