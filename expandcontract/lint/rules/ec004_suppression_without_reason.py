"""EC004 suppression-without-reason: an ``expandcontract: ignore[...]`` comment gives no reason.

Why: a suppression is a decision someone made about production safety; the next reader (and
the reviewer) needs to know why the finding does not apply. The engine reports this rule.
"""

from __future__ import annotations

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Rule

RULE = Rule(
    "EC004",
    "suppression-without-reason",
    Severity.ERROR,
    "an inline suppression without a reason",
    __doc__ or "",
    "write the reason after the bracket: `# expandcontract: ignore[EC107] table unused since v3`",
)
