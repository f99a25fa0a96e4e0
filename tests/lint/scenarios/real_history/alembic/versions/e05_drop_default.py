"""e05_drop_default: a required column "backfilled" by a default that is dropped at once."""
import sqlalchemy as sa
from alembic import op

revision = "e05_drop_default"
down_revision = "e04_schemas"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("tier", sa.String(10), nullable=False, server_default="free"))
    op.alter_column("users", "tier", server_default=None)
    op.add_column("users", sa.Column("score", sa.Integer, nullable=False, server_default="0"))
    op.execute("SET lock_timeout = '2s'; ALTER TABLE users ADD CONSTRAINT ck_tier CHECK (tier <> '')")


def downgrade():
    op.drop_column("users", "score")
    op.drop_column("users", "tier")
