"""Release green: the structured address."""
import sqlalchemy as sa

metadata = sa.MetaData()
customers = sa.Table(
    "customers", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("name", sa.Text),
    sa.Column("street", sa.Text),
    sa.Column("city", sa.Text),
    sa.Column("fax", sa.Text),
)
