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


#: The dotted names under which the hook can be called.
HOOK_TARGETS = frozenset({"expandcontract.run_migrations", "expandcontract.hook.run_migrations"})


def calls_hook(text: str) -> bool:
    """Does this env.py really call the hook (``expandcontract.run_migrations``)?

    The one check the CLI, ``adopt`` and the linter share. A mention is not a call: a comment,
    a string, an import that is never called, a call under ``if False:`` or in a function
    nothing refers to do not count. Every import form counts: ``import expandcontract`` (or
    ``as ec``), ``from expandcontract import run_migrations`` (or ``as hook``),
    ``import expandcontract.hook`` and ``from expandcontract import hook``.
    """
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return False
    bindings = _import_bindings(tree)
    return any(
        _dotted(node.func, bindings) in HOOK_TARGETS
        for node in _reachable_nodes(tree)
        if isinstance(node, ast.Call)
    )


def env_has_hook(env: Path) -> bool:
    """Does the env.py at ``env`` exist and really call the hook (:func:`calls_hook`)?"""
    return env.is_file() and calls_hook(env.read_text(encoding="utf-8", errors="replace"))


def _import_bindings(tree: ast.Module) -> dict[str, str]:
    """Local name -> the dotted name it is bound to, for every import in the file."""
    bindings: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bindings[alias.asname] = alias.name
                else:  # `import a.b` binds `a`
                    root = alias.name.split(".")[0]
                    bindings[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                bindings[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bindings


def _dotted(node: ast.expr, bindings: dict[str, str]) -> str | None:
    """``a.b.c`` as the dotted name it resolves to through the imports, or None."""
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in bindings:
        return None
    return ".".join([bindings[node.id], *reversed(attrs)])


def _reachable_nodes(tree: ast.Module) -> list[ast.AST]:
    """The nodes of code that can run: module-level code, the bodies of functions that
    reachable code refers to (called, or passed on as ``connection.run_sync(fn)`` does), and
    never the body of an ``if`` whose test is a false constant."""
    functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.setdefault(node.name, []).append(node)
    reached: list[ast.AST] = []
    queue: list[list[ast.stmt]] = [tree.body]
    entered: set[int] = set()
    while queue:
        for node in _live(queue.pop()):
            reached.append(node)
            if isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
                name = node.id if isinstance(node, ast.Name) else node.attr
                for function in functions.get(name, []):
                    if id(function) not in entered:
                        entered.add(id(function))
                        queue.append(function.body)
    return reached


def _live(body: list[ast.stmt]) -> list[ast.AST]:
    """Every node under ``body`` except function bodies and statically dead branches."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            # Decorators and defaults run when the function is defined; the body only
            # when something calls it (the caller's reference enters it).
            found.append(node)
            arguments = node.args
            stack.extend([*arguments.defaults, *(d for d in arguments.kw_defaults if d)])
            if not isinstance(node, ast.Lambda):
                stack.extend(node.decorator_list)
            else:
                stack.append(node.body)
            continue
        if isinstance(node, ast.If | ast.While) and isinstance(node.test, ast.Constant):
            found.append(node)
            stack.extend(node.body if node.test.value else node.orelse)
            continue
        found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


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
