"""What a release uses of the schema, read from its SQLAlchemy metadata.

A release names its metadata as ``MODULE:ATTR`` (``app.models_v1:metadata``); ATTR may be a
``MetaData`` or a declarative base carrying one. Usage is a plain mapping
``{table: [columns]}`` so it can be stored in the ledger as JSON.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import sqlalchemy as sa

from expandcontract.errors import ConfigurationError

Usage = dict[str, list[str]]


def load_metadata(spec: str) -> sa.MetaData:
    """Import ``MODULE:ATTR`` and return the ``MetaData`` it names."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigurationError(
            f"metadata {spec!r} must look like MODULE:ATTR, e.g. app.models_v1:metadata"
        )
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except Exception as err:  # a module that raises while importing is bad input here too
        raise ConfigurationError(
            f"cannot import {module_name!r} for metadata {spec!r}: {type(err).__name__}: {err}"
        ) from err
    target: object = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ConfigurationError(f"{module_name!r} has no attribute {attr!r}")
        target = getattr(target, part)
    metadata = getattr(target, "metadata", target)
    if not isinstance(metadata, sa.MetaData):
        raise ConfigurationError(
            f"{spec!r} is not SQLAlchemy MetaData (got {type(target).__name__})"
        )
    return metadata


def schema_usage(metadata: sa.MetaData) -> Usage:
    """The tables and columns ``metadata`` uses."""
    return {
        table.fullname: sorted(column.name for column in table.columns)
        for table in metadata.sorted_tables
    }


def _bare(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def removed_in_use(usage: Usage, table: str, column: str | None = None) -> bool:
    """Would removing ``table`` (or ``table.column``) take away something ``usage`` needs?"""
    for used_table, columns in usage.items():
        if _bare(used_table) != _bare(table):
            continue
        return column is None or column in columns
    return False
