"""m01_backfill"""
import sqlalchemy as sa
from alembic import op

revision = 'm01_backfill'
down_revision = None
branch_labels = ('migrate',)
depends_on = 'e22_no_downgrade'


def upgrade():
    op.execute("UPDATE customers SET segment = 'retail' WHERE id >= 1 AND id < 1001 AND segment IS NULL")
    op.execute("ALTER TABLE customers VALIDATE CONSTRAINT ck_customers_email_nn")
    op.execute("CREATE TABLE expandcontract_backfill_cursor (name text PRIMARY KEY, last_id bigint)")


def downgrade():
    op.execute("UPDATE customers SET segment = NULL WHERE id >= 1 AND id < 1001")
