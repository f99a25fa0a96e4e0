"""e01_split"""
import sqlalchemy as sa
from alembic import op

revision = 'e01_split'
down_revision = None
branch_labels = ('expand',)
depends_on = None


def upgrade():
    op.add_column("customers", sa.Column("street", sa.Text))
    op.add_column("customers", sa.Column("city", sa.Text))


def downgrade():
    op.drop_column("customers", "city")
    op.drop_column("customers", "street")
