"""c02_finishes"""
import sqlalchemy as sa
from alembic import op

revision = 'c02_finishes'
down_revision = 'c01_orphan'
branch_labels = None
depends_on = 'm01_root'


def upgrade():
    op.drop_column("customers", "name")


def downgrade():
    pass
