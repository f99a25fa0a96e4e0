"""e02_raises"""
import sqlalchemy as sa
from alembic import op

revision = 'e02_raises'
down_revision = 'e01_fine'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("customers", sa.Column("b", sa.Text))
    op.add_column("customers", "not a column")


def downgrade():
    op.drop_column("customers", "b")
