"""e01_root: the expand branch, rooted on the baseline; imports the uninstalled package."""
import sqlalchemy as sa
from alembic import op

from acme.db.types import GUID  # rendered with a stand-in: the column below does not use it

revision = "e01_root"
down_revision = "l03_legacy_drop"
branch_labels = ("expand",)
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("display_name", sa.String(80)))


def downgrade():
    op.drop_column("users", "display_name")
