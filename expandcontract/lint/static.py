"""Read a revision's Python source without running it.

This is how the linter sees what SQL cannot show: imports of application models, queries
through ``op.get_bind()``, per-row Python loops, an empty ``downgrade()``. When a revision
cannot be rendered offline, the operation calls and literal SQL found here stand in for the
rendered statements.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any

from expandcontract.lint.model import Statement, StaticFacts
from expandcontract.lint.render import parse_statement
from expandcontract.runtime.state import EXEMPTIONS_ATTR
from expandcontract.sql import Change, Effect

# Parameters bound at run time: ``:name`` (SQLAlchemy text()) and ``%s`` / ``%(name)s`` (DB-API).
_BIND_PARAM = re.compile(r"(?<![:\w]):\w+|%\(\w+\)s|%s")
_QUERY_CALLS = frozenset(
    {"execute", "fetchall", "fetchmany", "query", "scalars", "all", "mappings"}
)
_BATCH_MARKERS = ("LIMIT", "FETCH FIRST", "BATCH")
_EXECUTE_NAMES = frozenset({"execute", "exec_driver_sql", "executemany"})


def analyse_source(source: str, tree: ast.Module | None = None) -> StaticFacts:
    """Facts about one revision file (which must be valid Python)."""
    tree = tree or ast.parse(source)
    facts = StaticFacts(line_count=source.count("\n") + 1)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            facts.imports.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            facts.imports.append((module, node.lineno))
        elif isinstance(node, ast.Call) and _attr(node) == "get_bind":
            facts.get_bind_lines.append(node.lineno)
        if isinstance(node, ast.stmt) and not _is_compound(node):
            facts.statement_spans.append((node.lineno, node.end_lineno or node.lineno))
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for name in targets:
                if isinstance(name, ast.Name):
                    facts.assignments[name.id] = node.lineno
                    if name.id == EXEMPTIONS_ATTR:
                        facts.exemptions = _literal_exemptions(node.value)
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    upgrade = functions.get("upgrade")
    if upgrade is not None:
        facts.row_loops = _row_loops(upgrade)
    downgrade = functions.get("downgrade")
    if downgrade is not None:
        facts.has_downgrade = True
        facts.downgrade_line = downgrade.body[0].lineno if downgrade.body else downgrade.lineno
        facts.downgrade_is_noop = all(_is_noop(stmt) for stmt in downgrade.body)
    facts.row_loops.sort()
    facts.get_bind_lines.sort()
    return facts


def _literal_exemptions(node: ast.expr | None) -> dict[str, str]:
    try:
        value = ast.literal_eval(node) if node is not None else None
    except (ValueError, SyntaxError, TypeError):
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _row_loops(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[int]:
    """``for`` loops over query results that execute SQL per row, in ``upgrade()``.

    A ``while`` loop, or one whose SQL takes a ``LIMIT``, is the batched pattern (a bounded
    statement repeated until nothing is left), not row-by-row work.
    """
    results = {
        target.id
        for node in ast.walk(function)
        if isinstance(node, ast.Assign) and _calls(node.value, _QUERY_CALLS)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    loops = []
    for node in ast.walk(function):
        if not isinstance(node, ast.For | ast.AsyncFor) or not _executes_sql(node):
            continue
        over_rows = _calls(node.iter, _QUERY_CALLS) or any(
            isinstance(name, ast.Name) and name.id in results for name in ast.walk(node.iter)
        )
        if over_rows and not _batched(node):
            loops.append(node.lineno)
    return sorted(loops)


def _calls(node: ast.AST, names: frozenset[str]) -> bool:
    return any(
        isinstance(sub, ast.Call) and (_attr(sub) or getattr(sub.func, "id", None)) in names
        for sub in ast.walk(node)
    )


def _batched(loop: ast.For | ast.AsyncFor) -> bool:
    text = " ".join(
        node.value.upper()
        for node in ast.walk(loop)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    )
    return any(marker in text for marker in _BATCH_MARKERS)


def static_statements(source: str, tree: ast.Module | None = None) -> list[Statement]:
    """The statements ``upgrade()``'s operation calls and literal SQL stand for, read statically.

    Only needed when a revision cannot be rendered, so it is not part of :func:`analyse_source`.
    Branches on the dialect (``if op.get_context().dialect.name == "oracle":``) are followed
    only where they hold for PostgreSQL.
    """
    tree = tree or ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "upgrade":
            return list(_static_statements(node))
    return []


def _attr(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else None


def _is_compound(node: ast.stmt) -> bool:
    return any(
        isinstance(getattr(node, name, None), list) for name in ("body", "orelse", "handlers")
    )


def _is_noop(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Pass):
        return True
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


def _executes_sql(loop: ast.For | ast.AsyncFor | ast.While) -> bool:
    """A loop whose body runs SQL: one round trip per row instead of one set-based statement."""
    return any(
        isinstance(node, ast.Call) and _attr(node) in _EXECUTE_NAMES
        for stmt in loop.body
        for node in ast.walk(stmt)
    )


def _literal(node: ast.expr | None) -> str | None:
    """A string constant, possibly wrapped in ``text()`` / ``sa.text()``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and node.args:
        name = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        if name == "text":
            return _literal(node.args[0])
    return None


def _arg(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[index] if len(call.args) > index else None


def _str_arg(call: ast.Call, index: int, keyword: str) -> str | None:
    value = _arg(call, index, keyword)
    return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None


def _table_arg(call: ast.Call, index: int, keyword: str) -> str | None:
    """The table an op call names, qualified by its ``schema=`` argument when it has one."""
    table = _str_arg(call, index, keyword)
    schema = _str_arg(call, 10_000, "schema")
    return f"{schema}.{table}" if table and schema else table


def _kw_true(call: ast.Call, keyword: str) -> bool | None:
    value = _arg(call, 10_000, keyword)
    if isinstance(value, ast.Constant):
        return bool(value.value)
    return None if value is None else True


def _walk_in_order(node: ast.AST, autocommit: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    """Nodes in source order, with whether they sit inside ``autocommit_block()``.

    The branch of an ``if`` on the dialect that PostgreSQL does not take is skipped.
    """
    if isinstance(node, ast.With):
        autocommit = autocommit or any(
            isinstance(item.context_expr, ast.Call)
            and _attr(item.context_expr) == "autocommit_block"
            for item in node.items
        )
    yield node, autocommit
    if isinstance(node, ast.If | ast.IfExp):
        taken = dialect_test(node.test)
        yield from _walk_in_order(node.test, autocommit)
        branches: dict[bool, list[Any]] = {
            True: node.body if isinstance(node.body, list) else [node.body],
            False: node.orelse if isinstance(node.orelse, list) else [node.orelse],
        }
        for outcome, body in branches.items():
            if taken is None or taken is outcome:
                for child in body:
                    yield from _walk_in_order(child, autocommit)
        return
    for child in ast.iter_child_nodes(node):
        yield from _walk_in_order(child, autocommit)


_POSTGRES_NAMES = frozenset({"postgresql", "postgres", "psycopg2", "psycopg", "asyncpg", "pg8000"})


def dialect_test(test: ast.expr) -> bool | None:
    """Does this ``if`` test hold on PostgreSQL? None when it is not about the dialect."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = dialect_test(test.operand)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        values = [dialect_test(value) for value in test.values]
        if isinstance(test.op, ast.And) and False in values:
            return False
        if isinstance(test.op, ast.Or) and True in values:
            return True
        return None if None in values else isinstance(test.op, ast.And)
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return None
    left, right = test.left, test.comparators[0]
    if not _names_dialect(left):
        left, right = right, left
    if not _names_dialect(left):
        return None
    try:
        value = ast.literal_eval(right)
    except (ValueError, SyntaxError, TypeError):
        return None
    names = (
        {value}
        if isinstance(value, str)
        else set(value)
        if isinstance(value, tuple | list | set)
        else None
    )
    if names is None or not all(isinstance(n, str) for n in names):
        return None
    hit = bool({n.lower() for n in names} & _POSTGRES_NAMES)
    op = test.ops[0]
    if isinstance(op, ast.Eq | ast.In | ast.Is):
        return hit
    if isinstance(op, ast.NotEq | ast.NotIn | ast.IsNot):
        return not hit
    return None


def _names_dialect(node: ast.expr) -> bool:
    text = ast.unparse(node).lower()
    return "dialect" in text or text.endswith((".name", "driver")) and "bind" in text


def _static_statements(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[Statement]:
    for node, autocommit in _walk_in_order(function):
        if not isinstance(node, ast.Call):
            continue
        name = _attr(node)
        if name in _EXECUTE_NAMES:
            sql = _literal(node.args[0] if node.args else None)
            if sql is not None:
                sql = _BIND_PARAM.sub("(NULL)", sql)  # bound at run time (also `IN :ids`)
                yield parse_statement(sql, node.lineno, not autocommit, True, "execute")
            continue
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if not (isinstance(receiver, ast.Name) and receiver.id == "op") or name is None:
            continue
        change = _op_change(name, node, ast.unparse(node))
        if change is not None:
            types = None
            if change.kind == "alter_column_type":
                types = (sa_type_sql(_arg(node, 10_000, "existing_type")), change.name)
            yield Statement(
                ast.unparse(node), node.lineno, [change], not autocommit, False, name, None, types
            )


# SQLAlchemy type names -> PostgreSQL's, for type changes read from source.
_SA_TYPES = {
    "string": "varchar",
    "varchar": "varchar",
    "unicode": "varchar",
    "text": "text",
    "unicodetext": "text",
    "integer": "integer",
    "int": "integer",
    "biginteger": "bigint",
    "bigint": "bigint",
    "smallinteger": "smallint",
    "smallint": "smallint",
    "numeric": "numeric",
    "decimal": "numeric",
    "boolean": "boolean",
    "float": "double precision",
    "date": "date",
    "inet": "inet",
    "cidr": "cidr",
    "json": "json",
    "jsonb": "jsonb",
    "uuid": "uuid",
}


def sa_type_sql(node: ast.expr | None) -> str | None:
    """``sa.String(40)`` -> ``varchar(40)``: a SQLAlchemy type in source, as PostgreSQL
    spells it; None when it is not one of the plain types this knows."""
    call = node if isinstance(node, ast.Call) else None
    target = call.func if call is not None else node
    if isinstance(target, ast.Attribute):
        type_name = target.attr
    elif isinstance(target, ast.Name):
        type_name = target.id
    else:
        return None
    lowered = type_name.lower()
    if lowered in ("datetime", "timestamp"):
        zoned = call is not None and _kw_true(call, "timezone")
        return "timestamptz" if zoned else "timestamp"
    pg_name = _SA_TYPES.get(lowered)
    if pg_name is None:
        return None
    args = [
        a.value
        for a in (call.args if call is not None else [])
        if isinstance(a, ast.Constant) and isinstance(a.value, int)
    ]
    for keyword in ("length", "precision", "scale"):
        value = _arg(call, 10_000, keyword) if call is not None else None
        if isinstance(value, ast.Constant) and isinstance(value.value, int):
            args.append(value.value)
    return f"{pg_name}({', '.join(map(str, args))})" if args else pg_name


def _column_flags(column: ast.expr | None) -> tuple[str | None, set[str]]:
    if not isinstance(column, ast.Call):
        return None, set()
    name = _str_arg(column, 0, "name")
    flags: set[str] = set()
    if _kw_true(column, "nullable") is False or _kw_true(column, "primary_key"):
        flags.add("not_null")
    if _arg(column, 10_000, "server_default") is not None:
        flags.add("default")
    return name, flags


def _op_change(name: str, call: ast.Call, source: str) -> Change | None:
    """The change a typed ``op.<name>(...)`` call makes, as far as its literal arguments say."""
    destructive = Effect.DESTRUCTIVE
    if name == "add_column":
        column, flags = _column_flags(_arg(call, 1, "column"))
        breaking = "not_null" in flags and "default" not in flags
        effect = destructive if breaking else Effect.ADDITIVE
        return Change(
            "add_column",
            effect,
            source,
            _table_arg(call, 0, "table_name"),
            column,
            flags=frozenset(flags),
        )
    if name in ("drop_column", "drop_table"):
        table = _table_arg(call, 0, "table_name")
        column = _str_arg(call, 1, "column_name") if name == "drop_column" else None
        return Change(name, destructive, source, table, column)
    if name == "rename_table":
        return Change(
            "rename_table",
            destructive,
            source,
            _table_arg(call, 0, "old_table_name"),
            name=_str_arg(call, 1, "new_table_name"),
        )
    if name == "alter_column":
        table, column = _table_arg(call, 0, "table_name"), _str_arg(call, 1, "column_name")
        if _arg(call, 10_000, "new_column_name") is not None:
            return Change("rename_column", destructive, source, table, column)
        if _arg(call, 10_000, "type_") is not None:
            using = _arg(call, 10_000, "postgresql_using") is not None
            return Change(
                "alter_column_type",
                destructive,
                source,
                table,
                column,
                name=sa_type_sql(_arg(call, 10_000, "type_")),
                flags=frozenset({"using"} if using else ()),
            )
        nullable = _kw_true(call, "nullable")
        if nullable is False:
            return Change("set_not_null", destructive, source, table, column)
        if nullable:
            return Change("drop_not_null", Effect.ADDITIVE, source, table, column)
        return None
    if name in ("create_index", "drop_index"):
        flags = {"concurrently"} if _kw_true(call, "postgresql_concurrently") else set()
        if _kw_true(call, "unique"):
            flags.add("unique")
        effect = Effect.ADDITIVE if name == "create_index" else destructive
        return Change(
            name,
            effect,
            source,
            _table_arg(call, 1, "table_name"),
            name=_str_arg(call, 0, "index_name"),
            flags=frozenset(flags),
        )
    if name == "create_table":
        return Change("create_table", Effect.ADDITIVE, source, _table_arg(call, 0, "table_name"))
    constraint_kinds = {
        "create_foreign_key": "foreign_key",
        "create_check_constraint": "check",
        "create_unique_constraint": "unique",
        "create_primary_key": "primary_key",
    }
    if name in constraint_kinds:
        return Change(
            "add_constraint",
            Effect.ADDITIVE,
            source,
            _table_arg(call, 1, "table_name"),
            name=_str_arg(call, 0, "constraint_name"),
            flags=frozenset({constraint_kinds[name]}),
        )
    if name == "drop_constraint":
        return Change(
            "drop_constraint",
            destructive,
            source,
            _table_arg(call, 1, "table_name"),
            name=_str_arg(call, 0, "constraint_name"),
        )
    return None
