"""New tables: locking rules do not apply to empty new tables"""
import sqlalchemy as sa
from alembic import op

revision = 'e01_customers'
down_revision = None
branch_labels = ('expand',)
depends_on = None


def upgrade():
    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.String(100)),
        sa.Column("email", sa.Text),
        sa.Column("address", sa.Text),
    )
    op.create_index("ix_customers_name", "customers", ["name"])
    op.execute("ALTER TABLE customers ADD CONSTRAINT uq_customers_email UNIQUE (email)")
    op.add_column("customers", sa.Column("tier", sa.Text, nullable=False))
    op.add_column("customers", sa.Column("token", sa.Uuid, server_default=sa.text("gen_random_uuid()")))
    op.execute("ALTER TABLE customers ADD CONSTRAINT ck_customers_name CHECK (name <> '')")
    op.alter_column("customers", "name", type_=sa.Text)
    op.alter_column("customers", "address", new_column_name="full_address")
    op.execute("UPDATE customers SET tier = 'basic'")
    op.create_table("orders", sa.Column("id", sa.BigInteger, primary_key=True), sa.Column("customer_id", sa.BigInteger))
    op.create_foreign_key("fk_orders_customer", "orders", "customers", ["customer_id"], ["id"])
    op.create_table("tmp_import", sa.Column("id", sa.BigInteger, primary_key=True))
    op.rename_table("tmp_import", "imports")


def downgrade():
    op.drop_table("imports")
    op.drop_table("orders")
    op.drop_table("customers")
