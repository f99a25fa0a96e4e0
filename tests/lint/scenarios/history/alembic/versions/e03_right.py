"""e03_right"""
import sqlalchemy as sa
from alembic import op

revision = 'e03_right'
down_revision = 'e01_root'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("customers", sa.Column("c", sa.Text))


def downgrade():
    op.drop_column("customers", "c")
