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

from expandcontract.lint.model import Statement, StaticFacts
from expandcontract.lint.render import parse_statement
from expandcontract.sql import Change, Effect

_BIND_PARAM = re.compile(r"(?<![:\w]):\w+")
_EXECUTE_NAMES = frozenset({"execute", "exec_driver_sql", "executemany"})


def analyse_source(source: str) -> StaticFacts:
    """Facts about one revision file (which must be valid Python)."""
    tree = ast.parse(source)
    facts = StaticFacts(line_count=source.count("\n") + 1)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            facts.imports.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            facts.imports.append((module, node.lineno))
        elif isinstance(node, ast.Call) and _attr(node) == "get_bind":
            facts.get_bind_lines.append(node.lineno)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.While) and _executes_sql(node):
            facts.row_loops.append(node.lineno)
        if isinstance(node, ast.stmt) and not _is_compound(node):
            facts.statement_spans.append((node.lineno, node.end_lineno or node.lineno))
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for name in targets:
                if isinstance(name, ast.Name):
                    facts.assignments[name.id] = node.lineno
    functions = {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    downgrade = functions.get("downgrade")
    if downgrade is not None:
        facts.has_downgrade = True
        facts.downgrade_line = downgrade.body[0].lineno if downgrade.body else downgrade.lineno
        facts.downgrade_is_noop = all(_is_noop(stmt) for stmt in downgrade.body)
    facts.row_loops.sort()
    facts.get_bind_lines.sort()
    return facts


def static_statements(source: str) -> list[Statement]:
    """The statements ``upgrade()``'s operation calls and literal SQL stand for, read statically.

    Only needed when a revision cannot be rendered, so it is not part of :func:`analyse_source`.
    """
    tree = ast.parse(source)
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


def _kw_true(call: ast.Call, keyword: str) -> bool | None:
    value = _arg(call, 10_000, keyword)
    if isinstance(value, ast.Constant):
        return bool(value.value)
    return None if value is None else True


def _walk_in_order(node: ast.AST, autocommit: bool = False) -> Iterator[tuple[ast.AST, bool]]:
    """Nodes in source order, with whether they sit inside ``autocommit_block()``."""
    if isinstance(node, ast.With):
        autocommit = autocommit or any(
            isinstance(item.context_expr, ast.Call)
            and _attr(item.context_expr) == "autocommit_block"
            for item in node.items
        )
    yield node, autocommit
    for child in ast.iter_child_nodes(node):
        yield from _walk_in_order(child, autocommit)


def _static_statements(function: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[Statement]:
    for node, autocommit in _walk_in_order(function):
        if not isinstance(node, ast.Call):
            continue
        name = _attr(node)
        if name in _EXECUTE_NAMES:
            sql = _literal(node.args[0] if node.args else None)
            if sql is not None:
                sql = _BIND_PARAM.sub("NULL", sql)  # :name parameters are bound at run time
                yield parse_statement(sql, node.lineno, not autocommit, True, "execute")
            continue
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if not (isinstance(receiver, ast.Name) and receiver.id == "op") or name is None:
            continue
        change = _op_change(name, node, ast.unparse(node))
        if change is not None:
            yield Statement(ast.unparse(node), node.lineno, [change], not autocommit, False, name)


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
            _str_arg(call, 0, "table_name"),
            column,
            flags=frozenset(flags),
        )
    if name in ("drop_column", "drop_table"):
        table = _str_arg(call, 0, "table_name")
        column = _str_arg(call, 1, "column_name") if name == "drop_column" else None
        return Change(name, destructive, source, table, column)
    if name == "rename_table":
        return Change(
            "rename_table",
            destructive,
            source,
            _str_arg(call, 0, "old_table_name"),
            name=_str_arg(call, 1, "new_table_name"),
        )
    if name == "alter_column":
        table, column = _str_arg(call, 0, "table_name"), _str_arg(call, 1, "column_name")
        if _arg(call, 10_000, "new_column_name") is not None:
            return Change("rename_column", destructive, source, table, column)
        if _arg(call, 10_000, "type_") is not None:
            return Change("alter_column_type", destructive, source, table, column)
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
            _str_arg(call, 1, "table_name"),
            name=_str_arg(call, 0, "index_name"),
            flags=frozenset(flags),
        )
    if name == "create_table":
        return Change("create_table", Effect.ADDITIVE, source, _str_arg(call, 0, "table_name"))
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
            _str_arg(call, 1, "table_name"),
            name=_str_arg(call, 0, "constraint_name"),
            flags=frozenset({constraint_kinds[name]}),
        )
    if name == "drop_constraint":
        return Change(
            "drop_constraint",
            destructive,
            source,
            _str_arg(call, 1, "table_name"),
            name=_str_arg(call, 0, "constraint_name"),
        )
    return None


def env_calls_hook(source: str) -> bool:
    """Does this env.py call ``expandcontract.run_migrations`` (not merely mention it)?"""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("expandcontract")
        for alias in node.names
        if alias.name == "run_migrations"
    }
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in imported:
            return True
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "run_migrations"
            and "expandcontract" in ast.unparse(func.value)
        ):
            return True
    return False
