"""c04_drop_index"""
import sqlalchemy as sa
from alembic import op

revision = 'c04_drop_index'
down_revision = 'c03_addition'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_customers_email", table_name="customers")


def downgrade():
    pass
