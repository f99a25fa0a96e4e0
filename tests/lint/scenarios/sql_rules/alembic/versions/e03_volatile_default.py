"""e03_volatile_default"""
import sqlalchemy as sa
from alembic import op

revision = 'e03_volatile_default'
down_revision = 'e02_not_null_column'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("customers", sa.Column("public_id", sa.Uuid, server_default=sa.text("gen_random_uuid()")))
    op.add_column("customers", sa.Column("country", sa.Text, server_default="NL"))


def downgrade():
    op.drop_column("customers", "country")
    op.drop_column("customers", "public_id")
