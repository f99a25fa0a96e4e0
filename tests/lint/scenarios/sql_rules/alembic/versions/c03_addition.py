"""c03_addition"""
import sqlalchemy as sa
from alembic import op

revision = 'c03_addition'
down_revision = 'c02_set_not_null'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("customers", sa.Column("loyalty", sa.Integer))


def downgrade():
    pass
