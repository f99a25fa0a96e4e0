"""``GET /openapi.json``: the OpenAPI 3.0 description of this release's API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from app import validation

bp = Blueprint("openapi", __name__)


def _string(max_length: int, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, **extra}


# The rules validation.py enforces, as patterns, so a client (or a fuzzer) can tell valid
# input from invalid by the document alone: no control characters anywhere; required text
# has a non-blank character; a part of an address has no empty comma-separated piece.
_CTRL = "\\u0000-\\u001F\\u007F-\\u009F"
NO_CONTROLS = f"^[^{_CTRL}]*$"
NOT_BLANK = f"^[^{_CTRL}]*[^\\s{_CTRL}][^{_CTRL}]*$"
_PIECE = f"[^,{_CTRL}]*[^,\\s{_CTRL}][^,{_CTRL}]*"
STREET_PATTERN = f"^{_PIECE}(,{_PIECE})*$"
CITY_PATTERN = f"^{_PIECE}$"
EMAIL_PATTERN = f"^[^@\\s{_CTRL}]+@[^@\\s.{_CTRL}]+(\\.[^@\\s.{_CTRL}]+)+$"
# Green's flat input: "street, city, ST, zip" that its parser accepts (the street without a
# comma here, so the lengths stay within the columns'; the app also takes commas in it).
_BOUNDED = f"[^,{_CTRL}]{{0,100}}[^,\\s{_CTRL}][^,{_CTRL}]{{0,100}}"
_CITY_PIECE = f"[^,{_CTRL}]{{0,40}}[^,\\s{_CTRL}][^,{_CTRL}]{{0,40}}"
GREEN_FLAT_PATTERN = (
    f"^{_BOUNDED},{_CITY_PIECE},[ ]*[A-Za-z]{{2}}[ ]*,[ ]*[0-9]{{5}}(-[0-9]{{4}})?[ ]*$"
)


STRUCTURED = {
    "type": "object",
    "required": ["street", "city", "state", "zip"],
    "additionalProperties": False,
    "properties": {
        "street": _string(validation.STREET_MAX, minLength=1, pattern=STREET_PATTERN),
        "city": _string(validation.CITY_MAX, minLength=1, pattern=CITY_PATTERN),
        "state": {"type": "string", "pattern": f"^{validation.STATE_RE.pattern}$"},
        "zip": {"type": "string", "pattern": f"^{validation.ZIP_RE.pattern}$"},
    },
}
FLAT = {
    "type": "string",
    "maxLength": validation.ADDRESS_MAX,
    "nullable": True,
    "pattern": NO_CONTROLS,
}
_PART = {"type": "string", "nullable": True}
# Green's reply for an address only the old column holds and the parser rejects (until the
# contract): the valid parts, null for the others, the original and why it did not parse.
UNPARSED = {
    "type": "object",
    "required": ["street", "city", "state", "zip", "unparsed", "invalid", "reason"],
    "additionalProperties": False,
    "properties": {
        "street": _PART,
        "city": _PART,
        "state": _PART,
        "zip": _PART,
        "unparsed": {"type": "string"},
        "invalid": {
            "type": "array",
            "items": {"type": "string", "enum": ["street", "city", "state", "zip"]},
        },
        "reason": {"type": "string"},
    },
}


def _customer(address: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["id", "name", "email", "address", "created_at", "updated_at"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "email": {"type": "string"},
            "address": address,
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    }


def _input(address: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "name": _string(validation.NAME_MAX, minLength=1, pattern=NOT_BLANK),
            "email": _string(validation.EMAIL_MAX, pattern=EMAIL_PATTERN),
            "address": address,
        },
    }
    if required:
        schema["required"] = required
    else:
        schema["minProperties"] = 1
    return schema


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(description: str, ref: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


ID = {"name": "customer_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def document(version: str) -> dict[str, Any]:
    """The document for ``version`` (green adds the v2 endpoint and the structured address)."""
    green = version == "green"
    own = (
        {
            "anyOf": [
                {"$ref": "#/components/schemas/StructuredAddress"},
                {"$ref": "#/components/schemas/UnparsedAddress"},
            ],
            "nullable": True,
        }
        if green
        else FLAT
    )
    address_in = (
        {
            "nullable": True,
            "oneOf": [
                {
                    "type": "string",
                    "maxLength": validation.ADDRESS_MAX,
                    "pattern": GREEN_FLAT_PATTERN,
                    "description": "street, city, ST, zip (12345 or 12345-6789)",
                },
                STRUCTURED,
            ],
        }
        if green
        else FLAT
    )
    body = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CustomerInput"}}},
    }
    update = {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/CustomerUpdate"}}
        },
    }
    paths: dict[str, Any] = {
        "/health": {
            "get": {
                "summary": "Can this release serve the live schema?",
                "responses": {
                    "200": _json("healthy", "Health"),
                    "503": _json("unhealthy", "Health"),
                },
            }
        },
        "/api/customers": {
            "get": {
                "summary": "List customers by id",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": validation.PAGE_LIMIT_MAX,
                        },
                    },
                    {
                        "name": "offset",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 0, "maximum": validation.MAX_ID},
                    },
                    {
                        "name": "after",
                        "in": "query",
                        "description": "keyset paging: customers with an id above this one",
                        "schema": {"type": "integer", "minimum": 0, "maximum": validation.MAX_ID},
                    },
                ],
                "responses": {
                    "200": _json("a page of customers", "CustomerPage"),
                    "400": _error("bad query"),
                },
            },
            "post": {
                "summary": "Create a customer",
                "requestBody": body,
                "responses": {
                    "201": _json("created", "Customer"),
                    "400": _error("invalid input"),
                    "409": _error("email already used"),
                },
            },
        },
        "/api/customers/{customer_id}": {
            "parameters": [ID],
            "get": {
                "summary": "Read a customer",
                "responses": {
                    "200": _json("the customer", "Customer"),
                    "404": _error("no such customer"),
                },
            },
            "put": {
                "summary": "Update some fields of a customer",
                "requestBody": update,
                "responses": {
                    "200": _json("updated", "Customer"),
                    "400": _error("invalid input"),
                    "404": _error("no such customer"),
                    "409": _error("email already used"),
                },
            },
            "delete": {
                "summary": "Delete a customer",
                "responses": {"204": {"description": "deleted"}, "404": _error("no such customer")},
            },
        },
        "/api/v1/customers/{customer_id}": {
            "parameters": [ID],
            "get": {
                "summary": "Read a customer with a flat address string",
                "responses": {
                    "200": _json("the customer", "CustomerV1"),
                    "404": _error("no such customer"),
                },
            },
        },
    }
    if green:
        paths["/api/v2/customers/{customer_id}"] = {
            "parameters": [ID],
            "get": {
                "summary": "Read a customer with a structured address",
                "responses": {
                    "200": _json("the customer", "Customer"),
                    "404": _error("no such customer"),
                },
            },
        }
    return {
        "openapi": "3.0.3",
        "info": {"title": f"Customers ({version})", "version": "2.0.0" if green else "1.0.0"},
        "paths": paths,
        "components": {
            "schemas": {
                "Customer": _customer(own),
                "CustomerV1": _customer(FLAT),
                "StructuredAddress": STRUCTURED,
                "UnparsedAddress": UNPARSED,
                "CustomerInput": _input(address_in, ["name", "email"]),
                "CustomerUpdate": _input(address_in, []),
                "CustomerPage": {
                    "type": "object",
                    "required": ["customers", "limit", "offset", "next_offset"],
                    "properties": {
                        "customers": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Customer"},
                        },
                        "limit": {"type": "integer"},
                        "offset": {"type": "integer"},
                        "next_offset": {"type": "integer", "nullable": True},
                        "next_after": {"type": "integer", "nullable": True},
                    },
                },
                "Health": {
                    "type": "object",
                    "required": ["status", "version", "environment", "database", "schema"],
                    "properties": {
                        "status": {"type": "string", "enum": ["healthy", "unhealthy"]},
                        "version": {"type": "string", "enum": ["blue", "green"]},
                        "environment": {"type": "string"},
                        "database": {"type": "string", "enum": ["connected", "unavailable"]},
                        "schema": {
                            "type": "string",
                            "enum": ["compatible", "incompatible", "unknown"],
                        },
                        "problems": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string"},
                        "message": {"type": "string"},
                        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                        "request_id": {"type": "string"},
                    },
                },
            }
        },
    }


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(document(current_app.config["APP_VERSION"]))
