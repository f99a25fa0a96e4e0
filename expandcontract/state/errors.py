"""Typed errors for state shared by releases: messages, stored values and flag documents.

Each carries a short ``reason`` a consumer can put on a dead-lettered message or a metric
label, and the full text for the log line.
"""

from __future__ import annotations

from expandcontract.errors import ConfigurationError, ExpandContractError


class StateError(ExpandContractError):
    """Root of the errors about state shared by releases (not the database)."""

    reason = "state_error"


class MessageError(StateError):
    """A message this release cannot read. A consumer routes it to a dead-letter queue."""

    reason = "unreadable"

    def __init__(
        self, message: str, *, message_type: str | None = None, version: int | None = None
    ) -> None:
        super().__init__(message)
        self.message_type = message_type
        self.version = version


class MalformedMessage(MessageError):
    """Not JSON, not an envelope, or a payload its own schema version does not accept."""

    reason = "malformed"


class MissingSchemaVersion(MessageError):
    """The envelope has no ``schema_version`` (an unversioned producer)."""

    reason = "missing_schema_version"


class UnknownSchemaVersion(MessageError):
    """A version this release does not know (usually a newer release's), or no path to it."""

    reason = "unknown_schema_version"


class UnknownMessageType(MessageError):
    """A message type this release has no parser for."""

    reason = "unknown_type"


class UnreadableValue(StateError):
    """A cached value or stored object that no reader of this release understands."""

    reason = "unknown_format"

    def __init__(self, message: str, *, key: str, version: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.version = version


class InvalidFlagDocument(StateError):
    """A feature-flag document that does not validate; the last good one stays in force."""

    reason = "invalid_flag_document"


class RegistryError(ConfigurationError):
    """A message registry that is inconsistent (a gap between versions, a bad schema)."""
