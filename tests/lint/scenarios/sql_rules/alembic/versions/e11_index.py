"""e11_index"""
import sqlalchemy as sa
from alembic import op

revision = 'e11_index'
down_revision = 'e10_drop_schema'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_customers_email", "customers", ["email"])
    with op.get_context().autocommit_block():
        op.create_index("ix_customers_tier", "customers", ["tier"], postgresql_concurrently=True)


def downgrade():
    op.drop_index("ix_customers_tier", table_name="customers")
    op.drop_index("ix_customers_email", table_name="customers")
