"""e19_drop_constraint"""
import sqlalchemy as sa
from alembic import op

revision = 'e19_drop_constraint'
down_revision = 'e18_commit'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_constraint("ck_customers_country", "customers")


def downgrade():
    op.execute("ALTER TABLE customers ADD CONSTRAINT ck_customers_country CHECK (country <> '') NOT VALID")
