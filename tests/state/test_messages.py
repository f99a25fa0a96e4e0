"""Versioned envelopes: encode in one version, decode any known version into the reader's."""

from __future__ import annotations

import json

import pytest

from expandcontract.state import (
    MalformedMessage,
    MessageType,
    MissingSchemaVersion,
    Registry,
    RegistryError,
    UnknownMessageType,
    UnknownSchemaVersion,
)

V1 = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
V2 = {
    "type": "object",
    "required": ["first", "last"],
    "properties": {"first": {"type": "string"}, "last": {"type": "string"}},
}


def split(p):
    first, _, last = p["name"].partition(" ")
    return {"first": first, "last": last}


def join(p):
    return {"name": f"{p['first']} {p['last']}".strip()}


def registry(current: int, producer: str) -> Registry:
    r = Registry(producer)
    r.add(
        MessageType("user.renamed", current=current)
        .version(1, V1, examples=[{"name": "Ada Lovelace"}])
        .version(
            2, V2, examples=[{"first": "Ada", "last": "Lovelace"}], upgrade=split, downgrade=join
        )
    )
    return r


def test_each_reader_gets_its_own_version_from_either_writer() -> None:
    old, new = registry(1, "blue"), registry(2, "green")
    from_old = new.decode(old.encode("user.renamed", {"name": "Ada Lovelace"}))
    assert from_old.payload == {"first": "Ada", "last": "Lovelace"}
    assert (from_old.written_version, from_old.schema_version, from_old.producer) == (1, 2, "blue")
    from_new = old.decode(new.encode("user.renamed", {"first": "Grace", "last": "Hopper"}))
    assert from_new.payload == {"name": "Grace Hopper"}
    envelope = json.loads(new.encode("user.renamed", {"first": "A", "last": "B"}))
    assert envelope["schema_version"] == 2 and envelope["id"] and envelope["produced_at"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("{", MalformedMessage),
        ('"a string"', MalformedMessage),
        ('{"type": "user.renamed", "payload": {}}', MissingSchemaVersion),
        ('{"type": "user.renamed", "schema_version": 3, "payload": {}}', UnknownSchemaVersion),
        ('{"type": "user.renamed", "schema_version": "1", "payload": {}}', MalformedMessage),
        ('{"type": "user.renamed", "schema_version": 1, "payload": {"name": 5}}', MalformedMessage),
        ('{"type": "order.placed", "schema_version": 1, "payload": {}}', UnknownMessageType),
        (b"\xff\xfe", MalformedMessage),
    ],
)
def test_bad_messages_raise_typed_errors_with_a_reason(body, error) -> None:
    with pytest.raises(error) as caught:
        registry(2, "green").decode(body)
    assert caught.value.reason in {
        "malformed", "missing_schema_version", "unknown_schema_version", "unknown_type"
    }  # fmt: skip


def test_a_future_version_says_so() -> None:
    with pytest.raises(UnknownSchemaVersion, match="newer release"):
        registry(1, "blue").decode({"type": "user.renamed", "schema_version": 7, "payload": {}})


def test_encoding_validates_the_payload() -> None:
    with pytest.raises(MalformedMessage, match="first"):
        registry(2, "green").encode("user.renamed", {"name": "old shape"})


def test_a_registry_with_gaps_or_missing_steps_is_refused() -> None:
    with pytest.raises(RegistryError, match="between 1 and 3"):
        Registry().add(
            MessageType("t", current=1).version(1, V1).version(3, V1, upgrade=split, downgrade=join)
        )
    with pytest.raises(RegistryError, match="downgrade"):
        Registry().add(MessageType("t", current=2).version(1, V1).version(2, V2, upgrade=split))
    with pytest.raises(RegistryError, match="not registered"):
        Registry().add(MessageType("t", current=2).version(1, V1))
    with pytest.raises(RegistryError, match="invalid"):
        MessageType("t", current=1).version(1, {"type": "no such type"})


def test_a_step_that_breaks_the_target_schema_is_unreadable_not_passed_on() -> None:
    r = Registry("green")
    r.add(
        MessageType("user.renamed", current=2)
        .version(1, V1)
        .version(2, V2, upgrade=lambda p: {"first": p["name"]}, downgrade=join)
    )
    with pytest.raises(MalformedMessage, match="last"):
        r.decode({"type": "user.renamed", "schema_version": 1, "payload": {"name": "Ada"}})
