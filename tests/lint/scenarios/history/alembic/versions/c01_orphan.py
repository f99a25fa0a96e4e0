"""c01_orphan"""
import sqlalchemy as sa
from alembic import op

revision = 'c01_orphan'
down_revision = None
branch_labels = ('contract',)
depends_on = None


def upgrade():
    op.drop_column("customers", "legacy")


def downgrade():
    pass
