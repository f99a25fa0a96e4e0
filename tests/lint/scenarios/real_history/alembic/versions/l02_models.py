"""l02_models: imports the application's own package, which CI does not install."""
import sqlalchemy as sa
from alembic import op

from acme.db.types import GUID  # the project's package: not installed where `check` runs

revision = "l02_models"
down_revision = "l01_initial"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("token", sa.String(40)))


def downgrade():
    op.drop_column("users", "token")
