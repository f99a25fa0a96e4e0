"""e16_reindex"""
import sqlalchemy as sa
from alembic import op

revision = 'e16_reindex'
down_revision = 'e15_unique'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("REINDEX TABLE customers")
    with op.get_context().autocommit_block():
        op.execute("REINDEX TABLE CONCURRENTLY purchases")


def downgrade():
    op.execute("SELECT 1")
