"""e01_no_timeout"""
import sqlalchemy as sa
from alembic import op

revision = 'e01_no_timeout'
down_revision = None
branch_labels = ('expand',)
depends_on = None


def upgrade():
    op.add_column("customers", sa.Column("nickname", sa.Text))
    op.add_column("customers", sa.Column("motto", sa.Text))


def downgrade():
    op.drop_column("customers", "motto")
    op.drop_column("customers", "nickname")
