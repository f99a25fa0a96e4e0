"""EC208 imports-app-models: a revision imports the application's own code (models).

Why: a revision must keep producing the same schema forever, but application models change
with every release. When ``User`` gains a column next month, an old revision that builds its
tables or queries from ``app.models`` silently changes meaning, or fails to import.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule

_MODEL_PARTS = frozenset({"models", "model"})
_SAFE = frozenset({"alembic", "sqlalchemy", "expandcontract", "__future__"})


def _first_party(module: str, root: Path) -> bool:
    parts = module.split(".")
    top = parts[0]
    if not top or top in _SAFE:
        return False
    if _MODEL_PARTS & set(parts):
        return True
    return (root / top).is_dir() or (root / f"{top}.py").is_file()


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis in ctx.revisions:
        for module, line in analysis.static.imports:
            if _first_party(module, ctx.project_root):
                yield Hit(f"revision imports application code ({module})", analysis, line)


RULE = Rule(
    "EC208",
    "imports-app-models",
    Severity.ERROR,
    "revision imports application models",
    __doc__ or "",
    "describe the tables the revision needs inline (sa.table()/sa.column() or raw SQL), "
    "frozen as of this revision",
    check,
)
