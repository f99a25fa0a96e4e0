"""widen user columns, drop the password hash (moved to the auth service)

Revision ID: 8b0d2f4a6c8e
Revises: 2a4c6e8f0b1d
Create Date: 2024-07-09 16:05:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "8b0d2f4a6c8e"
down_revision = "2a4c6e8f0b1d"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.alter_column("email", existing_type=sa.String(100), type_=sa.String(255))
        batch.alter_column("full_name", existing_type=sa.String(50), type_=sa.String(255))
        batch.drop_column("hashed_password")
    with op.batch_alter_table("item") as batch:
        batch.alter_column("title", existing_type=sa.String(100), type_=sa.String(255))


def downgrade():
    op.add_column("user", sa.Column("hashed_password", sa.String(), nullable=True))
