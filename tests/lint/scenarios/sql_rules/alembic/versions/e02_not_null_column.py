"""e02_not_null_column"""
import sqlalchemy as sa
from alembic import op

revision = 'e02_not_null_column'
down_revision = 'e01_customers'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("customers", sa.Column("segment", sa.Text, nullable=False))
    op.add_column("customers", sa.Column("region", sa.Text, nullable=False, server_default="eu"))


def downgrade():
    op.drop_column("customers", "region")
    op.drop_column("customers", "segment")
