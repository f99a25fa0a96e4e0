"""What differs between blue (v1) and green (v2): the columns each reads and writes, and the JSON.

Everything else (routes, validation of name and email, caching, errors) is shared, so the two
releases differ only where the schema change forces them to.
"""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.engine import RowMapping

from app import address, models_v1, models_v2, validation
from app.errors import bad_request


class Release(Protocol):
    """One release's view of the customers table."""

    metadata: sa.MetaData
    table: sa.Table

    def read_table(self) -> sa.Table:
        """The columns this release reads (may include ones it only reads while they exist)."""

    def read_column_gone(self) -> None:
        """A read failed on an undefined column: stop reading optional columns."""

    def to_json(self, row: RowMapping) -> dict[str, Any]:
        """The release's own JSON shape of a customer (its unversioned ``GET``)."""

    def flat_json(self, customer: dict[str, Any]) -> dict[str, Any]:
        """The v1 shape (flat ``address`` string) of a customer in this release's shape."""

    def address_values(self, value: Any) -> dict[str, Any]:
        """Column values for the ``address`` field of a request body (400 if invalid)."""


def _base(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "email": row["email"],
        "address": None,
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
    }


class Blue:
    """v1: one flat ``address`` string, stored as given (trimmed)."""

    metadata = models_v1.metadata
    table = models_v1.customers

    def read_table(self) -> sa.Table:
        return self.table

    def read_column_gone(self) -> None:
        return None

    def to_json(self, row: RowMapping) -> dict[str, Any]:
        customer = _base(row)
        customer["address"] = row["address"]
        return customer

    def flat_json(self, customer: dict[str, Any]) -> dict[str, Any]:
        return customer

    def address_values(self, value: Any) -> dict[str, Any]:
        return {"address": validation.flat_address(value)}


# Green also reads the old ``address`` column while it exists (until the contract), so a row
# the backfill has not reached, or whose address the parser rejects, is never shown without
# its address. Its own MetaData: green does not *need* the column, so mark-stable does not
# record it as used and the contract may drop it (reads then go on without it).
LEGACY_READ = models_v2.customers.to_metadata(sa.MetaData())
LEGACY_READ.append_column(sa.Column("address", sa.Text, nullable=True))
# Per app (so per database): once the column is dropped, it does not come back.
_DROPPED = "customers.address_dropped"


class Green:
    """v2: ``address`` is ``{street, city, state, zip}``; a flat string on input is parsed."""

    metadata = models_v2.metadata
    table = models_v2.customers

    def read_table(self) -> sa.Table:
        return self.table if current_app.extensions.get(_DROPPED) else LEGACY_READ

    def read_column_gone(self) -> None:
        current_app.extensions[_DROPPED] = True

    def to_json(self, row: RowMapping) -> dict[str, Any]:
        customer = _base(row)
        if row["street_address"] is not None:
            customer["address"] = {
                "street": row["street_address"],
                "city": row["city"],
                "state": row["state"],
                "zip": row["zip_code"],
            }
        elif row.get("address") is not None:
            customer["address"] = address.structured_or_unparsed(row["address"])
        return customer

    def flat_json(self, customer: dict[str, Any]) -> dict[str, Any]:
        parts = customer["address"]
        if parts is None:
            flat = None
        elif parts.get("unparsed") is not None:
            flat = parts["unparsed"]
        else:
            flat = address.compose(validation.StructuredAddress(**parts))
        return {**customer, "address": flat}

    def address_values(self, value: Any) -> dict[str, Any]:
        if value is None:
            parts = None
        elif isinstance(value, dict):
            parts = validation.structured_address(value)
            # Blue reads these parts as "street, city, ST, zip": they must come back the same.
            again, reason = address.parse(address.compose(parts))
            if again != parts:
                raise bad_request(
                    f"address does not survive the flat form blue reads: {reason}",
                    {"address.street": "no empty parts between commas"},
                )
        elif isinstance(value, str):
            flat = validation.flat_address(value)
            parts = None if flat is None else address.parse_or_reject(flat)
        else:
            raise bad_request(
                "address must be a string, an object {street, city, state, zip} or null",
                {"address": "string, object or null"},
            )
        if parts is None:
            return {"street_address": None, "city": None, "state": None, "zip_code": None}
        return {
            "street_address": parts.street,
            "city": parts.city,
            "state": parts.state,
            "zip_code": parts.zip,
        }


def release_for(version: str) -> Release:
    return Green() if version == "green" else Blue()
