"""State that blue and green share beyond the database: queue messages, cached values and
stored objects, and feature flags.

Imports neither Flask nor boto3 (the AppConfig provider imports boto3 when it first fetches)::

    from expandcontract.state import Registry, MessageType, VersionedKeys, FeatureFlags
"""

from __future__ import annotations

from expandcontract.state.compat import (
    CompatibilityMode,
    MessageCompatibility,
    check_message_compatibility,
)
from expandcontract.state.errors import (
    InvalidFlagDocument,
    MalformedMessage,
    MessageError,
    MissingSchemaVersion,
    RegistryError,
    StateError,
    UnknownMessageType,
    UnknownSchemaVersion,
    UnreadableValue,
)
from expandcontract.state.flags import (
    AppConfigFlagProvider,
    FeatureFlags,
    FileFlagProvider,
    FlagProvider,
    parse_flag_document,
    rollout_bucket,
)
from expandcontract.state.keys import (
    CACHE_TEMPLATE,
    OBJECT_TEMPLATE,
    Found,
    OwnVersionFirst,
    VersionedKeys,
)
from expandcontract.state.messages import Message, MessageType, Registry, SchemaVersion

__all__ = [
    "CACHE_TEMPLATE",
    "OBJECT_TEMPLATE",
    "AppConfigFlagProvider",
    "CompatibilityMode",
    "FeatureFlags",
    "FileFlagProvider",
    "FlagProvider",
    "Found",
    "InvalidFlagDocument",
    "MalformedMessage",
    "Message",
    "MessageCompatibility",
    "MessageError",
    "MessageType",
    "MissingSchemaVersion",
    "OwnVersionFirst",
    "Registry",
    "RegistryError",
    "SchemaVersion",
    "StateError",
    "UnknownMessageType",
    "UnknownSchemaVersion",
    "UnreadableValue",
    "VersionedKeys",
    "check_message_compatibility",
    "parse_flag_document",
    "rollout_bucket",
]
