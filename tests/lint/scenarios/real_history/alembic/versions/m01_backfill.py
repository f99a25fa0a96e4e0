"""m01_backfill: a broad UPDATE, a batched loop, and a row loop in downgrade()."""
import sqlalchemy as sa
from alembic import op

revision = "m01_backfill"
down_revision = "l03_legacy_drop"
branch_labels = ("migrate",)
depends_on = "e07_tables"


def upgrade():
    op.execute("UPDATE users SET plan = 'basic' WHERE id > 0")
    op.execute("UPDATE users SET locale = 'en' WHERE locale IS NULL AND plan = 'gold'")
    bind = op.get_bind()
    while True:
        done = bind.execute(
            sa.text(
                "UPDATE users SET verified = false WHERE id IN "
                "(SELECT id FROM users WHERE verified IS NULL LIMIT 1000)"
            )
        )
        if done.rowcount == 0:
            break


def downgrade():
    bind = op.get_bind()
    for row in bind.execute(sa.text("SELECT id FROM users")).fetchall():
        bind.execute(sa.text("UPDATE users SET plan = NULL WHERE id = :id"), {"id": row.id})
