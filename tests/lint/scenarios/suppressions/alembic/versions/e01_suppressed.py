"""e01_suppressed"""
import sqlalchemy as sa
from alembic import op

revision = 'e01_suppressed'
down_revision = None
branch_labels = ('expand',)
depends_on = None


def upgrade():
    op.drop_column("customers", "a")  # expandcontract: ignore[EC107] column was never read by any release
    op.drop_column(  # expandcontract: ignore[drop-column] multi-line call, still one statement
        "customers",
        "b",
    )
    op.drop_column("customers", "c")  # expandcontract: ignore[EC107]
    op.add_column("customers", sa.Column("d", sa.Text))  # expandcontract: ignore[EC107] nothing to silence
    op.add_column("customers", sa.Column("e", sa.Text))  # expandcontract: ignore[EC999] no such rule
    op.drop_column("customers", "f")


def downgrade():
    op.add_column("customers", sa.Column("a", sa.Text))
