"""index item title

Revision ID: 2a4c6e8f0b1d
Revises: 5d7f9b1c3e4a
Create Date: 2024-06-02 14:20:00.000000

"""

from alembic import op

revision = "2a4c6e8f0b1d"
down_revision = "5d7f9b1c3e4a"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_item_title", "item", ["title"], unique=False)


def downgrade():
    op.drop_index("ix_item_title", table_name="item")
