"""e03_exemption"""
import sqlalchemy as sa
from alembic import op

revision = 'e03_exemption'
down_revision = 'e02_file_level'
branch_labels = None
depends_on = None
expandcontract_exemptions = {"drop_column": "column added by mistake in e02, never deployed"}


def upgrade():
    op.drop_column("customers", "g")


def downgrade():
    op.add_column("customers", sa.Column("g", sa.Text))
