"""Feature flags from AWS AppConfig (the AppConfig Data API) or a local file, with a
deterministic percentage rollout.

One deployment carries both code paths; configuration switches between them, optionally for a
share of users. The share is decided by a stable hash of the flag and the user id, so a user
gets the same answer from blue and green, from every process, on every request::

    flags = FeatureFlags(FileFlagProvider("flags.json"))
    flags.enabled("structured_address_v1", user_id="alice")

A flag document maps flag names to ``{"enabled": bool, "percentage": 0-100}`` (the shape the
AppConfig Data API returns for a feature-flag profile). A document that does not validate is
counted and logged, and the last good one stays in force.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jsonschema
from jsonschema import Draft202012Validator

from expandcontract.state.errors import InvalidFlagDocument, StateError

log = logging.getLogger("expandcontract.state.flags")

FLAG_DOCUMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9_.-]{0,63}$"},
    "additionalProperties": {
        "type": "object",
        "required": ["enabled"],
        "properties": {
            "enabled": {"type": "boolean"},
            "percentage": {"type": "number", "minimum": 0, "maximum": 100},
        },
    },
}
_VALIDATOR = Draft202012Validator(FLAG_DOCUMENT_SCHEMA)


def rollout_bucket(flag: str, user_id: str) -> float:
    """Where ``user_id`` falls for ``flag``, in [0, 100): the same on every host and release.

    SHA-256 rather than ``hash()``, which Python salts per process.
    """
    digest = hashlib.sha256(f"{flag}\x00{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def parse_flag_document(raw: bytes | str) -> dict[str, dict[str, Any]]:
    """The flags of a document, or :class:`InvalidFlagDocument` saying what is wrong."""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidFlagDocument(f"flag document is not JSON: {err}") from None
    error = jsonschema.exceptions.best_match(_VALIDATOR.iter_errors(document))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "document"
        raise InvalidFlagDocument(f"flag document: {where}: {error.message}")
    return document  # type: ignore[no-any-return]


class FlagProvider(Protocol):
    """Where flag documents come from. ``fetch`` returns the document's bytes, or None when
    it has not changed since the last call."""

    def fetch(self) -> bytes | None: ...


class FileFlagProvider:
    """A JSON file, re-read when its modification time changes (development, tests)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._seen: tuple[int, int] | None = None

    def fetch(self) -> bytes | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            raise StateError(f"flag file {self.path} does not exist") from None
        seen = (stat.st_mtime_ns, stat.st_size)
        if seen == self._seen:
            return None
        data = self.path.read_bytes()
        self._seen = seen
        return data


class AppConfigFlagProvider:
    """The AppConfig Data API: one configuration session, then ``GetLatestConfiguration``
    with the token it hands back, no more often than the poll interval it asks for.

    boto3 is imported only when the first fetch needs a client, so importing this module
    does not need it.
    """

    def __init__(
        self,
        application: str,
        environment: str,
        profile: str,
        *,
        client: Any = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        min_poll_seconds: int = 15,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.application = application
        self.environment = environment
        self.profile = profile
        self.min_poll_seconds = min_poll_seconds
        self._client = client
        self._region = region
        self._endpoint_url = endpoint_url
        self._clock = clock
        self._token: str | None = None
        self._next_poll = 0.0

    def fetch(self) -> bytes | None:
        if self._clock() < self._next_poll:
            return None
        client = self._appconfigdata()
        if self._token is None:
            session = client.start_configuration_session(
                ApplicationIdentifier=self.application,
                EnvironmentIdentifier=self.environment,
                ConfigurationProfileIdentifier=self.profile,
                RequiredMinimumPollIntervalInSeconds=self.min_poll_seconds,
            )
            self._token = session["InitialConfigurationToken"]
        try:
            response = client.get_latest_configuration(ConfigurationToken=self._token)
        except Exception:
            self._token = None  # an expired token needs a new session next time
            raise
        self._token = response["NextPollConfigurationToken"]
        self._next_poll = self._clock() + response.get(
            "NextPollIntervalInSeconds", self.min_poll_seconds
        )
        body = response["Configuration"].read()
        return body or None  # empty: unchanged since the last poll

    def _appconfigdata(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "appconfigdata", region_name=self._region, endpoint_url=self._endpoint_url
            )
        return self._client


@dataclass
class FlagStats:
    """What a flag client has seen; exposed on a metrics or health endpoint."""

    documents_loaded: int = 0
    invalid_documents: int = 0
    fetch_errors: int = 0
    last_error: str | None = None
    flags: dict[str, dict[str, Any]] = field(default_factory=dict)


class FeatureFlags:
    """Flags from a provider, refreshed at most every ``refresh_seconds``; thread-safe.

    A fetch that fails or a document that does not validate leaves the last good flags in
    force (none at first: every flag is off), and is counted in :attr:`stats`.
    """

    def __init__(
        self,
        provider: FlagProvider,
        *,
        refresh_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = provider
        self.refresh_seconds = refresh_seconds
        self.stats = FlagStats()
        self._clock = clock
        self._next_refresh = 0.0
        self._lock = threading.Lock()

    def enabled(self, flag: str, user_id: str | int | None = None) -> bool:
        """Whether ``flag`` is on for ``user_id``: enabled, and the user's bucket falls under
        the flag's ``percentage`` (100 when absent). Unknown flags are off."""
        settings = self.flags().get(flag)
        if not settings or not settings.get("enabled"):
            return False
        percentage = float(settings.get("percentage", 100))
        if percentage >= 100:
            return True
        if user_id is None:
            return False  # a partial rollout needs someone to roll out to
        return rollout_bucket(flag, str(user_id)) < percentage

    def flags(self) -> dict[str, dict[str, Any]]:
        """The flags in force, refreshed from the provider when due."""
        with self._lock:
            if self._clock() >= self._next_refresh:
                self._next_refresh = self._clock() + self.refresh_seconds
                self._refresh()
            return self.stats.flags

    def _refresh(self) -> None:
        try:
            raw = self.provider.fetch()
        except Exception as err:  # noqa: BLE001 - any provider failure keeps the last flags
            self.stats.fetch_errors += 1
            self.stats.last_error = f"fetch failed: {err}"
            log.warning("feature flags: %s; keeping the last good flags", self.stats.last_error)
            return
        if raw is None:
            return
        try:
            flags = parse_flag_document(raw)
        except InvalidFlagDocument as err:
            self.stats.invalid_documents += 1
            self.stats.last_error = str(err)
            log.warning("feature flags: %s; keeping the last good flags", err)
            return
        self.stats.flags = flags
        self.stats.documents_loaded += 1
