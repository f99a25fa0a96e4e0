"""e02_file_level"""
import sqlalchemy as sa
from alembic import op

revision = 'e02_file_level'
down_revision = 'e01_suppressed'
branch_labels = None
depends_on = None
# expandcontract: ignore-file[EC107, EC201] table is being retired with this release


def upgrade():
    op.drop_column("retired", "x")
    op.drop_constraint("ck_retired", "retired")


def downgrade():
    op.add_column("retired", sa.Column("x", sa.Text))
