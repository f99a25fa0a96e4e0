"""e22_no_downgrade"""
import sqlalchemy as sa
from alembic import op

revision = 'e22_no_downgrade'
down_revision = 'e21_do_block'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("customers", sa.Column("vip", sa.Boolean))


def downgrade():
    pass
