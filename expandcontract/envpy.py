"""Adding the hook to a project's env.py (used by ``expandcontract adopt``).

The standard shapes (Alembic's generic and async templates, Flask-Migrate's template, and the
many env.py files derived from them) end each run with::

    context.configure(<keyword arguments>)
    with context.begin_transaction():
        context.run_migrations()

Each such block becomes ``expandcontract.run_migrations(context, <the same arguments>)``, so the
project keeps its URL, connection, metadata and options. Anything else is left to a person:
:class:`NotEditable` says why, and :func:`manual_instructions` what to write.
"""

from __future__ import annotations

import ast
from pathlib import Path

from expandcontract.errors import ConfigurationError

IMPORT_LINE = "import expandcontract"


class NotEditable(ConfigurationError):
    """env.py does not have a shape ``adopt`` can edit safely."""


def manual_instructions(env: Path, reason: str) -> str:
    """The one-line error naming the file and the exact lines to add."""
    return (
        f"cannot add the hook to {env} ({reason}): add `{IMPORT_LINE}` and replace "
        "`context.configure(ARGS)` + `with context.begin_transaction(): context.run_migrations()` "
        "with `expandcontract.run_migrations(context, ARGS)` (same keyword arguments), "
        "then run `expandcontract adopt` again"
    )


def calls_hook(text: str) -> bool:
    """True when env.py calls ``expandcontract.run_migrations`` (or imports it)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith("expandcontract")
            and any(alias.name == "run_migrations" for alias in node.names)
        ):
            return True
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "run_migrations"
            and isinstance(node.value, ast.Name)
            and node.value.id == "expandcontract"
        ):
            return True
    return False


def _is_context_call(node: ast.AST, name: str) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr == name
        and isinstance(node.value.func.value, ast.Name)
        and node.value.func.value.id == "context"
    )


def _is_run_block(node: ast.AST) -> bool:
    """``with context.begin_transaction(): context.run_migrations()`` and nothing else."""
    if not isinstance(node, ast.With) or len(node.items) != 1 or len(node.body) != 1:
        return False
    item = node.items[0]
    begins = (
        isinstance(item.context_expr, ast.Call)
        and isinstance(item.context_expr.func, ast.Attribute)
        and item.context_expr.func.attr == "begin_transaction"
        and item.optional_vars is None
    )
    body = node.body[0]
    return (
        begins
        and _is_context_call(body, "run_migrations")
        and not body.value.args  # type: ignore[attr-defined]
        and not body.value.keywords  # type: ignore[attr-defined]
    )


def add_hook(text: str) -> str:
    """env.py with the hook in place of each configure + run block; raises :class:`NotEditable`."""
    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        raise NotEditable(f"it does not parse: {err.msg} on line {err.lineno}") from err
    lines = text.splitlines(keepends=True)
    blocks: list[tuple[ast.Expr, ast.With]] = []
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for previous, current in zip(body, body[1:], strict=False):
            if _is_run_block(current) and _is_context_call(previous, "configure"):
                blocks.append((previous, current))  # type: ignore[arg-type]
    runs = [n for n in ast.walk(tree) if _is_context_call(n, "run_migrations")]
    configures = [n for n in ast.walk(tree) if _is_context_call(n, "configure")]
    if not runs:
        raise NotEditable("it has no `context.run_migrations()` call")
    if len(blocks) != len(runs) or len(configures) != len(blocks):
        raise NotEditable(
            "not every `context.run_migrations()` directly follows its `context.configure(...)`"
        )
    for configure, block in sorted(blocks, key=lambda b: -b[0].lineno):
        call = configure.value
        assert isinstance(call, ast.Call)
        if call.args:
            raise NotEditable("`context.configure` is called with positional arguments")
        arguments = [
            f"**{ast.get_source_segment(text, kw.value)}"
            if kw.arg is None
            else f"{kw.arg}={ast.get_source_segment(text, kw.value)}"
            for kw in call.keywords
        ]
        indent = " " * configure.col_offset
        one_line = f"{indent}expandcontract.run_migrations({', '.join(['context', *arguments])})\n"
        if len(one_line) > 100:
            inner = "".join(f"{indent}    {arg},\n" for arg in ["context", *arguments])
            one_line = f"{indent}expandcontract.run_migrations(\n{inner}{indent})\n"
        assert block.end_lineno is not None
        lines[configure.lineno - 1 : block.end_lineno] = [one_line]
    return _with_import("".join(lines))


def _with_import(text: str) -> str:
    """``import expandcontract`` after the file's leading block of imports."""
    tree = ast.parse(text)
    anchor = None
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            anchor = node
        elif anchor is not None or not _is_docstring(node):
            break
    lines = text.splitlines(keepends=True)
    at = anchor.end_lineno if anchor is not None and anchor.end_lineno else 0
    lines.insert(at, f"{IMPORT_LINE}\n")
    return "".join(lines)


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
