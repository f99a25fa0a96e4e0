"""The rule registry: stable ids, one module per rule, a reason and a safe alternative each."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from expandcontract.lint import all_rules
from expandcontract.lint import rules as rules_package


def test_ids_and_names_are_unique_and_well_formed() -> None:
    rules = all_rules()
    assert len({r.id for r in rules}) == len({r.name for r in rules}) == len(rules) >= 35
    for rule in rules:
        assert re.fullmatch(r"EC[0-4]\d\d", rule.id)
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name)


def test_one_module_per_rule_with_why_and_alternative() -> None:
    folder = Path(rules_package.__file__).parent
    modules = sorted(p.stem for p in folder.glob("ec*.py"))
    assert len(modules) == len(all_rules())
    for name in modules:
        module = importlib.import_module(f"{rules_package.__name__}.{name}")
        rule = module.RULE
        assert name.startswith(rule.id.lower() + "_")
        assert module.__doc__.startswith(f"{rule.id} {rule.name}: ")
        assert "Why:" in module.__doc__
        assert rule.why == module.__doc__ and len(rule.alternative) > 20


def test_readme_documents_every_rule() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Linting in CI", 1)[1]
    for rule in all_rules():
        assert f"| `{rule.id}` | `{rule.name}` | {rule.severity} |" in section
