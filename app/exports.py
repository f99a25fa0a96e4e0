"""Customer exports in object storage (S3), written in each release's format, read by both.

An export is stored under a version prefix (``v1/exports/<id>.json`` by blue,
``v2/exports/<id>.json`` by green) with ``schema-version`` metadata, in a bucket with
versioning on. A release reads its own prefix first and the other's second, converting the
records with the same steps the customer events use. An object in a format neither knows is
a 422 ``unknown_format``, counted, never a 500.

``STATE_FORMAT=unversioned`` is the naive way: one ``exports/<id>.json`` key, read as if the
reader had written it.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections import Counter
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from app import store
from app.db import get_connection
from app.errors import bad_request
from app.releases import release_for
from app.shapes import SHAPE_VERSIONS, event_payload, record_type
from expandcontract.state import (
    OBJECT_TEMPLATE,
    MessageError,
    OwnVersionFirst,
    UnreadableValue,
    VersionedKeys,
)

log = logging.getLogger("customers.exports")
bp = Blueprint("exports", __name__)
STATS_KEY = "customers.export_stats"
CLIENT_KEY = "customers.s3"
MAX_EXPORT = 500


def init_app(app: Flask) -> None:
    app.extensions[STATS_KEY] = Counter()
    app.extensions[CLIENT_KEY] = None
    if app.config.get("EXPORTS_BUCKET"):
        import boto3
        from botocore.config import Config

        app.extensions[CLIENT_KEY] = boto3.client(
            "s3",
            endpoint_url=app.config.get("AWS_ENDPOINT_URL") or None,
            config=Config(
                connect_timeout=1, read_timeout=3, retries={"mode": "standard", "max_attempts": 2}
            ),
        )
    app.register_blueprint(bp)


def export_stats() -> dict[str, int]:
    return dict(current_app.extensions[STATS_KEY])


def _client() -> Any:
    client = current_app.extensions[CLIENT_KEY]
    if client is None:
        raise _unavailable("exports are off: set EXPORTS_BUCKET")
    return client


def _unavailable(message: str) -> Exception:
    from werkzeug.exceptions import ServiceUnavailable

    return ServiceUnavailable(message)


def _versioned() -> bool:
    return current_app.config["STATE_FORMAT"] == "versioned"


def _own() -> str:
    return f"v{SHAPE_VERSIONS[current_app.config['APP_VERSION']]}"


def _keys(version: str | None = None) -> VersionedKeys:
    if not _versioned():
        return VersionedKeys("exports", "", template="{namespace}/{name}.json")
    return VersionedKeys("exports", version or _own(), template=OBJECT_TEMPLATE + ".json")


@bp.post("/api/exports")
def create_export() -> ResponseReturnValue:
    """Export up to ``limit`` customers (default 100) in this release's format."""
    try:
        limit = int(request.args.get("limit", 100))
    except ValueError:
        raise bad_request("limit must be a number", {"limit": "1 to 500"}) from None
    if not 1 <= limit <= MAX_EXPORT:
        raise bad_request(f"limit must be 1 to {MAX_EXPORT}", {"limit": f"1 to {MAX_EXPORT}"})
    release = current_app.config["APP_VERSION"]
    customers = store.list_customers(get_connection(), release_for(release), limit, 0)
    export_id = uuid.uuid4().hex
    body = {
        "format": f"customers.{_own()}",
        "producer": release,
        "customers": [event_payload(c) for c in customers],
    }
    key = _keys().key(export_id)
    client = _client()
    try:
        client.put_object(
            Bucket=current_app.config["EXPORTS_BUCKET"],
            Key=key,
            Body=json.dumps(body).encode(),
            ContentType="application/json",
            Metadata={"schema-version": _own(), "producer": release},
        )
    except Exception as err:  # noqa: BLE001 - storage is optional: 503, not 500
        log.warning("export not stored: %s", err)
        raise _unavailable("object storage unavailable") from err
    return jsonify({"id": export_id, "key": key, "count": len(customers)}), 201


@bp.get("/api/exports/<export_id>")
def read_export(export_id: str) -> ResponseReturnValue:
    if not export_id.isalnum() or len(export_id) > 64:
        raise bad_request("not an export id", {"export_id": "letters and digits"})
    stats = current_app.extensions[STATS_KEY]
    try:
        found = _reader().read(_fetch, _keys(), export_id)
    except UnreadableValue as err:
        stats["unreadable"] += 1
        log.warning("export %s unreadable: %s", export_id, err)
        return jsonify({"error": "export in a format this release does not read",
                        "reason": err.reason, "key": err.key}), 422  # fmt: skip
    if found is None:
        return jsonify({"error": "no such export"}), 404
    stats["read_own" if found.version in ("", _own()) else "read_other"] += 1
    return jsonify({"id": export_id, "stored_as": found.version or "unversioned",
                    "customers": found.value})  # fmt: skip


def _fetch(key: str) -> bytes | None:
    client = _client()
    try:
        response = client.get_object(Bucket=current_app.config["EXPORTS_BUCKET"], Key=key)
    except client.exceptions.NoSuchKey:
        return None
    except Exception as err:  # noqa: BLE001
        log.warning("export not read: %s", err)
        raise _unavailable("object storage unavailable") from err
    return response["Body"].read()  # type: ignore[no-any-return]


def _reader() -> OwnVersionFirst[list[dict[str, Any]]]:
    shape = record_type(current_app.config["APP_VERSION"])
    if not _versioned():
        # Naive: whatever is there is assumed to be in this release's format.
        return OwnVersionFirst(
            "", {"": functools.partial(_load, shape=shape, version=shape.current)}
        )
    loaders = {f"v{n}": functools.partial(_load, shape=shape, version=n) for n in shape.versions}
    return OwnVersionFirst(_own(), loaders)


def _load(raw: bytes, shape: Any, version: int) -> list[dict[str, Any]]:
    """Records of an export written in ``version``, converted to the reader's version."""
    document = json.loads(raw)
    if not isinstance(document, dict) or not isinstance(document.get("customers"), list):
        raise ValueError("not a customers export")
    try:
        return [
            shape.convert(shape.validate(record, version), version, shape.current)
            for record in document["customers"]
        ]
    except MessageError as err:
        raise ValueError(str(err)) from None
