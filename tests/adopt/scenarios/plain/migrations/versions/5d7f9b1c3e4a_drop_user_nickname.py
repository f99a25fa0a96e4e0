"""drop user nickname

Revision ID: 5d7f9b1c3e4a
Revises: 9e1f3a5b7c2d
Create Date: 2024-05-20 11:45:10.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "5d7f9b1c3e4a"
down_revision = "9e1f3a5b7c2d"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user") as batch:
        batch.drop_column("nickname")


def downgrade():
    op.add_column("user", sa.Column("nickname", sa.String(length=30), nullable=True))
