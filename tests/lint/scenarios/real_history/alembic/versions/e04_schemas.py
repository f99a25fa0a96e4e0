"""e04_schemas: creates audit.users; public.users is still an existing table."""
import sqlalchemy as sa
from alembic import op

revision = "e04_schemas"
down_revision = "e03_dialects"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("changed_at", sa.DateTime, nullable=False),
        schema="audit",
    )
    op.create_index("ix_audit_users_changed_at", "users", ["changed_at"], schema="audit")
    op.create_index("ix_users_email", "users", ["email"])
    op.add_column("users", sa.Column("plan", sa.String(20), nullable=False))


def downgrade():
    op.drop_column("users", "plan")
    op.drop_index("ix_users_email", "users")
    op.drop_table("users", schema="audit")
