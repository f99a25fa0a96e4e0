"""last_seen is a datetime

Revision ID: c3a8d5e1f7b4
Revises: 71c9a3e5f2d8
Create Date: 2023-10-20 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "c3a8d5e1f7b4"
down_revision = "71c9a3e5f2d8"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.alter_column(
            "last_seen",
            existing_type=sa.String(length=32),
            type_=sa.DateTime(),
            postgresql_using="last_seen::timestamp",
        )


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.alter_column("last_seen", existing_type=sa.DateTime(), type_=sa.String(32))
