"""e13_foreign_key"""
import sqlalchemy as sa
from alembic import op

revision = 'e13_foreign_key'
down_revision = 'e12_concurrently_in_tx'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("ALTER TABLE purchases ADD CONSTRAINT fk_purchases_customer FOREIGN KEY (customer_id) REFERENCES customers (id)")
    op.execute("ALTER TABLE purchases ADD CONSTRAINT fk_purchases_customer2 FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID")


def downgrade():
    op.drop_constraint("fk_purchases_customer2", "purchases")
    op.drop_constraint("fk_purchases_customer", "purchases")
