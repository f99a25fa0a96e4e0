"""m03_whole_table"""
import sqlalchemy as sa
from alembic import op

revision = 'm03_whole_table'
down_revision = 'm02_ddl'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE customers SET country = upper(country)")


def downgrade():
    op.execute("UPDATE customers SET country = lower(country) WHERE id < 10")
