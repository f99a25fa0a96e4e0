"""e02_drops_used"""
import sqlalchemy as sa
from alembic import op

revision = 'e02_drops_used'
down_revision = 'e01_split'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_column("customers", "address")  # expandcontract: ignore[EC107] shows EC401 on its own


def downgrade():
    op.add_column("customers", sa.Column("address", sa.Text))
