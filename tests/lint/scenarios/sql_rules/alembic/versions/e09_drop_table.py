"""e09_drop_table"""
import sqlalchemy as sa
from alembic import op

revision = 'e09_drop_table'
down_revision = 'e08_drop_column'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table("audit_log")


def downgrade():
    op.create_table("audit_log", sa.Column("id", sa.BigInteger, primary_key=True))
