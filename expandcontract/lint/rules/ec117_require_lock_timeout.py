"""EC117 require-lock-timeout: DDL that can queue, or run on, without lock and statement timeouts.

Why: an ``ALTER TABLE`` waiting for its lock behind an idle-in-transaction connection makes
every later query on that table wait behind it: the whole app stalls; a rewrite that runs for
minutes holds its lock just as long. The expandcontract env.py hook sets a short
``lock_timeout`` (with retries) and a ``statement_timeout`` for every statement; without the
hook, each revision must set both itself before its first DDL. A revision that switches the
timeout off (``SET lock_timeout = 0``, ``RESET``) defeats the protection either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Hit, LintContext, Rule

_SETS = re.compile(
    r"^\s*SET\s+(SESSION\s+|LOCAL\s+)?(?P<name>lock_timeout|statement_timeout)\b", re.IGNORECASE
)
_DISABLES = re.compile(
    r"^\s*(SET\s+(SESSION\s+|LOCAL\s+)?lock_timeout\s*(=|TO)\s*('0'|0|DEFAULT)\s*;?\s*$"
    r"|RESET\s+(lock_timeout|ALL)\b)",
    re.IGNORECASE,
)
_TIMEOUTS = ("lock_timeout", "statement_timeout")


def check(ctx: LintContext) -> Iterator[Hit]:
    for analysis in ctx.revisions:
        # The hook sets both (statement_timeout relaxed only where a long run is expected).
        configured = set(_TIMEOUTS) if ctx.env_has_hook else set()
        for statement in analysis.upgrade:
            if _DISABLES.match(statement.sql):
                yield Hit(
                    "this statement switches lock_timeout off: later DDL can queue behind a "
                    "long transaction and stall the app",
                    analysis,
                    statement.line,
                    statement.sql,
                )
                break  # one finding per revision is enough
            match = _SETS.match(statement.sql)
            if match:
                configured.add(match["name"].lower())
                continue
            missing = [name for name in _TIMEOUTS if name not in configured]
            if missing and any(c.is_ddl for c in statement.changes):
                yield Hit(
                    f"DDL without {' and '.join(missing)} (env.py has no expandcontract hook to set "
                    "it): it can queue behind a long transaction, or hold "
                    "its lock for as long as it runs, and stall the app",
                    analysis,
                    statement.line,
                    statement.sql,
                )
                break


RULE = Rule(
    "EC117",
    "require-lock-timeout",
    Severity.WARNING,
    "DDL that can wait for a lock, or hold one, without timeouts",
    __doc__ or "",
    'install the env.py hook (expandcontract.run_migrations), or op.execute("SET lock_timeout '
    "= '2s'\") and op.execute(\"SET statement_timeout = '60s'\") before the first DDL",
    check,
)
