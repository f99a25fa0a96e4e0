"""``/api/v2/customers/<id>``: the structured address. Registered by green only."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from app.api import read_customer

bp = Blueprint("customers_v2", __name__)


@bp.get("/api/v2/customers/<int:customer_id>")
def get_customer_v2(customer_id: int) -> ResponseReturnValue:
    return jsonify(read_customer(customer_id))
