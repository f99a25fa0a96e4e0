"""index post.user_id

Revision ID: d1a2e3f4a5b6
Revises: 9f4b2d6a0c3e
Create Date: 2024-01-08 09:09:09.000000

"""

from alembic import op

revision = "d1a2e3f4a5b6"
down_revision = "9f4b2d6a0c3e"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_post_user_id", "post", ["user_id"], unique=False)


def downgrade():
    op.drop_index("ix_post_user_id", table_name="post")
