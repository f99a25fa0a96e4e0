"""EC005 unused-suppression: a suppression comment silences nothing (or names an unknown rule).

Why: stale suppressions hide the next real problem on that line. The engine reports this rule.
"""

from __future__ import annotations

from expandcontract.lint.model import Severity
from expandcontract.lint.rules._base import Rule

RULE = Rule(
    "EC005",
    "unused-suppression",
    Severity.WARNING,
    "an inline suppression that matches no finding",
    __doc__ or "",
    "remove the comment, or fix the rule id it names",
)
