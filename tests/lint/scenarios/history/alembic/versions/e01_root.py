"""e01_root"""
import sqlalchemy as sa
from alembic import op

revision = 'e01_root'
down_revision = None
branch_labels = ('expand',)
depends_on = None


def upgrade():
    op.add_column("customers", sa.Column("a", sa.Text))


def downgrade():
    op.drop_column("customers", "a")
