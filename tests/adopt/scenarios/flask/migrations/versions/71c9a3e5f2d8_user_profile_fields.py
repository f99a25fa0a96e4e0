"""user profile fields

Revision ID: 71c9a3e5f2d8
Revises: b6e2f0c4d913
Create Date: 2023-10-02 19:40:12.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "71c9a3e5f2d8"
down_revision = "b6e2f0c4d913"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("about_me", sa.String(length=140), nullable=True))
        batch_op.add_column(sa.Column("last_seen", sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("last_seen")
        batch_op.drop_column("about_me")
