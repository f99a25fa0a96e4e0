"""EC117 require-lock-timeout: DDL that may queue without a ``lock_timeout``.

Why: an ``ALTER TABLE`` waiting for its lock behind an idle-in-transaction connection makes
every later query on that table wait behind it: the whole app stalls. The expandcontract env.py
hook sets a short ``lock_timeout`` (with retries) for every statement; without the hook, each
revision must set one itself before its first DDL. A revision that switches the timeout off
(``SET lock_timeout = 0``, ``RESET``) defeats the protection either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule

_SETS_TIMEOUT = re.compile(r"^\s*SET\s+(SESSION\s+|LOCAL\s+)?lock_timeout\b", re.IGNORECASE)
_DISABLES = re.compile(
    r"^\s*(SET\s+(SESSION\s+|LOCAL\s+)?lock_timeout\s*(=|TO)\s*('0'|0|DEFAULT)\s*;?\s*$"
    r"|RESET\s+(lock_timeout|ALL)\b)",
    re.IGNORECASE,
)


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis in ctx.revisions:
        protected = ctx.env_has_hook
        reported = False
        for statement in analysis.upgrade:
            if _DISABLES.match(statement.sql):
                yield Hit(
                    "this statement switches lock_timeout off: later DDL can queue behind a "
                    "long transaction and stall the app",
                    analysis,
                    statement.line,
                    statement.sql,
                )
                reported = True  # one finding per revision is enough
                continue
            if _SETS_TIMEOUT.match(statement.sql):
                protected = True
                continue
            if not protected and not reported and any(c.is_ddl for c in statement.changes):
                reported = True
                yield Hit(
                    "DDL without a lock_timeout (env.py has no expandcontract hook and the "
                    "revision sets none): it can queue behind a long transaction and stall the app",
                    analysis,
                    statement.line,
                    statement.sql,
                )


RULE = Rule(
    "EC117",
    "require-lock-timeout",
    Severity.WARNING,
    "DDL that can wait for a lock without a lock_timeout",
    __doc__ or "",
    'install the env.py hook (expandcontract.run_migrations), or op.execute("SET lock_timeout '
    "= '2s'\") before the first DDL of the revision",
    check,
)
