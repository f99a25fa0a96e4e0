"""posts table

Revision ID: 834b1a697901
Revises: e517276bb1c2
Create Date: 2023-09-12 08:15:47.000001

"""

import sqlalchemy as sa
from alembic import op

revision = "834b1a697901"
down_revision = "e517276bb1c2"
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
