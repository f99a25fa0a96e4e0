"""Later phases of a pattern reuse the pattern object their expand revision defined."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from expandcontract.errors import ConfigurationError
from expandcontract.ops.patterns.base import Pattern


def from_revision(here: str, revision_file: str, attribute: str) -> Pattern:
    """The pattern ``attribute`` defined in the sibling revision file ``revision_file``.

    A migrate or contract revision calls it with its own ``__file__``::

        ADDRESS = from_revision(__file__, "0002_split_address", "ADDRESS")

    Loading the expand revision's file (rather than importing the app) keeps every revision
    meaning what it meant when it was written: one parse and one compose definition.
    """
    path = Path(here).with_name(f"{revision_file.removesuffix('.py')}.py")
    if not path.is_file():
        raise ConfigurationError(f"{here}: no revision file {path.name} next to it")
    spec = importlib.util.spec_from_file_location(f"_expandcontract_revision_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ConfigurationError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pattern = getattr(module, attribute, None)
    if not isinstance(pattern, Pattern):
        raise ConfigurationError(f"{path.name} defines no pattern named {attribute}")
    return pattern
