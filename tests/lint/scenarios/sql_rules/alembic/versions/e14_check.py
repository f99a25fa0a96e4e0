"""e14_check"""
import sqlalchemy as sa
from alembic import op

revision = 'e14_check'
down_revision = 'e13_foreign_key'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("ALTER TABLE customers ADD CONSTRAINT ck_customers_country CHECK (country <> '')")
    op.execute("ALTER TABLE customers ADD CONSTRAINT ck_customers_email_nn CHECK (email IS NOT NULL) NOT VALID")


def downgrade():
    op.drop_constraint("ck_customers_email_nn", "customers")
    op.drop_constraint("ck_customers_country", "customers")
