"""post body without a length limit

Revision ID: 0c1d2e3f4a5b
Revises: d1a2e3f4a5b6
Create Date: 2024-02-14 15:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0c1d2e3f4a5b"
down_revision = "d1a2e3f4a5b6"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.alter_column("body", existing_type=sa.String(length=140), type_=sa.Text())


def downgrade():
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.alter_column("body", existing_type=sa.Text(), type_=sa.String(length=140))
