"""Rendering names, literals and types into PostgreSQL SQL text."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

DIALECT = postgresql.dialect()
_PREPARER = DIALECT.identifier_preparer

#: A column type given as SQL text (``"varchar(2)"``) or as a SQLAlchemy type.
TypeLike = str | sa.types.TypeEngine[Any] | type[sa.types.TypeEngine[Any]]


def ident(name: str) -> str:
    """A quoted identifier (quotes only when PostgreSQL needs them)."""
    return _PREPARER.quote(name)


def qualified(name: str) -> str:
    """``schema.table`` or ``table``, each part quoted as needed."""
    return ".".join(ident(part) for part in name.split("."))


def schema_of(name: str) -> str | None:
    return name.rsplit(".", 1)[0] if "." in name else None


def bare(name: str) -> str:
    """The last part of a possibly schema-qualified name."""
    return name.rsplit(".", 1)[-1]


def sibling(table: str, name: str) -> str:
    """``name`` in the schema of ``table`` (functions and triggers live beside their table)."""
    schema = schema_of(table)
    return f"{schema}.{name}" if schema else name


def literal(value: Any) -> str:
    """A constant as an SQL literal."""
    return str(sa.literal(value).compile(dialect=DIALECT, compile_kwargs={"literal_binds": True}))


def type_sql(type_: TypeLike) -> str:
    if isinstance(type_, str):
        return type_
    if isinstance(type_, type):
        type_ = type_()
    return str(type_.compile(dialect=DIALECT))


def column_list(columns: list[str] | tuple[str, ...]) -> str:
    return ", ".join(ident(column) for column in columns)


def short_name(*parts: str, suffix: str) -> str:
    """A generated object name within PostgreSQL's 63-byte limit."""
    base = "_".join(bare(part) for part in parts)
    return f"{base[: 62 - len(suffix)]}_{suffix}"
