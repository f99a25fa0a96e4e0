"""u01_unphased: written after the baseline without a phase; prints, asks for offline mode."""
from alembic import context, op

print("u01: loading")  # revisions that print must not corrupt --format json

revision = "u01_unphased"
down_revision = "l03_legacy_drop"
branch_labels = None
depends_on = None


def upgrade():
    print("u01: upgrading")
    if not context.is_offline_mode():
        print("online: would check the data first")
    op.drop_column("users", "nickname")


def downgrade():
    pass
