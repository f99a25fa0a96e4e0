"""e01_fine"""
import sqlalchemy as sa
from alembic import op

revision = 'e01_fine'
down_revision = None
branch_labels = ('expand',)
depends_on = None


def upgrade():
    op.add_column("customers", sa.Column("a", sa.Text))


def downgrade():
    op.drop_column("customers", "a")
