"""Green's reading of a flat address: a mirror of the SQL rules in the expand revision.

The rules are defined once, as the SQL function ``customers_address_parse`` in
``alembic/versions/0002_split_address.py``; the sync trigger and the backfill both call it.
Green cannot call it too, because the contract drops the helper functions together with the
trigger, and green must keep accepting flat addresses after the contract. So green carries
this mirror, and ``tests/app/test_address_rules.py`` proves it gives the same parts and the
same reason as the SQL function on the whole edge-case corpus and on generated input.
"""

from __future__ import annotations

from app.errors import bad_request
from app.validation import CITY_MAX, STATE_RE, STREET_MAX, ZIP_RE, StructuredAddress

_WS = " \t\r\n"  # btrim(..., E' \t\r\n') in the SQL function


def compose(parts: StructuredAddress) -> str:
    """The flat form blue reads: ``street, city, ST, zip`` (``customers_address_compose``)."""
    return f"{parts.street}, {parts.city}, {parts.state}, {parts.zip}"


def parse(flat: str | None) -> tuple[StructuredAddress | None, str | None]:
    """Split ``flat`` exactly as ``customers_address_parse`` does: ``(parts, None)`` or
    ``(None, reason)`` (the parts the SQL function gives with a reason are never used)."""
    if flat is None:
        return None, "address is NULL"
    if not flat.strip(_WS):
        return None, "address is empty"
    parts = flat.split(",")
    n = len(parts)
    if n < 4:
        return None, f'expected "street, city, ST, zip", found {n} comma-separated part(s)'
    empty = [i for i, part in enumerate(parts, start=1) if not part.strip(_WS)]
    if empty:
        return None, f"part {empty[0]} of {n} is empty"
    street = ",".join(parts[: n - 3]).strip(_WS)
    city, state, zip_code = (part.strip(_WS) for part in parts[n - 3 :])
    if len(street) > STREET_MAX:
        return None, f"street is longer than {STREET_MAX} characters"
    if len(city) > CITY_MAX:
        return None, f"city is longer than {CITY_MAX} characters"
    if not STATE_RE.fullmatch(state):
        return None, f'state "{state[:20]}" is not two letters'
    if not ZIP_RE.fullmatch(zip_code):
        return None, f'zip "{zip_code[:20]}" is not 12345 or 12345-6789'
    return StructuredAddress(street, city, state.upper(), zip_code), None


def parse_or_reject(flat: str) -> StructuredAddress:
    """The parts of ``flat``, or a 400 that gives the reason."""
    parts, reason = parse(flat)
    if parts is None:
        raise bad_request(f"address cannot be parsed: {reason}", {"address": str(reason)})
    return parts


def structured_or_unparsed(flat: str) -> dict[str, object]:
    """Green's JSON for an address only the old ``address`` column holds (a row the backfill
    has not reached yet, or one the parser rejects): the parts when they parse; otherwise
    the parts that are valid, ``null`` for the rest, the original as ``unparsed``, the
    names of the parts that could not be parsed (``invalid``) and the reason."""
    parts, reason = parse(flat)
    if parts is not None:
        return {"street": parts.street, "city": parts.city, "state": parts.state, "zip": parts.zip}
    pieces = [piece.strip(_WS) for piece in flat.split(",")]
    found: dict[str, str | None] = dict.fromkeys(("street", "city", "state", "zip"))
    if len(pieces) >= 4:
        found["street"] = ",".join(pieces[:-3]).strip(_WS) or None
        found["city"], found["state"], found["zip"] = (p or None for p in pieces[-3:])
    checks = {
        "street": lambda v: len(v) <= STREET_MAX,
        "city": lambda v: len(v) <= CITY_MAX,
        "state": lambda v: STATE_RE.fullmatch(v) is not None,
        "zip": lambda v: ZIP_RE.fullmatch(v) is not None,
    }
    invalid = [name for name, value in found.items() if value is None or not checks[name](value)]
    result: dict[str, object] = {
        name: (None if name in invalid else value) for name, value in found.items()
    }
    if result["state"] is not None:
        result["state"] = str(result["state"]).upper()
    result.update({"unparsed": flat, "invalid": invalid, "reason": reason})
    return result
