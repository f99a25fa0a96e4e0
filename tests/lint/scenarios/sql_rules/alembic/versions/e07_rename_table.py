"""e07_rename_table"""
import sqlalchemy as sa
from alembic import op

revision = 'e07_rename_table'
down_revision = 'e06_rename_column'
branch_labels = None
depends_on = None


def upgrade():
    op.rename_table("orders", "purchases")


def downgrade():
    op.rename_table("purchases", "orders")
