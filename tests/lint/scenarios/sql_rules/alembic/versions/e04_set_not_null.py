"""e04_set_not_null"""
import sqlalchemy as sa
from alembic import op

revision = 'e04_set_not_null'
down_revision = 'e03_volatile_default'
branch_labels = None
depends_on = None


def upgrade():
    op.alter_column("customers", "email", nullable=False)


def downgrade():
    op.alter_column("customers", "email", nullable=True)
