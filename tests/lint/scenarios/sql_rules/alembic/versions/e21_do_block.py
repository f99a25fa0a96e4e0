"""e21_do_block"""
import sqlalchemy as sa
from alembic import op

revision = 'e21_do_block'
down_revision = 'e20_data_in_expand'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DO $$ BEGIN PERFORM 1; END $$")


def downgrade():
    op.execute("SELECT 1")
