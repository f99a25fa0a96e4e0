"""``expandcontract check``: a phase-aware migration linter.

Library use::

    from expandcontract.lint import lint

    result = lint("alembic.ini", metadata=["green=app.models:metadata"])
    for finding in result.findings:
        print(finding.rule, finding.severity, finding.file, finding.line, finding.message)
    raise SystemExit(result.exit_code)
"""

from __future__ import annotations

from expandcontract.lint.engine import lint
from expandcontract.lint.model import Finding, LintResult, Severity
from expandcontract.lint.rules import Rule, all_rules

__all__ = ["Finding", "LintResult", "Rule", "Severity", "all_rules", "lint"]
