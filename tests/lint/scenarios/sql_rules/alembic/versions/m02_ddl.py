"""m02_ddl"""
import sqlalchemy as sa
from alembic import op

revision = 'm02_ddl'
down_revision = 'm01_backfill'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("customers", sa.Column("score", sa.Integer))


def downgrade():
    op.drop_column("customers", "score")
