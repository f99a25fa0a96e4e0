"""e18_commit"""
import sqlalchemy as sa
from alembic import op

revision = 'e18_commit'
down_revision = 'e17_lock_timeout_off'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("customers", sa.Column("nickname", sa.Text))
    op.execute("COMMIT")
    op.add_column("customers", sa.Column("motto", sa.Text))


def downgrade():
    op.drop_column("customers", "motto")
    op.drop_column("customers", "nickname")
