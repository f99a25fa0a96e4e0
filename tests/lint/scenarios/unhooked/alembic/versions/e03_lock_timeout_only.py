"""e03_lock_timeout_only"""
import sqlalchemy as sa
from alembic import op

revision = 'e03_lock_timeout_only'
down_revision = 'e02_with_timeout'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET lock_timeout = '2s'")
    op.add_column("customers", sa.Column("tier", sa.Text))


def downgrade():
    op.drop_column("customers", "tier")
