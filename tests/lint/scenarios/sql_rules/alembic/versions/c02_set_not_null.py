"""c02_set_not_null"""
import sqlalchemy as sa
from alembic import op

revision = 'c02_set_not_null'
down_revision = 'c01_drops'
branch_labels = None
depends_on = None


def upgrade():
    op.alter_column("customers", "name", nullable=False)


def downgrade():
    pass
