"""create item table

Revision ID: 7c9d2e4f6a8b
Revises: 1f0a6c1e2b3d
Create Date: 2024-02-10 08:01:02.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "7c9d2e4f6a8b"
down_revision = "1f0a6c1e2b3d"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("price", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade():
    op.drop_table("item")
