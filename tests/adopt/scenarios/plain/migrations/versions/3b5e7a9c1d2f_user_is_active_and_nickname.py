"""user is_active and nickname

Revision ID: 3b5e7a9c1d2f
Revises: 7c9d2e4f6a8b
Create Date: 2024-03-01 17:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "3b5e7a9c1d2f"
down_revision = "7c9d2e4f6a8b"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "user", sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False)
    )
    op.add_column("user", sa.Column("nickname", sa.String(length=30), nullable=True))


def downgrade():
    with op.batch_alter_table("user") as batch:
        batch.drop_column("nickname")
        batch.drop_column("is_active")
