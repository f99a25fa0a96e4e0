"""l03_legacy_drop: a drop from before the baseline (legacy: not linted by default)."""
from alembic import op

revision = "l03_legacy_drop"
down_revision = "l02_models"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_column("users", "legacy_flag")


def downgrade():
    pass
