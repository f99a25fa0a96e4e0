"""green no longer uses address: fine"""
import sqlalchemy as sa
from alembic import op

revision = 'c01_drop_address'
down_revision = None
branch_labels = ('contract',)
depends_on = 'm01_uses_models'


def upgrade():
    op.drop_column("customers", "address")


def downgrade():
    pass
