"""m02_set_based"""
import sqlalchemy as sa
from alembic import op

revision = 'm02_set_based'
down_revision = 'm01_row_loop'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE customers SET a = address WHERE id BETWEEN 1 AND 1000")


def downgrade():
    op.execute("UPDATE customers SET a = NULL WHERE id BETWEEN 1 AND 1000")
