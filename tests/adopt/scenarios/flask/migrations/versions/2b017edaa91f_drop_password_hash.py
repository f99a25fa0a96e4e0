"""drop password hash (logins moved to the identity provider)

Revision ID: 2b017edaa91f
Revises: ae346256b650
Create Date: 2023-11-05 12:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "2b017edaa91f"
down_revision = "ae346256b650"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("password_hash")


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("password_hash", sa.String(length=128), nullable=True))
