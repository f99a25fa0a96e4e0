"""new fields in user model

Revision ID: 37f06a334dbf
Revises: 834b1a697901
Create Date: 2023-10-02 19:40:12.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "37f06a334dbf"
down_revision = "834b1a697901"
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
