"""e07_tables: upgrade() uses the table objects only the project's env.py passes in."""

revision = "e07_tables"
down_revision = "e06_types"
branch_labels = None
depends_on = None


def upgrade(op, tables, tester):
    op.bulk_insert(tables.mediatype, [{"name": "application/json"}])
    tester.populate_column("users", "locale", tester.TestDataType.String)


def downgrade(op, tables, tester):
    op.execute(tables.mediatype.delete())
