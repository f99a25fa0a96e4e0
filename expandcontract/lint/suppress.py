"""Inline suppressions: ``# expandcontract: ignore[RULE, ...] reason``.

Rules are named as ``--select`` names them: ids, names, id prefixes (``EC1``) or ``ALL``.
On a line, the comment silences the named rules for the statement it sits in (a multi-line
``op`` call counts as one statement); ``ignore-file[...]`` silences them for the whole
revision. The reason is required: a suppression without one is itself a finding (EC004), and
one that silences nothing is reported too (EC005), so stale suppressions do not pile up.
"""

from __future__ import annotations

import io
import re
import tokenize

from expandcontract.lint.model import Finding, StaticFacts, Suppression

_PATTERN = re.compile(
    r"#\s*expandcontract:\s*ignore(?P<file>-file)?\s*\[(?P<rules>[^\]]*)\]\s*(?P<reason>.*)$",
    re.IGNORECASE,
)


def read_suppressions(source: str, facts: StaticFacts) -> list[Suppression]:
    """Every suppression comment in ``source``."""
    found: list[Suppression] = []
    if "expandcontract" not in source.lower():
        return found  # tokenizing is the slow part; most revisions have no suppression
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return found
    for token in tokens:
        if token.type != tokenize.COMMENT:
            continue
        match = _PATTERN.search(token.string)
        if match is None:
            continue
        rules = tuple(r.strip().upper() for r in match["rules"].split(",") if r.strip())
        reason = match["reason"].strip().lstrip("-:—").strip()
        line = token.start[0]
        if match["file"]:
            first, last = 1, facts.line_count
        else:
            first, last = _span(line, facts.statement_spans)
        found.append(Suppression(rules, reason, line, first, last, bool(match["file"])))
    return found


def _span(line: int, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """The innermost statement covering ``line`` (a comment after code shares its line)."""
    covering = [span for span in spans if span[0] <= line <= span[1]]
    if not covering:
        return line, line
    return min(covering, key=lambda span: span[1] - span[0])


def matches(suppression: Suppression, finding: Finding, aliases: dict[str, str]) -> bool:
    """Does ``suppression`` silence ``finding`` (by rule id or name, at its line)?"""
    if finding.line is None and not suppression.file_level:
        return False
    if not suppression.file_level and not (
        suppression.first_line <= (finding.line or 0) <= suppression.last_line
    ):
        return False
    return any(finding.rule in (rule_ids(token, aliases) or ()) for token in suppression.rules)


def rule_ids(token: str, aliases: dict[str, str]) -> set[str] | None:
    """The rule ids a suppression token names, as ``--select`` reads it: an id, a name, an id
    prefix such as ``EC1``, or ``ALL``. None when it names no rule."""
    token = token.strip().upper()
    ids = set(aliases.values())
    if token == "ALL":
        return ids
    if token in aliases:
        return {aliases[token]}
    prefixed = {rule_id for rule_id in ids if rule_id.startswith(token)}
    return prefixed if token.startswith("EC") and prefixed else None
