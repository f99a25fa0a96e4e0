"""e15_unique"""
import sqlalchemy as sa
from alembic import op

revision = 'e15_unique'
down_revision = 'e14_check'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("ALTER TABLE customers ADD CONSTRAINT uq_customers_public_id UNIQUE (public_id)")
    with op.get_context().autocommit_block():
        op.execute("CREATE UNIQUE INDEX CONCURRENTLY uq_customers_token_idx ON customers (token)")
    op.execute("ALTER TABLE customers ADD CONSTRAINT uq_customers_token UNIQUE USING INDEX uq_customers_token_idx")


def downgrade():
    op.drop_constraint("uq_customers_token", "customers")
    op.drop_constraint("uq_customers_public_id", "customers")
