"""e02_left"""
import sqlalchemy as sa
from alembic import op

revision = 'e02_left'
down_revision = 'e01_root'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("customers", sa.Column("b", sa.Text))


def downgrade():
    op.drop_column("customers", "b")
