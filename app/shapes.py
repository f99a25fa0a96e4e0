"""A customer as each release shapes it, as versioned JSON Schemas with conversion steps.

v1 (blue): ``address`` is a flat string; v2 (green): ``address`` is ``{street, city, state,
zip}``, with ``address_line`` keeping a flat address no rule can split (green shows such a row
with ``address: null`` too). The same schemas and steps serve the queue's customer events and
the exports in the bucket, so what one release writes the other reads through one code path.
"""

from __future__ import annotations

from typing import Any

from app import address
from app.validation import StructuredAddress
from expandcontract.state import MessageType, Registry

SHAPE_VERSIONS = {"blue": 1, "green": 2}
EVENT_TYPES = ("customer.created", "customer.updated")

_COMMON: dict[str, Any] = {
    "id": {"type": "integer", "minimum": 1},
    "name": {"type": "string"},
    "email": {"type": "string"},
}
CUSTOMER_V1: dict[str, Any] = {
    "type": "object",
    "required": ["id", "name", "email", "address"],
    "properties": {**_COMMON, "address": {"type": ["string", "null"]}},
}
CUSTOMER_V2: dict[str, Any] = {
    "type": "object",
    "required": ["id", "name", "email", "address"],
    "properties": {
        **_COMMON,
        "address": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["street", "city", "state", "zip"],
                    "properties": {
                        key: {"type": "string", "minLength": 1}
                        for key in ("street", "city", "state", "zip")
                    },
                },
            ]
        },
        "address_line": {"type": ["string", "null"]},
    },
}
EXAMPLES_V1 = [
    {
        "id": 1,
        "name": "Ada",
        "email": "ada@example.com",
        "address": "1 Main St, Springfield, IL, 62701",
    },
    {"id": 2, "name": "Bo", "email": "bo@example.com", "address": None},
    {"id": 3, "name": "Cy", "email": "cy@example.com", "address": "somewhere, no zip"},
]
EXAMPLES_V2 = [
    {
        "id": 1,
        "name": "Ada",
        "email": "ada@example.com",
        "address": {"street": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701"},
    },
    {"id": 2, "name": "Bo", "email": "bo@example.com", "address": None},
]


def v1_to_v2(customer: dict[str, Any]) -> dict[str, Any]:
    flat = customer.get("address")
    parts, _ = address.parse(flat)
    structured = None if parts is None else {
        "street": parts.street, "city": parts.city, "state": parts.state, "zip": parts.zip
    }  # fmt: skip
    line = flat if parts is None else None
    return {**customer, "address": structured, "address_line": line}


def v2_to_v1(customer: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in customer.items() if k != "address_line"}
    parts = customer.get("address")
    out["address"] = (
        customer.get("address_line")
        if parts is None
        else address.compose(StructuredAddress(**parts))
    )
    return out


def customer_type(name: str, current: int) -> MessageType:
    """The customer shape (v1 and v2) under ``name``, read and written as ``current``."""
    return (
        MessageType(name, current=current)
        .version(1, CUSTOMER_V1, examples=EXAMPLES_V1)
        .version(2, CUSTOMER_V2, examples=EXAMPLES_V2, upgrade=v1_to_v2, downgrade=v2_to_v1)
    )


def event_registry(release: str) -> Registry:
    """The customer events ``release`` publishes (its own version) and reads (both)."""
    registry = Registry(producer=release)
    for name in EVENT_TYPES:
        registry.add(customer_type(name, SHAPE_VERSIONS[release]))
    return registry


def record_type(release: str) -> MessageType:
    """The customer record of exports, in ``release``'s version."""
    message_type = customer_type("customer", SHAPE_VERSIONS[release])
    message_type.check()
    return message_type


def event_payload(customer: dict[str, Any]) -> dict[str, Any]:
    """The event payload of a customer as the API renders it (drops the timestamps)."""
    payload = {key: customer.get(key) for key in ("id", "name", "email", "address")}
    parts = payload["address"]
    if isinstance(parts, dict) and parts.get("unparsed") is not None:
        # Green shows an address only the old column holds, and no rule splits, as its valid
        # parts plus ``unparsed`` (releases.Green); the v2 record has no partial address: it
        # keeps the original in ``address_line``, which v1 readers get back as ``address``.
        payload["address"] = None
        payload["address_line"] = parts["unparsed"]
    return payload
