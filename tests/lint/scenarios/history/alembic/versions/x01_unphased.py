"""x01_unphased"""
import sqlalchemy as sa
from alembic import op

revision = 'x01_unphased'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("products", sa.Column("x", sa.Text))


def downgrade():
    op.drop_column("products", "x")
