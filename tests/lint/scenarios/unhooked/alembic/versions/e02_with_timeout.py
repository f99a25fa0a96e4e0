"""e02_with_timeout"""
import sqlalchemy as sa
from alembic import op

revision = 'e02_with_timeout'
down_revision = 'e01_no_timeout'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET lock_timeout = '2s'")
    op.execute("SET statement_timeout = '60s'")
    op.add_column("customers", sa.Column("vip", sa.Boolean))


def downgrade():
    op.drop_column("customers", "vip")
