"""m01_uses_models"""
import sqlalchemy as sa
from alembic import op
from shop.models_green import customers

revision = 'm01_uses_models'
down_revision = None
branch_labels = ('migrate',)
depends_on = 'e02_drops_used'


def upgrade():
    op.execute(customers.update().where(customers.c.id < 1000).values(city="?"))


def downgrade():
    op.execute("UPDATE customers SET city = NULL WHERE id < 1000")
