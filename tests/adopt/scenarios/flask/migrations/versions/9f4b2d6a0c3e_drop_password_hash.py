"""drop password hash (logins moved to the identity provider)

Revision ID: 9f4b2d6a0c3e
Revises: c3a8d5e1f7b4
Create Date: 2023-11-05 12:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "9f4b2d6a0c3e"
down_revision = "c3a8d5e1f7b4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("password_hash")


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=128), nullable=True))
