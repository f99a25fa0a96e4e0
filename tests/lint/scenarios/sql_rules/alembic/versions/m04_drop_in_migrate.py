"""m04_drop_in_migrate"""
import sqlalchemy as sa
from alembic import op

revision = 'm04_drop_in_migrate'
down_revision = 'm03_whole_table'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_column("customers", "nickname")


def downgrade():
    op.add_column("customers", sa.Column("nickname", sa.Text))
