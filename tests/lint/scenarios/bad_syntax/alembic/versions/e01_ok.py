"""e01_ok"""
import sqlalchemy as sa
from alembic import op

revision = 'e01_ok'
down_revision = None
branch_labels = ('expand',)
depends_on = None


def upgrade():
    op.add_column("t", sa.Column("a", sa.Text))


def downgrade():
    op.drop_column("t", "a")
