"""The rule registry: one module per rule, ids ``EC`` + three digits.

- ``EC0xx`` the linter's own findings (cannot render, cannot parse, suppressions)
- ``EC1xx`` PostgreSQL safety: locks, rewrites, statements that fail on real data
- ``EC2xx`` phase rules: what each of expand, migrate and contract may do
- ``EC3xx`` history and environment: branches, heads, downgrades, the env.py hook
- ``EC4xx`` release usage, with ``--metadata RELEASE=MODULE:ATTR``

Every module defines ``RULE`` (a :class:`Rule`); its docstring says why the rule exists.
"""

from __future__ import annotations

import importlib
from functools import cache

from expandcontract.lint.rules._base import Hit, LintContext, Rule

_MODULES = (
    "ec001_render_failed",
    "ec002_static_analysis_only",
    "ec003_unparseable_sql",
    "ec004_suppression_without_reason",
    "ec005_unused_suppression",
    "ec006_invalid_revision",
    "ec101_add_not_null_column",
    "ec102_volatile_default",
    "ec103_unsafe_set_not_null",
    "ec104_column_type_change",
    "ec105_rename_column",
    "ec106_rename_table",
    "ec107_drop_column",
    "ec108_drop_table",
    "ec109_drop_schema",
    "ec110_create_index_not_concurrently",
    "ec111_drop_index_not_concurrently",
    "ec112_concurrently_in_transaction",
    "ec113_foreign_key_not_valid",
    "ec114_check_not_valid",
    "ec115_unique_constraint_directly",
    "ec116_table_rewrite",
    "ec117_require_lock_timeout",
    "ec118_transaction_control",
    "ec119_not_null_default_dropped",
    "ec201_destructive_before_contract",
    "ec202_ddl_in_migrate",
    "ec203_addition_in_contract",
    "ec204_data_change_in_expand",
    "ec205_unbatched_dml",
    "ec206_row_by_row_loop",
    "ec207_opaque_sql",
    "ec208_imports_app_models",
    "ec209_broad_where",
    "ec301_env_without_hook",
    "ec302_multiple_phase_heads",
    "ec303_no_phase_branch",
    "ec304_missing_downgrade",
    "ec305_contract_without_expand",
    "ec401_removes_release_usage",
    "ec402_contract_drops_live_usage",
)


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule, ordered by id."""
    rules = [importlib.import_module(f"{__name__}.{name}").RULE for name in _MODULES]
    return tuple(sorted(rules, key=lambda rule: rule.id))


def rule_aliases() -> dict[str, str]:
    """Rule id and name (upper-cased) -> rule id."""
    aliases: dict[str, str] = {}
    for rule in all_rules():
        aliases[rule.id.upper()] = rule.id
        aliases[rule.name.upper()] = rule.id
    return aliases


__all__ = ["Hit", "LintContext", "Rule", "all_rules", "rule_aliases"]
