"""The address split, expand part, with phase-typed operations"""
import sqlalchemy as sa
from alembic import op

revision = 'e01_expand'
down_revision = None
branch_labels = ('expand',)
depends_on = None


def upgrade():
    op.expand_add_column("customers", "street", sa.Text())
    op.expand_add_column("customers", "city", sa.Text())
    op.expand_create_index("ix_customers_city", "customers", ["city"])
    op.expand_add_check("ck_customers_street_nn", "customers", "street IS NOT NULL")
    op.expand_add_foreign_key("fk_customers_region", "customers", ["region_id"], "regions", ["id"])
    op.expand_add_unique("uq_customers_email", "customers", ["email"])


def downgrade():
    op.drop_column("customers", "city")
    op.drop_column("customers", "street")
