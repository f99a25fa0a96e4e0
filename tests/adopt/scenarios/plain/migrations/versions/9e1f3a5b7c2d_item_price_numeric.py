"""item price in cents becomes a decimal amount

Revision ID: 9e1f3a5b7c2d
Revises: 3b5e7a9c1d2f
Create Date: 2024-04-15 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "9e1f3a5b7c2d"
down_revision = "3b5e7a9c1d2f"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("item") as batch:
        batch.alter_column(
            "price",
            existing_type=sa.Integer(),
            type_=sa.Numeric(10, 2),
            existing_nullable=True,
        )


def downgrade():
    with op.batch_alter_table("item") as batch:
        batch.alter_column("price", existing_type=sa.Numeric(10, 2), type_=sa.Integer())
