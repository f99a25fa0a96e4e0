"""e02_broken"""
import sqlalchemy as sa
from alembic import op

revision = 'e02_broken'
down_revision = 'e01_ok'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("t", sa.Column("b", sa.Text)


def downgrade():
    op.drop_column("t", "b")
