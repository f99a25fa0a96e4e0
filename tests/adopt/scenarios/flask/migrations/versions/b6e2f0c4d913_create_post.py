"""create post

Revision ID: b6e2f0c4d913
Revises: 4d1c0e9a7b21
Create Date: 2023-09-12 08:15:47.000001

"""

import sqlalchemy as sa
from alembic import op

revision = "b6e2f0c4d913"
down_revision = "4d1c0e9a7b21"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(length=140), nullable=False),
        sa.Column("timestamp", sa.DateTime(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_timestamp"), ["timestamp"], unique=False)


def downgrade():
    op.drop_table("post")
