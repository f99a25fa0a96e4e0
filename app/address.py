"""Address rules, in one place: the SQL parse function the expand migration installs.

The sync trigger, the backfill and green's flat-address input all call the same PostgreSQL
function, so there is exactly one definition of how ``"street, city, ST, zip"`` is split (the
last three comma-separated parts are city, state and zip; everything before them is the street).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from app.errors import bad_request
from app.validation import StructuredAddress

# Installed by alembic/versions/*_split_address.py (the split-column pattern's expand step).
PARSE_FUNCTION = "customers_address_parse"


def compose(parts: StructuredAddress) -> str:
    """The flat form blue reads: ``street, city, ST, zip``."""
    return f"{parts.street}, {parts.city}, {parts.state}, {parts.zip}"


def parse(connection: Connection, flat: str | None) -> tuple[StructuredAddress | None, str | None]:
    """Split ``flat`` with the database's parse function: ``(parts, None)`` or ``(None, why)``."""
    row = (
        connection.execute(sa.text(f"SELECT * FROM {PARSE_FUNCTION}(:flat)"), {"flat": flat})
        .mappings()
        .one()
    )
    if row["reject_reason"] is not None:
        return None, row["reject_reason"]
    return (
        StructuredAddress(row["street_address"], row["city"], row["state"], row["zip_code"]),
        None,
    )


def parse_or_reject(connection: Connection, flat: str) -> StructuredAddress:
    """The parts of ``flat``, or a 400 that gives the parser's reason."""
    parts, reason = parse(connection, flat)
    if parts is None:
        raise bad_request(f"address cannot be parsed: {reason}", {"address": str(reason)})
    return parts
