"""green still maps fax"""
import sqlalchemy as sa
from alembic import op

revision = 'c02_drop_fax'
down_revision = 'c01_drop_address'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_column("customers", "fax")


def downgrade():
    pass
