"""Versioned keys for caches and object stores, and a reader that tries its own version first.

Blue and green shape the same entity differently, so each release stores it under a key that
names its shape version (``customer:v2:42``, ``v2/exports/<id>.json``) and never reads the
other's bytes as its own. When a release needs something only the other wrote (an export made
before a rollback), :class:`OwnVersionFirst` finds it under the other's key and converts it::

    keys = VersionedKeys("customer", "v2")
    keys.key(42)                        # 'customer:v2:42'
    reader = OwnVersionFirst("v2", {"v2": load_v2, "v1": load_v1_as_v2})
    found = reader.read(lambda key: redis.get(key), keys)   # Found(value, version, key) | None
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from expandcontract.state.errors import UnreadableValue

T = TypeVar("T")

CACHE_TEMPLATE = "{namespace}:{version}:{name}"
OBJECT_TEMPLATE = "{version}/{namespace}/{name}"


@dataclass(frozen=True)
class VersionedKeys:
    """Keys of one namespace in one shape version. ``template`` places the parts: a cache key
    (``customer:v1:42``) by default, :data:`OBJECT_TEMPLATE` for a version prefix in a bucket."""

    namespace: str
    version: str
    template: str = CACHE_TEMPLATE

    def key(self, name: object) -> str:
        return self.template.format(namespace=self.namespace, version=self.version, name=name)

    def for_version(self, version: str) -> VersionedKeys:
        return VersionedKeys(self.namespace, version, self.template)


@dataclass(frozen=True)
class Found(Generic[T]):
    """A value read by :class:`OwnVersionFirst`: converted to the reader's shape, with the
    version and key it was stored under."""

    value: T
    version: str
    key: str


class OwnVersionFirst(Generic[T]):
    """Read a value stored under per-version keys: the reader's own version first, then the
    others in the order given, each through its loader (bytes → the reader's shape).

    A loader signals bytes it cannot read by raising ``ValueError`` (``json`` and pydantic do);
    the reader then tries the next version, and raises :class:`UnreadableValue` only when
    something was stored and nothing could be read.
    """

    def __init__(self, own: str, loaders: Mapping[str, Callable[[bytes], T]]) -> None:
        if own not in loaders:
            raise ValueError(f"no loader for the reader's own version {own!r}")
        self.own = own
        self.loaders = {own: loaders[own], **{v: f for v, f in loaders.items() if v != own}}

    def read(
        self, fetch: Callable[[str], bytes | None], keys: VersionedKeys, name: object
    ) -> Found[T] | None:
        """The first readable value of ``name``; None when no version has one."""
        failures: list[str] = []
        first_key = ""
        for version, load in self.loaders.items():
            key = keys.for_version(version).key(name)
            raw = fetch(key)
            if raw is None:
                continue
            first_key = first_key or key
            try:
                return Found(load(raw), version, key)
            except (ValueError, TypeError, KeyError) as err:
                failures.append(f"{key}: {err}")
        if failures:
            raise UnreadableValue(
                "stored value in no format this release reads: " + "; ".join(failures),
                key=first_key,
            )
        return None
