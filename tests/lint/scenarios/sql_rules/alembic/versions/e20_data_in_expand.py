"""e20_data_in_expand"""
import sqlalchemy as sa
from alembic import op

revision = 'e20_data_in_expand'
down_revision = 'e19_drop_constraint'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE customers SET tier = 'gold' WHERE id < 100")
    op.execute("UPDATE customers SET region = 'eu'")


def downgrade():
    op.execute("UPDATE customers SET tier = 'basic' WHERE id < 100")
