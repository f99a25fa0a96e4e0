"""Request validation: everything a client can get wrong becomes a 400 with a field message.

Strings are checked for what PostgreSQL would reject later (NUL characters, unpaired UTF-16
surrogates), so bad input never reaches the database as a 500.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from flask import Request

from app.errors import bad_request

NAME_MAX = 255
EMAIL_MAX = 254
ADDRESS_MAX = 500
STREET_MAX = 255
CITY_MAX = 100
PAGE_LIMIT_MAX = 100
MAX_ID = 2**31 - 1  # customers.id is an integer column

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
# Whole-string patterns (``fullmatch``), shared with app.address and the OpenAPI document.
STATE_RE = re.compile(r"[A-Za-z]{2}")
ZIP_RE = re.compile(r"[0-9]{5}(-[0-9]{4})?")
STRUCTURED_KEYS = ("street", "city", "state", "zip")


@dataclass(frozen=True)
class StructuredAddress:
    """An address in green's shape; ``state`` is upper-case, every part trimmed."""

    street: str
    city: str
    state: str
    zip: str


def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, or a 400."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes: "silent" does not cover it
        data = None
    if not isinstance(data, dict):
        raise bad_request("the request body must be a JSON object (Content-Type: application/json)")
    return data


def check_fields(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise bad_request(
            f"unknown field(s): {', '.join(unknown)}", {k: "unknown field" for k in unknown}
        )


def text(value: Any, field: str, *, max_length: int, required: bool = True) -> str | None:
    """A trimmed, storable string of at most ``max_length`` characters (``None`` if absent)."""
    if value is None:
        if required:
            raise bad_request(f"{field} is required", {field: "required"})
        return None
    if not isinstance(value, str):
        raise bad_request(f"{field} must be a string", {field: "must be a string"})
    if not _storable(value):
        raise bad_request(
            f"{field} contains control characters or invalid Unicode",
            {field: "contains control characters or invalid Unicode"},
        )
    value = value.strip()
    if not value:
        if required:
            raise bad_request(f"{field} must not be empty", {field: "must not be empty"})
        return None
    if len(value) > max_length:
        raise bad_request(
            f"{field} is longer than {max_length} characters",
            {field: f"at most {max_length} characters"},
        )
    return value


def name(value: Any) -> str:
    result = text(value, "name", max_length=NAME_MAX)
    assert result is not None
    return result


def email(value: Any) -> str:
    """A well-formed email, lower-cased so uniqueness ignores case.

    Lower-cased before the length check: some characters grow ("İ" becomes two), and the
    column must hold what is stored.
    """
    result = text(value.lower() if isinstance(value, str) else value, "email", max_length=EMAIL_MAX)
    assert result is not None
    if not EMAIL_RE.match(result):
        raise bad_request(
            "email is not a valid email address", {"email": "not a valid email address"}
        )
    return result


def flat_address(value: Any) -> str | None:
    """Blue's free-form address (``None`` clears it)."""
    return text(value, "address", max_length=ADDRESS_MAX, required=False)


def structured_address(value: dict[str, Any]) -> StructuredAddress:
    """Green's structured address: four parts, state two letters, zip ``12345``/``12345-6789``.

    A comma in the city would move the parts around when the address is composed to the flat
    ``street, city, ST, zip`` form blue reads, so it is refused; the street may contain commas.
    """
    unknown = sorted(set(value) - set(STRUCTURED_KEYS))
    if unknown:
        raise bad_request(
            f"unknown address field(s): {', '.join(unknown)}",
            {f"address.{k}": "unknown field" for k in unknown},
        )
    street = text(value.get("street"), "address.street", max_length=STREET_MAX)
    city = text(value.get("city"), "address.city", max_length=CITY_MAX)
    state = text(value.get("state"), "address.state", max_length=2)
    zip_code = text(value.get("zip"), "address.zip", max_length=10)
    assert street and city and state and zip_code
    if "," in city:
        raise bad_request("address.city must not contain a comma", {"address.city": "no commas"})
    if not STATE_RE.fullmatch(state):
        raise bad_request("address.state must be two letters", {"address.state": "two letters"})
    if not ZIP_RE.fullmatch(zip_code):
        raise bad_request(
            "address.zip must be 12345 or 12345-6789", {"address.zip": "12345 or 12345-6789"}
        )
    return StructuredAddress(street, city, state.upper(), zip_code)


def possible_id(value: int) -> bool:
    """Ids outside the column's range cannot exist (a 404, never a database range error)."""
    return 1 <= value <= MAX_ID


def page(args: Any) -> tuple[int, int]:
    """``limit`` (1-100, default 20) and ``offset`` (>= 0, default 0) from the query string."""
    limit = _int_arg(args, "limit", 20, 1, PAGE_LIMIT_MAX)
    offset = _int_arg(args, "offset", 0, 0, MAX_ID)
    return limit, offset


def after(args: Any) -> int | None:
    """``after`` (keyset paging: ids above it), or None when not given."""
    if args.get("after") in (None, ""):
        return None
    return _int_arg(args, "after", 0, 0, MAX_ID)


def _int_arg(args: Any, key: str, default: int, low: int, high: int) -> int:
    raw = args.get(key)
    if raw is None or raw == "":
        return default
    if len(raw) > 12 or not raw.isascii() or not raw.isdigit():
        raise bad_request(f"{key} must be a whole number", {key: "whole number"})
    number = int(raw)
    if not low <= number <= high:
        raise bad_request(f"{key} must be between {low} and {high}", {key: f"{low}-{high}"})
    return number


def _storable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False  # an unpaired surrogate from JSON such as "\ud800"
    # Tabs, newlines, NUL and other C0/C1 controls have no place in a name, email or address.
    return not any(unicodedata.category(ch) == "Cc" for ch in value)
