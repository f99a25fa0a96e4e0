"""Turn what the shared renderer (:mod:`expandcontract.render`) emits into classified statements.

The linter renders through the same :class:`~expandcontract.render.Renderer` as the contract
guard; this module only adds what the rules need on top: each statement's changes (parsed by
PostgreSQL's parser), the operation that emitted it, and, for ``alter_column``, the column's
old and new types (Alembic knows ``existing_type``; the rendered SQL does not say it).
"""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType
from typing import Any

from alembic.operations import ops as alembic_ops
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects import postgresql

from expandcontract.lint.model import Statement
from expandcontract.phases import Phase
from expandcontract.render import Emitted, Renderer, RenderFailed
from expandcontract.sql import Change, SqlParseError, classify

__all__ = ["RenderFailed", "Renderer", "parse_statement", "render_statements"]

_DIALECT = postgresql.dialect()


def parse_statement(
    sql: str,
    line: int | None,
    in_transaction: bool,
    raw: bool,
    op_name: str | None,
    types: tuple[str | None, str | None] | None = None,
) -> Statement:
    """Classify ``sql`` (parse errors are kept on the statement, for the rules to report)."""
    try:
        changes: list[Change] = classify(sql)
        error = None
    except SqlParseError as err:
        changes, error = [], str(err)
    return Statement(sql, line, changes, in_transaction, raw, op_name, error, types)


def render_statements(
    renderer: Renderer,
    revision: str,
    path: Path,
    module: ModuleType,
    phase: Phase | None,
    direction: str = "upgrade",
) -> list[Statement]:
    """The statements the revision's ``direction`` function emits (raises RenderFailed)."""
    return [
        _statement(piece) for piece in renderer.render(revision, path, module, phase, direction)
    ]


def _statement(piece: Emitted) -> Statement:
    operation = piece.operation
    op_name = _op_name(operation) if operation is not None else None
    types = None
    if isinstance(operation, alembic_ops.AlterColumnOp) and operation.modify_type is not None:
        types = (_type_sql(operation.existing_type), _type_sql(operation.modify_type))
    return parse_statement(piece.sql, piece.line, piece.in_transaction, piece.raw, op_name, types)


def _type_sql(type_: Any) -> str | None:
    if type_ is None:
        return None
    try:
        return str(sqltypes.to_instance(type_).compile(dialect=_DIALECT))
    except Exception:  # noqa: BLE001 - a type PostgreSQL cannot express: old type unknown
        return None


def _op_name(operation: Any) -> str:
    if isinstance(operation, alembic_ops.ExecuteSQLOp):
        return "execute"
    name = type(operation).__name__.removesuffix("Op")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
