"""e02_arguments: upgrade() takes what only the project's env.py passes in."""
import sqlalchemy as sa

revision = "e02_arguments"
down_revision = "e01_root"
branch_labels = None
depends_on = None


def upgrade(op, tables, tester):
    op.add_column("users", sa.Column("locale", sa.String(10)))
    op.alter_column("users", "locale", type_=sa.String(20), existing_type=sa.String(10))
    op.alter_column("users", "email", type_=sa.Text(), existing_type=sa.String(40))
    op.alter_column("users", "id", type_=sa.BigInteger(), existing_type=sa.Integer())


def downgrade(op, tables, tester):
    op.drop_column("users", "locale")
