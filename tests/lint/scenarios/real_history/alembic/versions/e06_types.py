"""e06_types: a widening PostgreSQL makes in place, and a change that rewrites the table."""
import sqlalchemy as sa
from alembic import op

revision = "e06_types"
down_revision = "e05_drop_default"
branch_labels = None
depends_on = None


def upgrade():
    op.alter_column("users", "email", type_=sa.String(120), existing_type=sa.String(40))
    op.alter_column("users", "id", type_=sa.BigInteger, existing_type=sa.Integer)


def downgrade():
    op.alter_column("users", "id", type_=sa.Integer, existing_type=sa.BigInteger)
    op.alter_column("users", "email", type_=sa.String(40), existing_type=sa.String(120))
