"""e05_type_change"""
import sqlalchemy as sa
from alembic import op

revision = 'e05_type_change'
down_revision = 'e04_set_not_null'
branch_labels = None
depends_on = None


def upgrade():
    op.alter_column("orders", "customer_id", type_=sa.Integer)


def downgrade():
    op.alter_column("orders", "customer_id", type_=sa.BigInteger)
