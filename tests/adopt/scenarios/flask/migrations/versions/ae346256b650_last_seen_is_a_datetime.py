"""last_seen is a datetime

Revision ID: ae346256b650
Revises: 37f06a334dbf
Create Date: 2023-10-20 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "ae346256b650"
down_revision = "37f06a334dbf"
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
