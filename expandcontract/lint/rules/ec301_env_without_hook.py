"""EC301 env-without-hook: ``env.py`` does not call ``expandcontract.run_migrations``.

Why: without the hook nothing guards the contract phase (soak period, stable release, schema
still in use), nothing polices destructive SQL at run time, DDL runs without a lock_timeout,
and the ledger records nothing. Plain ``alembic upgrade heads`` would apply contract at once.
"""

from __future__ import annotations

from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule


def check(ctx: LintContext) -> Iterator[Hit]:
    if ctx.env_has_hook:
        return
    line = None
    if ctx.env_path.is_file():
        for number, text in enumerate(
            ctx.env_path.read_text(encoding="utf-8", errors="replace").splitlines(), 1
        ):
            if "run_migrations(" in text:
                line = number
                break
    yield Hit(
        "env.py does not call expandcontract.run_migrations(context, ...): contract revisions "
        "are not guarded",
        file=ctx.env_path,
        line=line or 1,
    )


RULE = Rule(
    "EC301",
    "env-without-hook",
    Severity.ERROR,
    "env.py without the expandcontract hook",
    __doc__ or "",
    "replace context.configure(...)/context.run_migrations() in env.py with "
    "expandcontract.run_migrations(context, target_metadata=target_metadata)",
    check,
)
