"""e06_rename_column"""
import sqlalchemy as sa
from alembic import op

revision = 'e06_rename_column'
down_revision = 'e05_type_change'
branch_labels = None
depends_on = None


def upgrade():
    op.alter_column("customers", "full_address", new_column_name="address")


def downgrade():
    op.alter_column("customers", "address", new_column_name="full_address")
