"""l01_initial: the project's first revision, long before it adopted expandcontract."""
import sqlalchemy as sa
from alembic import op

revision = "l01_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(40), nullable=False),
        sa.Column("legacy_flag", sa.Boolean),
        sa.Column("nickname", sa.String(40)),
    )


def downgrade():
    op.drop_table("users")
