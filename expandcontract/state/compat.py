"""Can two releases read each other's messages? A check for CI, before a deploy.

In the spirit of a schema registry's modes:

- ``BACKWARD``: the new release reads everything the old one writes;
- ``FORWARD``: the old release reads everything the new one writes (what a rollback needs);
- ``FULL``: both, which blue-green needs while both are live.

The check encodes every registered example of the writer's current version with the writer's
registry and decodes it with the reader's: the same code paths the consumers run, and the same
JSON Schemas validate both ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from expandcontract.state.errors import MessageError
from expandcontract.state.messages import Registry


class CompatibilityMode(StrEnum):
    BACKWARD = "BACKWARD"
    FORWARD = "FORWARD"
    FULL = "FULL"


@dataclass
class MessageCompatibility:
    """The verdict: ``compatible`` is true when ``problems`` is empty."""

    mode: CompatibilityMode
    problems: list[str] = field(default_factory=list)
    checked: int = 0

    @property
    def compatible(self) -> bool:
        return not self.problems


def check_message_compatibility(
    old: Registry, new: Registry, mode: CompatibilityMode | str = CompatibilityMode.FULL
) -> MessageCompatibility:
    """Check that ``old`` and ``new`` can read each other's messages as ``mode`` requires."""
    mode = CompatibilityMode(mode)
    result = MessageCompatibility(mode)
    if mode in (CompatibilityMode.BACKWARD, CompatibilityMode.FULL):
        _reads(new, old, "new", "old", result)
    if mode in (CompatibilityMode.FORWARD, CompatibilityMode.FULL):
        _reads(old, new, "old", "new", result)
    return result


def _reads(
    reader: Registry,
    writer: Registry,
    reader_name: str,
    writer_name: str,
    result: MessageCompatibility,
) -> None:
    for name, message_type in sorted(writer.types.items()):
        version = message_type.versions[message_type.current]
        if not version.examples:
            result.problems.append(
                f"{name} v{version.number}: no examples registered, so nothing proves the "
                f"{reader_name} release can read it"
            )
            continue
        for index, example in enumerate(version.examples):
            result.checked += 1
            try:
                body = writer.encode(name, example)
            except MessageError as err:
                result.problems.append(f"{name} v{version.number} example {index}: {err}")
                continue
            try:
                reader.decode(body)
            except MessageError as err:
                result.problems.append(
                    f"{reader_name} release cannot read {name} v{version.number} written by the "
                    f"{writer_name} release (example {index}): {err}"
                )
