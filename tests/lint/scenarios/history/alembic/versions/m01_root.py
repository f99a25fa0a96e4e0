"""m01_root"""
import sqlalchemy as sa
from alembic import op

revision = 'm01_root'
down_revision = None
branch_labels = ('migrate',)
depends_on = 'e01_root'


def upgrade():
    op.execute("UPDATE customers SET a = name WHERE id < 10")


def downgrade():
    op.execute("UPDATE customers SET a = NULL WHERE id < 10")
