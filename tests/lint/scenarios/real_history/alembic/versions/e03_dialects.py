"""e03_dialects: reads the database, branches on the dialect, binds %s parameters."""
import sqlalchemy as sa
from alembic import op

revision = "e03_dialects"
down_revision = "e02_arguments"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "oracle":
        op.execute("ALTER TABLE users MODIFY (email VARCHAR2(80))")
        op.drop_column("users", "token")
    elif dialect == "mysql":
        op.execute("ALTER TABLE users CHANGE email email VARCHAR(80) NOT NULL")
    else:
        op.add_column("users", sa.Column("verified", sa.Boolean, nullable=True))
    if op.get_context().dialect.name != "postgresql":
        op.drop_column("users", "display_name")
    bind.exec_driver_sql("UPDATE users SET verified = %s WHERE id = %s", (True, 1))


def downgrade():
    op.drop_column("users", "verified")
