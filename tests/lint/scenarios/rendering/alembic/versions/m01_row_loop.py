"""m01_row_loop"""
import sqlalchemy as sa
from alembic import op

revision = 'm01_row_loop'
down_revision = None
branch_labels = ('migrate',)
depends_on = 'e03_bad_sql'


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, address FROM customers")).fetchall()
    for row in rows:
        bind.execute(sa.text("UPDATE customers SET a = :a WHERE id = :id"), {"a": row.address, "id": row.id})
    op.drop_column("customers", "address")


def downgrade():
    pass  # expandcontract: ignore[EC304] data copy, nothing to undo
