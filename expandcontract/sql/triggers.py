"""Can a row trigger make the app's writes vanish?

A row-level ``BEFORE`` (or ``INSTEAD OF``) trigger decides what happens to each row the app
writes: when its function returns NULL the write is silently skipped, and returning ``OLD``
from an ``UPDATE`` silently undoes it. In expand and migrate such a trigger on a table the
running release writes loses data without an error anywhere, so policing treats it as
destructive unless it is provably harmless.

The rule fails closed. A trigger is harmless only when its function is PL/pgSQL and every
``RETURN`` returns the row being written: ``NEW`` on every path an ``INSERT`` or ``UPDATE``
can take, ``OLD`` on every path a ``DELETE`` can take (``IF TG_OP = 'DELETE'``, ``CASE
TG_OP`` and ``ELSIF`` chains are followed), and nothing assigns a whole new value to ``NEW``
or ``OLD``. Anything else (``RETURN NULL``, another expression, a non-PL/pgSQL function, a
body that does not parse) is judged able to discard writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pglast
from pglast import ast
from pglast.enums import A_Expr_Kind, BoolExprType

from expandcontract.sql.classify import SqlParseError

ROW_OPS = frozenset({"INSERT", "UPDATE", "DELETE"})
ROW_VARIABLES = frozenset({"new", "old"})

# pg_trigger.tgtype bits (src/include/catalog/pg_trigger.h)
TYPE_ROW = 1
TYPE_BEFORE = 2
TYPE_INSERT = 4
TYPE_DELETE = 8
TYPE_UPDATE = 16
TYPE_INSTEAD = 64


def decides_rows(tgtype: int) -> bool:
    """Does a trigger of this ``pg_trigger.tgtype`` decide what happens to each written row?"""
    return bool(tgtype & TYPE_ROW) and bool(tgtype & (TYPE_BEFORE | TYPE_INSTEAD))


def row_ops(tgtype: int) -> frozenset[str]:
    """The row operations a trigger of this ``tgtype`` fires on."""
    bits = {"INSERT": TYPE_INSERT, "UPDATE": TYPE_UPDATE, "DELETE": TYPE_DELETE}
    return frozenset(op for op, bit in bits.items() if tgtype & bit)


@dataclass(frozen=True)
class FunctionDefinition:
    """What a ``CREATE [OR REPLACE] FUNCTION`` statement defines."""

    name: str  # as written, dotted
    language: str
    source: str
    returns_trigger: bool


def function_definition(sql: str) -> FunctionDefinition | None:
    """The function ``sql`` (one ``CREATE FUNCTION`` statement) defines, or None."""
    try:
        parsed = pglast.parse_sql(sql)
    except pglast.parser.ParseError as err:
        raise SqlParseError(f"cannot parse SQL: {err}") from err
    if len(parsed) != 1 or not isinstance(parsed[0].stmt, ast.CreateFunctionStmt):
        return None
    stmt = parsed[0].stmt
    language, source = "sql", ""
    for option in stmt.options or ():
        if option.defname == "language":
            language = getattr(option.arg, "sval", str(option.arg)).lower()
        elif option.defname == "as":
            parts = option.arg if isinstance(option.arg, tuple | list) else (option.arg,)
            source = getattr(parts[0], "sval", "") if parts else ""
    if stmt.sql_body is not None:  # BEGIN ATOMIC ... END: an SQL function
        language = "sql"
    returns = stmt.returnType
    names = [getattr(n, "sval", "") for n in ((returns.names if returns else None) or ())]
    return FunctionDefinition(
        ".".join(getattr(part, "sval", str(part)) for part in stmt.funcname or ()),
        language,
        source,
        bool(names) and names[-1].lower() == "trigger",
    )


def discards_writes(language: str | None, source: str | None, ops: frozenset[str]) -> str | None:
    """Why a row-deciding trigger running this function can discard a write of ``ops``.

    None when it provably cannot: PL/pgSQL whose every reachable ``RETURN`` gives back the row.
    """
    if language is None or source is None:
        return "its function cannot be read"
    if language.lower() != "plpgsql":
        return f"its function is written in {language}, not PL/pgSQL, so nobody can check it"
    try:
        tree = _plpgsql_tree(source)
    except pglast.parser.ParseError as err:
        return f"its function does not parse ({err})"
    returns = list(_returns_in_order(tree))
    written = _return_expressions(source)
    if len(returns) != len(written):
        return "its RETURN statements cannot be told apart"
    values = {id(node): text for node, text in zip(returns, written, strict=True)}
    for node, text in zip(returns, written, strict=True):
        expr = node.get("expr")
        if expr is not None and _normalised(expr["PLpgSQL_expr"]["query"]) != _normalised(text):
            return "its RETURN statements cannot be told apart"
    problems: list[str] = []
    _Walker(values, problems).block([tree], ops & ROW_OPS)
    return problems[0] if problems else None


def _plpgsql_tree(source: str) -> dict[str, Any]:
    tag = "$ec_body$"
    while tag in source:
        tag = tag[:-1] + "x$"
    parsed = pglast.parse_plpgsql(
        f"CREATE FUNCTION ec_probe() RETURNS trigger LANGUAGE plpgsql AS {tag}{source}{tag}"
    )
    return parsed[0]["PLpgSQL_function"]["action"]


def _returns_in_order(node: Any) -> Iterator[dict[str, Any]]:
    """Every ``RETURN`` node, in source order (the JSON keeps the statements' order)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "PLpgSQL_stmt_return":
                yield value
            else:
                yield from _returns_in_order(value)
    elif isinstance(node, list):
        for item in node:
            yield from _returns_in_order(item)


# Strings, quoted identifiers and comments, so that a RETURN inside them is not counted.
_NOISE = re.compile(
    r"""(?P<dollar>\$\$.*?\$\$|\$(?P<tag>[A-Za-z_][A-Za-z_0-9]*)\$.*?\$(?P=tag)\$)"""
    r"""|(?P<string>[Ee]'(?:[^'\\]|''|\\.)*'|'(?:[^']|'')*')"""
    r"""|(?P<ident>"(?:[^"]|"")*")"""
    r"""|(?P<line>--[^\n]*)"""
    r"""|(?P<block>/\*.*?\*/)""",
    re.DOTALL,
)
_RETURN = re.compile(r"(?<![.\w])return\b(?!\s+(?:next|query)\b)\s*([^;]*);", re.IGNORECASE)


def _return_expressions(source: str) -> list[str]:
    """What each ``RETURN`` statement returns, as written, in source order."""

    def blank(match: re.Match[str]) -> str:
        text = match.group(0)
        if match.group("ident") is not None:
            return text[1:-1] if text[1:-1] in ROW_VARIABLES else '"?"'
        if match.group("string") is not None or match.group("dollar") is not None:
            return "'?'"
        return " "

    return [m.group(1).strip() for m in _RETURN.finditer(_NOISE.sub(blank, source))]


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _returned_variable(text: str) -> str | None:
    """``new`` / ``old`` when the expression is just that variable (in parentheses or not)."""
    value = _normalised(text)
    while value.startswith("(") and value.endswith(")"):
        value = value[1:-1].strip()
    value = value.strip('"')
    return value if value in ROW_VARIABLES else None


class _Walker:
    """Follows which operations can reach each statement; records every way to lose a write."""

    def __init__(self, values: dict[int, str], problems: list[str]) -> None:
        self.values = values
        self.problems = problems

    def block(self, statements: list[Any], ops: frozenset[str]) -> frozenset[str]:
        """The operations that can run past the end of ``statements``."""
        for statement in statements:
            if not ops:
                break
            ops = self.statement(statement, ops)
        return ops

    def statement(self, node: dict[str, Any], ops: frozenset[str]) -> frozenset[str]:
        ((kind, body),) = node.items()
        self._assigns_row(kind, body)
        if kind == "PLpgSQL_stmt_return":
            self._judge_return(body, ops)
            return frozenset()
        if kind == "PLpgSQL_stmt_block":
            through = self.block(body.get("body", []), ops)
            handlers = body.get("exceptions", {}).get("PLpgSQL_exception_block", {})
            for handler in handlers.get("exc_list", []):
                through |= self.block(handler["PLpgSQL_exception"].get("action", []), ops)
            return through
        if kind == "PLpgSQL_stmt_if":
            branches = [(body["cond"], body.get("then_body", []))]
            for elsif in body.get("elsif_list", []):
                item = elsif["PLpgSQL_if_elsif"]
                branches.append((item["cond"], item.get("stmts", [])))
            return self._branches(branches, body.get("else_body", []), ops, frozenset())
        if kind == "PLpgSQL_stmt_case":
            subject = body.get("t_expr")
            case_var = (
                _normalised(subject["PLpgSQL_expr"]["query"]) == "tg_op" if subject else False
            )
            branches = [
                (item["PLpgSQL_case_when"]["expr"], item["PLpgSQL_case_when"].get("stmts", []))
                for item in body.get("case_when_list", [])
            ]
            # A CASE without ELSE that matches nothing raises CASE_NOT_FOUND: nothing falls
            # through; judging the missing ELSE as an empty one is the safe side.
            return self._branches(
                branches, body.get("else_stmts", []), ops, frozenset({"case"} if case_var else ())
            )
        if kind.startswith("PLpgSQL_stmt_") and "body" in body:  # loops: zero or more times
            self.block(body["body"], ops)
            return ops
        return ops

    def _branches(
        self,
        branches: list[tuple[dict[str, Any], list[Any]]],
        otherwise: list[Any],
        ops: frozenset[str],
        case_subject: frozenset[str],
    ) -> frozenset[str]:
        through: frozenset[str] = frozenset()
        rest = ops
        for condition, statements in branches:
            when_true, when_false = _split(condition["PLpgSQL_expr"]["query"], case_subject)
            through |= self.block(statements, rest & when_true)
            rest = rest & when_false
        return through | self.block(otherwise, rest)

    def _judge_return(self, node: dict[str, Any], ops: frozenset[str]) -> None:
        text = self.values.get(id(node), "")
        variable = _returned_variable(text)
        if variable == "new" and "DELETE" not in ops:
            return
        if variable == "old" and ops <= {"DELETE"}:
            return
        written = " ".join(text.split()) or "nothing"
        on = "/".join(sorted(ops))
        self.problems.append(
            f"it returns {written} on {on} (line {node.get('lineno', '?')} of its function), "
            "which skips or undoes the write"
        )

    def _assigns_row(self, kind: str, body: dict[str, Any]) -> None:
        """``NEW := ...``, ``SELECT ... INTO NEW``, ``FOR NEW IN ...``: the row is replaced."""
        if kind == "PLpgSQL_stmt_assign":
            query = body.get("expr", {}).get("PLpgSQL_expr", {}).get("query", "")
            target = re.split(r":=|=", query, maxsplit=1)[0]
            if _returned_variable(target):
                self.problems.append(
                    f"it assigns a whole new value to {target.strip()} "
                    f"(line {body.get('lineno', '?')} of its function)"
                )
            return
        for key in ("target", "var"):
            value = body.get(key)
            if not isinstance(value, dict):
                continue
            refs = [v.get("refname", "") for v in value.values() if isinstance(v, dict)]
            fields = [
                field.get("name", "")
                for v in value.values()
                if isinstance(v, dict)
                for field in v.get("fields", [])
            ]
            if any(name.lower() in ROW_VARIABLES for name in [*refs, *fields]):
                self.problems.append(
                    f"it reads a whole new value into NEW or OLD "
                    f"(line {body.get('lineno', '?')} of its function)"
                )


_ALL = frozenset(ROW_OPS)
_CASE_VARIABLE = re.compile(r"__case__variable_\d+__")


def _split(condition: str, case_subject: frozenset[str]) -> tuple[frozenset[str], frozenset[str]]:
    """(operations for which ``condition`` can be true, ... can be false); unknown: all."""
    try:
        parsed = pglast.parse_sql(f"SELECT {condition}")
        target = parsed[0].stmt.targetList[0].val  # type: ignore[union-attr,index]
    except (pglast.parser.ParseError, AttributeError, IndexError, TypeError):
        return _ALL, _ALL
    return _narrow(target, bool(case_subject))


def _is_tg_op(node: Any, case_subject: bool) -> bool:
    while isinstance(node, ast.TypeCast):
        node = node.arg
    if not isinstance(node, ast.ColumnRef) or len(node.fields or ()) != 1:
        return False
    name = getattr((node.fields or ("",))[0], "sval", "").lower()
    return name == "tg_op" or (case_subject and bool(_CASE_VARIABLE.fullmatch(name)))


def _constants(node: Any) -> frozenset[str] | None:
    items = node if isinstance(node, tuple | list) else (node,)
    values = set()
    for item in items:
        while isinstance(item, ast.TypeCast):
            item = item.arg
        value = getattr(getattr(item, "val", None), "sval", None)
        if not isinstance(item, ast.A_Const) or value is None:
            return None
        values.add(value.upper())
    return frozenset(values)


def _narrow(node: Any, case_subject: bool) -> tuple[frozenset[str], frozenset[str]]:
    if isinstance(node, ast.BoolExpr):
        parts = [_narrow(arg, case_subject) for arg in node.args or ()]
        if node.boolop == BoolExprType.NOT_EXPR:
            when_true, when_false = parts[0]
            return when_false, when_true
        if node.boolop == BoolExprType.AND_EXPR:
            true = _ALL
            false: frozenset[str] = frozenset()
            for t, f in parts:
                true, false = true & t, false | f
            return true, false
        true, false = frozenset(), _ALL
        for t, f in parts:
            true, false = true | t, false & f
        return true, false
    if isinstance(node, ast.A_Expr) and node.kind in (
        A_Expr_Kind.AEXPR_OP,
        A_Expr_Kind.AEXPR_IN,
    ):
        operator = getattr(node.name[0], "sval", "") if node.name else ""
        subject: Any = node.lexpr
        other: Any = node.rexpr
        if not _is_tg_op(subject, case_subject):
            subject, other = other, subject
        values = _constants(other) if _is_tg_op(subject, case_subject) else None
        if values is None or operator not in ("=", "<>", "!="):
            return _ALL, _ALL
        matched = _ALL & values
        if operator == "=":
            return matched, _ALL - matched
        return _ALL - matched, matched
    return _ALL, _ALL
