"""e10_drop_schema"""
import sqlalchemy as sa
from alembic import op

revision = 'e10_drop_schema'
down_revision = 'e09_drop_table'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DROP SCHEMA archive CASCADE")


def downgrade():
    op.execute("CREATE SCHEMA archive")
