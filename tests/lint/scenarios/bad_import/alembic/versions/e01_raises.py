"""e01_raises"""
import sqlalchemy as sa
from alembic import op

revision = 'e01_raises'
down_revision = None
branch_labels = ('expand',)
depends_on = None
raise RuntimeError("configuration missing")


def upgrade():
    pass


def downgrade():
    pass
