"""e02_orphan"""
import sqlalchemy as sa
from alembic import op

revision = 'e02_orphan'
down_revision = 'e01_gone'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("t", sa.Column("b", sa.Text))


def downgrade():
    op.drop_column("t", "b")
