"""e08_drop_column"""
import sqlalchemy as sa
from alembic import op

revision = 'e08_drop_column'
down_revision = 'e07_rename_table'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_column("customers", "legacy_code")


def downgrade():
    op.add_column("customers", sa.Column("legacy_code", sa.Text))
