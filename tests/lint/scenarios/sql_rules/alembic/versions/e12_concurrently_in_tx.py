"""e12_concurrently_in_tx"""
import sqlalchemy as sa
from alembic import op

revision = 'e12_concurrently_in_tx'
down_revision = 'e11_index'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_customers_region", "customers", ["region"], postgresql_concurrently=True)


def downgrade():
    op.drop_index("ix_customers_region", table_name="customers")
