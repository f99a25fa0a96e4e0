"""Which rules run, and how severe they are: ``pyproject.toml`` plus the command line.

``[tool.expandcontract]`` (or its sub-table ``[tool.expandcontract.lint]``, which wins)::

    [tool.expandcontract.lint]
    select = ["ALL"]                 # ids, names or id prefixes ("EC1" = every EC1xx rule)
    ignore = ["EC203", "opaque-sql"]
    severity = { EC304 = "error", addition-in-contract = "error" }

``--select`` on the command line replaces ``select``; ``--ignore`` adds to ``ignore``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from expandcontract.config import find_pyproject
from expandcontract.errors import ConfigurationError
from expandcontract.lint.model import Severity
from expandcontract.lint.rules import Rule, all_rules, rule_aliases


@dataclass(frozen=True)
class LintConfig:
    """The resolved rule selection (rule ids) and severity overrides."""

    enabled: frozenset[str]
    severities: dict[str, Severity] = field(default_factory=dict)
    source: Path | None = None

    def severity_of(self, rule: Rule) -> Severity:
        return self.severities.get(rule.id, rule.severity)


def resolve_rules(tokens: Iterable[str], where: str) -> set[str]:
    """Rule ids named by ``tokens`` (ids, names, prefixes such as ``EC1``, or ``ALL``)."""
    aliases = rule_aliases()
    ids = {rule.id for rule in all_rules()}
    found: set[str] = set()
    for raw in tokens:
        for token in (part.strip().upper() for part in str(raw).split(",")):
            if not token:
                continue
            if token == "ALL":
                found |= ids
            elif token in aliases:
                found.add(aliases[token])
            elif prefixed := {rule_id for rule_id in ids if rule_id.startswith(token)}:
                found |= prefixed
            else:
                raise ConfigurationError(
                    f"{where}: unknown rule {raw!r}; see `expandcontract check --list-rules`"
                )
    return found


def _table(path: Path) -> dict[str, Any]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigurationError(f"{path}: {err}") from err
    table = document.get("tool", {}).get("expandcontract", {})
    if not isinstance(table, dict):
        raise ConfigurationError(f"{path}: [tool.expandcontract] must be a table")
    merged = {k: v for k, v in table.items() if k in ("select", "ignore", "severity")}
    lint = table.get("lint", {})
    if not isinstance(lint, dict):
        raise ConfigurationError(f"{path}: [tool.expandcontract.lint] must be a table")
    merged.update(lint)
    return merged


def _list(value: Any, key: str, path: Path | str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"{path}: {key} must be a list of rule ids or names")
    return value


def load_lint_config(
    start: Path,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
) -> LintConfig:
    """The configuration for a project rooted at (or above) ``start``."""
    path = find_pyproject(start)
    table = _table(path) if path else {}
    where = f"{path} [tool.expandcontract]" if path else "configuration"
    chosen = list(select or []) or _list(table.get("select", ["ALL"]), "select", where)
    enabled = resolve_rules(chosen, "--select" if select else where)
    if not enabled:
        raise ConfigurationError(f"{'--select' if select else where}: select names no rule")
    enabled -= resolve_rules(_list(table.get("ignore", []), "ignore", where), where)
    enabled -= resolve_rules(ignore or [], "--ignore")
    overrides = table.get("severity", {})
    if not isinstance(overrides, dict):
        raise ConfigurationError(f"{where}: severity must be a table of rule = level")
    severities: dict[str, Severity] = {}
    for key, level in overrides.items():
        try:
            severity = Severity(str(level).lower())
        except ValueError as err:
            raise ConfigurationError(
                f"{where}: severity of {key!r} must be 'error' or 'warning', not {level!r}"
            ) from err
        for rule_id in resolve_rules([key], where):
            severities[rule_id] = severity
    return LintConfig(frozenset(enabled), severities, path)
