"""EC006 invalid-revision: a file in a versions folder that is not valid Python.

Why: Alembic imports every file of its version locations; one that does not parse stops every
``alembic`` command (upgrade, downgrade, history) for everybody, in every environment. It is
the only revision problem that fails a lint run's file outright; the rest of the history is
still checked.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule


def check(ctx: LintContext) -> Iterator[Hit]:
    for invalid in ctx.history.invalid:
        yield Hit(invalid.message, None, invalid.line, file=invalid.path)


RULE = Rule(
    "EC006",
    "invalid-revision",
    Severity.ERROR,
    "a revision file that is not valid Python",
    __doc__ or "",
    "fix the syntax error; `python -m py_compile FILE` shows it",
    check,
)
