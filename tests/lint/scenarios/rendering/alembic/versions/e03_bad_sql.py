"""e03_bad_sql"""
import sqlalchemy as sa
from alembic import op

revision = 'e03_bad_sql'
down_revision = 'e02_raises'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("ALTER TABLE customers ADD COLUMN c text NOT NUL")


def downgrade():
    op.drop_column("customers", "c")
