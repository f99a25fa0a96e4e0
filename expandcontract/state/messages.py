"""Versioned message envelopes: a registry of message types, one JSON Schema per version.

Blue and green are live at the same time, so a queue carries both releases' messages, and after
a rollback the old release reads what the new one wrote. Every message therefore travels in an
envelope that names its ``schema_version``; each release *writes* its own version and *reads*
any version it knows, converting with the upgrade/downgrade steps between adjacent versions::

    events = Registry(producer="green")
    events.add(
        MessageType("customer.created", current=2)
        .version(1, V1_SCHEMA)
        .version(2, V2_SCHEMA, upgrade=split_address, downgrade=join_address)
    )
    body = events.encode("customer.created", {"id": 7, "address": {...}})
    message = events.decode(body)  # any known version, converted to this release's

A message this release cannot read raises a :class:`~expandcontract.state.errors.MessageError`
whose ``reason`` a consumer puts on the dead-lettered copy.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator

from expandcontract.state.errors import (
    MalformedMessage,
    MissingSchemaVersion,
    RegistryError,
    UnknownMessageType,
    UnknownSchemaVersion,
)

Payload = dict[str, Any]
Step = Callable[[Payload], Payload]

ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "schema_version", "payload"],
    "properties": {
        "type": {"type": "string", "minLength": 1},
        "schema_version": {"type": "integer", "minimum": 1},
        "payload": {"type": "object"},
        "id": {"type": "string"},
        "producer": {"type": "string"},
        "produced_at": {"type": "string"},
    },
}
_ENVELOPE = Draft202012Validator(ENVELOPE_SCHEMA)


@dataclass(frozen=True)
class SchemaVersion:
    """One version of a message type: its JSON Schema, example payloads and the steps that
    convert from the previous version (``upgrade``) and back to it (``downgrade``)."""

    number: int
    schema: Mapping[str, Any]
    examples: tuple[Payload, ...] = ()
    upgrade: Step | None = None
    downgrade: Step | None = None
    validator: Draft202012Validator = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            Draft202012Validator.check_schema(self.schema)
        except jsonschema.SchemaError as err:
            raise RegistryError(
                f"schema of version {self.number} is invalid: {err.message}"
            ) from None
        object.__setattr__(self, "validator", Draft202012Validator(self.schema))


class MessageType:
    """A message type and every schema version of it this release knows.

    ``current`` is the version this release writes and converts everything it reads into.
    """

    def __init__(self, name: str, *, current: int) -> None:
        self.name = name
        self.current = current
        self.versions: dict[int, SchemaVersion] = {}

    def version(
        self,
        number: int,
        schema: Mapping[str, Any],
        *,
        examples: tuple[Payload, ...] | list[Payload] = (),
        upgrade: Step | None = None,
        downgrade: Step | None = None,
    ) -> MessageType:
        """Add a version; ``upgrade`` turns a ``number - 1`` payload into this one,
        ``downgrade`` this one into ``number - 1``. Returns the type, for chaining."""
        if number in self.versions:
            raise RegistryError(f"{self.name}: version {number} is registered twice")
        self.versions[number] = SchemaVersion(number, schema, tuple(examples), upgrade, downgrade)
        return self

    def check(self) -> None:
        """Raise :class:`RegistryError` unless the versions form a convertible chain."""
        if self.current not in self.versions:
            raise RegistryError(f"{self.name}: current version {self.current} is not registered")
        numbers = sorted(self.versions)
        for lower, upper in zip(numbers, numbers[1:], strict=False):
            step = self.versions[upper]
            if upper != lower + 1:
                raise RegistryError(f"{self.name}: no version between {lower} and {upper}")
            if step.upgrade is None or step.downgrade is None:
                raise RegistryError(
                    f"{self.name}: version {upper} needs both an upgrade from {lower} and a "
                    f"downgrade to it"
                )

    def validate(self, payload: Any, number: int) -> Payload:
        """The payload, if version ``number``'s schema accepts it."""
        version = self._known(number)
        error = jsonschema.exceptions.best_match(version.validator.iter_errors(payload))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "payload"
            raise MalformedMessage(
                f"{self.name} v{number}: {where}: {error.message}",
                message_type=self.name,
                version=number,
            )
        return payload  # type: ignore[no-any-return]

    def convert(self, payload: Payload, source: int, target: int) -> Payload:
        """Walk the steps between adjacent versions from ``source`` to ``target``."""
        self._known(source)
        self._known(target)
        current = payload
        for number in self._path(source, target):
            step = self.versions[number].upgrade if number > 0 else self.versions[-number].downgrade
            assert step is not None  # check() guarantees both steps
            current = step(dict(current))
        return current

    def _path(self, source: int, target: int) -> Iterator[int]:
        """Version numbers whose upgrade (positive) or downgrade (negative) to apply."""
        if source < target:
            yield from range(source + 1, target + 1)
        else:
            yield from (-n for n in range(source, target, -1))

    def _known(self, number: int) -> SchemaVersion:
        try:
            return self.versions[number]
        except KeyError:
            newest = max(self.versions)
            hint = " (written by a newer release?)" if number > newest else ""
            raise UnknownSchemaVersion(
                f"{self.name}: schema_version {number} is not known here{hint}; this release "
                f"reads {sorted(self.versions)}",
                message_type=self.name,
                version=number,
            ) from None


@dataclass(frozen=True)
class Message:
    """A decoded message, converted into the reader's current version."""

    type: str
    schema_version: int
    payload: Payload
    written_version: int
    id: str | None = None
    producer: str | None = None


class Registry:
    """The message types one release knows. ``producer`` is stamped on every envelope it
    writes (``blue``, ``green``), so a consumer can count what crossed between releases."""

    def __init__(self, producer: str | None = None) -> None:
        self.producer = producer
        self.types: dict[str, MessageType] = {}

    def add(self, message_type: MessageType) -> MessageType:
        message_type.check()
        self.types[message_type.name] = message_type
        return message_type

    def __getitem__(self, name: str) -> MessageType:
        try:
            return self.types[name]
        except KeyError:
            raise UnknownMessageType(
                f"message type {name!r} is not known here; known: {sorted(self.types)}",
                message_type=name,
            ) from None

    def envelope(self, name: str, payload: Payload, *, version: int | None = None) -> Payload:
        """The envelope for ``payload`` (validated) in ``version`` (default: current)."""
        message_type = self[name]
        number = message_type.current if version is None else version
        message_type.validate(payload, number)
        envelope: Payload = {
            "type": name,
            "schema_version": number,
            "id": str(uuid.uuid4()),
            "produced_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "payload": payload,
        }
        if self.producer:
            envelope["producer"] = self.producer
        return envelope

    def encode(self, name: str, payload: Payload, *, version: int | None = None) -> str:
        """The envelope as a JSON string (a queue message body)."""
        return json.dumps(self.envelope(name, payload, version=version), separators=(",", ":"))

    def decode(self, body: str | bytes | Mapping[str, Any]) -> Message:
        """Read an envelope of any known version and convert it to this release's version.

        Raises :class:`MalformedMessage`, :class:`MissingSchemaVersion`,
        :class:`UnknownSchemaVersion` or :class:`UnknownMessageType`.
        """
        envelope = _parse(body)
        if "schema_version" not in envelope:
            raise MissingSchemaVersion(
                "message has no schema_version; every producer must version its messages",
                message_type=envelope.get("type")
                if isinstance(envelope.get("type"), str)
                else None,
            )
        error = jsonschema.exceptions.best_match(_ENVELOPE.iter_errors(envelope))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "envelope"
            raise MalformedMessage(f"bad envelope: {where}: {error.message}")
        message_type = self[envelope["type"]]
        written = envelope["schema_version"]
        payload = message_type.validate(envelope["payload"], written)
        converted = message_type.convert(payload, written, message_type.current)
        # A conversion step that produces something the target schema rejects is a bug in
        # the step; surface it as unreadable rather than hand the consumer a bad payload.
        message_type.validate(converted, message_type.current)
        return Message(
            type=message_type.name,
            schema_version=message_type.current,
            payload=converted,
            written_version=written,
            id=envelope.get("id"),
            producer=envelope.get("producer"),
        )


def _parse(body: str | bytes | Mapping[str, Any]) -> Payload:
    if isinstance(body, Mapping):
        return dict(body)
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise MalformedMessage(f"message body is not JSON: {err}") from None
    if not isinstance(envelope, dict):
        raise MalformedMessage(f"message body is a JSON {type(envelope).__name__}, not an object")
    return envelope
