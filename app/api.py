"""``/api/customers`` (this release's shape) and ``/api/v1/customers/<id>`` (flat, both)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from app import flags, store, validation
from app.cache import cache
from app.db import get_connection
from app.errors import bad_request
from app.releases import Release, release_for

bp = Blueprint("customers", __name__)

FIELDS = ("name", "email", "address")


def current_release() -> Release:
    return release_for(current_app.config["APP_VERSION"])


def read_customer(customer_id: int) -> dict[str, Any]:
    """This release's JSON of a customer, from the cache when it has it."""
    customers = cache()
    cached = customers.get(customer_id)
    if cached is not None:
        return cached
    customer = store.get_customer(get_connection(), current_release(), customer_id)
    customers.put(customer_id, customer)
    return customer


@bp.get("/api/customers")
def list_customers() -> ResponseReturnValue:
    limit, offset = validation.page(request.args)
    after = validation.after(request.args)
    customers = store.list_customers(
        get_connection(), current_release(), limit + 1, offset, after=after
    )
    more = len(customers) > limit
    page = customers[:limit]
    return jsonify(
        {
            "customers": page,
            "limit": limit,
            "offset": offset,
            "next_offset": offset + limit if more else None,
            # Keyset paging (?after=): constant cost per page, however deep.
            "next_after": page[-1]["id"] if more and page else None,
        }
    )


@bp.post("/api/customers")
def create_customer() -> ResponseReturnValue:
    data = validation.json_object(request)
    validation.check_fields(data, FIELDS)
    release = current_release()
    values = {
        "name": validation.name(data.get("name")),
        "email": validation.email(data.get("email")),
    }
    values.update(release.address_values(data.get("address")))
    customer = store.create_customer(get_connection(), release, values)
    response: Response = jsonify(customer)
    response.headers["Location"] = f"/api/customers/{customer['id']}"
    return response, 201


@bp.get("/api/customers/<int:customer_id>")
def get_customer(customer_id: int) -> ResponseReturnValue:
    return jsonify(read_customer(customer_id))


@bp.put("/api/customers/<int:customer_id>")
def update_customer(customer_id: int) -> ResponseReturnValue:
    data = validation.json_object(request)
    validation.check_fields(data, FIELDS)
    if not data:
        raise bad_request("nothing to update: give any of name, email, address")
    release = current_release()
    values: dict[str, Any] = {}
    if "name" in data:
        values["name"] = validation.name(data["name"])
    if "email" in data:
        values["email"] = validation.email(data["email"])
    if "address" in data:
        values.update(release.address_values(data["address"]))
    customer = store.update_customer(get_connection(), release, customer_id, values)
    cache().invalidate(customer_id)
    return jsonify(customer)


@bp.delete("/api/customers/<int:customer_id>")
def delete_customer(customer_id: int) -> ResponseReturnValue:
    store.delete_customer(get_connection(), current_release(), customer_id)
    cache().invalidate(customer_id)
    return "", 204


@bp.get("/api/v1/customers/<int:customer_id>")
def get_customer_v1(customer_id: int) -> ResponseReturnValue:
    return jsonify(flags.decorate_v1(current_release().flat_json(read_customer(customer_id))))
