"""c05_rewrite"""
import sqlalchemy as sa
from alembic import op

revision = 'c05_rewrite'
down_revision = 'c04_drop_index'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("ALTER TABLE purchases SET LOGGED")


def downgrade():
    pass
