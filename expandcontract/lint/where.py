"""Is an ``UPDATE``/``DELETE``'s ``WHERE`` trivially broad (true for nearly every row)?

``WHERE 1 = 1``, ``WHERE true``, ``WHERE id > 0``, ``WHERE col IS NOT NULL`` on a NOT NULL
column, or ``WHERE col IS NULL`` on a column added in the same revision touch every row just
like no ``WHERE`` at all: one transaction over the whole table. This reads the statement with
PostgreSQL's parser; it does not guess at selective predicates.
"""

from __future__ import annotations

from collections.abc import Collection

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType, NullTestType
from pglast.stream import RawStream

# Columns conventionally holding a positive surrogate key.
_KEY_NAMES = frozenset({"id", "pk"})


def broad_where(
    sql: str, not_null: Collection[str] = (), all_null: Collection[str] = ()
) -> str | None:
    """The predicate, as SQL, when ``sql``'s WHERE matches (nearly) every row; else None.

    ``not_null``: columns known to be NOT NULL; ``all_null``: columns NULL in every row (added
    in the same revision without a default).
    """
    try:
        parsed = pglast.parse_sql(sql)
    except pglast.parser.ParseError:
        return None
    if len(parsed) != 1:
        return None
    stmt = parsed[0].stmt
    where = getattr(stmt, "whereClause", None)
    if not isinstance(stmt, ast.UpdateStmt | ast.DeleteStmt) or where is None:
        return None
    if _broad(where, {c.lower() for c in not_null}, {c.lower() for c in all_null}):
        return RawStream()(where)
    return None


def _column(node: object) -> str | None:
    if isinstance(node, ast.ColumnRef) and node.fields:
        last = node.fields[-1]
        return getattr(last, "sval", None)
    return None


def _constant(node: object) -> object:
    if isinstance(node, ast.A_Const) and not node.isnull and node.val is not None:
        value = node.val
        for attr in ("ival", "boolval", "sval", "fval"):
            if hasattr(value, attr):
                return getattr(value, attr)
    return None


def _broad(node: object, not_null: set[str], all_null: set[str]) -> bool:
    if isinstance(node, ast.BoolExpr):
        parts = [_broad(arg, not_null, all_null) for arg in node.args or ()]
        if node.boolop == BoolExprType.OR_EXPR:
            return any(parts)
        if node.boolop == BoolExprType.AND_EXPR:
            return all(parts)
        return False
    if isinstance(node, ast.A_Const):
        return _constant(node) is True
    if isinstance(node, ast.NullTest):
        column = _column(node.arg)
        if column is None:
            return False
        if node.nulltesttype == NullTestType.IS_NOT_NULL:
            return column.lower() in not_null or column.lower() in _KEY_NAMES
        return column.lower() in all_null
    if isinstance(node, ast.A_Expr) and node.kind == A_Expr_Kind.AEXPR_OP and node.name:
        op = getattr(node.name[-1], "sval", "")
        left, right = node.lexpr, node.rexpr
        if op == "=":
            same_column = _column(left) is not None and _column(left) == _column(right)
            constants = _constant(left), _constant(right)
            return same_column or (constants[0] is not None and constants[0] == constants[1])
        column, value = _column(left), _constant(right)
        if column is None or column.lower() not in _KEY_NAMES or not isinstance(value, int):
            return False
        return (op == ">" and value <= 0) or (op == ">=" and value <= 1)
    return False
