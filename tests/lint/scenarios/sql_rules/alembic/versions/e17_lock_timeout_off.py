"""e17_lock_timeout_off"""
import sqlalchemy as sa
from alembic import op

revision = 'e17_lock_timeout_off'
down_revision = 'e16_reindex'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("SET lock_timeout = 0")
    op.add_column("customers", sa.Column("note", sa.Text))


def downgrade():
    op.drop_column("customers", "note")
