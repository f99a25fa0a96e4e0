"""Seed the v1 customers table with realistic rows, a few of them malformed."""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url

from expandcontract.rehearsal.addresses import Address, AddressBook
from expandcontract.rehearsal.customers import CustomerRegistry, Expected

# About one row in this many has an address the migration cannot convert (it must be
# quarantined); small runs still get a few.
MALFORMED_EVERY = 2000
MALFORMED_AT_LEAST = 3


def libpq_dsn(url: str) -> str:
    """A SQLAlchemy URL as a libpq connection string for psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def seed_customers(url: str, rows: int, registry: CustomerRegistry, seed: int = 8) -> int:
    """COPY ``rows`` customers into ``customers`` and record each in ``registry``.

    Returns how many have a malformed address. Uses COPY, so 20,000 rows take well under a
    second; the ids come back in the same statement's order.
    """
    book = AddressBook(seed)
    records: list[tuple[str, str, str, Address | None]] = []
    malformed = 0
    spacing = max(1, rows // max(MALFORMED_AT_LEAST, rows // MALFORMED_EVERY))
    for index in range(rows):
        name, email = book.name(), book.email("seed")
        if index % spacing == spacing // 2:
            records.append((name, email, book.malformed(), None))
            malformed += 1
        else:
            parts = book.address()
            records.append((name, email, parts.flat, parts))
    with psycopg.connect(libpq_dsn(url)) as connection:
        with connection.cursor() as cursor:
            with cursor.copy("COPY customers (name, email, address) FROM STDIN") as copy:
                for name, email, flat, _ in records:
                    copy.write_row((name, email, flat))
            cursor.execute("SELECT id, email FROM customers")
            ids = dict((email, cid) for cid, email in cursor.fetchall())
        connection.commit()
    for name, email, flat, address in records:
        registry.record(Expected(ids[email], name, email, address, flat, written_in_run=False))
    return malformed
