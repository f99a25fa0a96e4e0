"""Run the linter: load, render and read every revision, apply the rules, honour suppressions."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from alembic.script import Script

from expandcontract.errors import HistoryError
from expandcontract.lint.config import LintConfig, load_lint_config
from expandcontract.lint.loading import display_path, open_script_directory
from expandcontract.lint.model import Finding, LintResult, RevisionAnalysis, Severity
from expandcontract.lint.render import Renderer, RenderFailed
from expandcontract.lint.rules import Hit, LintContext, Rule, all_rules, rule_aliases
from expandcontract.lint.static import analyse_source, env_calls_hook, static_statements
from expandcontract.lint.suppress import matches, read_suppressions
from expandcontract.phases import phase_of
from expandcontract.usage import Usage, load_metadata, schema_usage


def analyse_revision(script: Script, renderer: Renderer | None = None) -> RevisionAnalysis:
    """Render and read one revision (never raises for problems in the revision itself)."""
    renderer = renderer or Renderer()
    path = Path(script.path)
    source = path.read_text(encoding="utf-8", errors="replace")
    facts = analyse_source(source)
    try:
        phase, phase_error = phase_of(script), None
    except HistoryError as err:
        phase, phase_error = None, str(err)
    analysis = RevisionAnalysis(script, phase, path, facts, phase_error=phase_error)
    try:
        analysis.upgrade = renderer.render(script, phase, "upgrade")
    except RenderFailed as err:
        analysis.rendered = False
        analysis.render_error = str(err)
        analysis.render_error_line = err.line
        analysis.upgrade = static_statements(source)
    try:
        analysis.downgrade = renderer.render(script, phase, "downgrade")
    except RenderFailed:
        analysis.downgrade = []  # downgrades that query the database are common and fine
    analysis.suppressions = read_suppressions(source, facts)
    return analysis


def load_releases(specs: Iterable[str]) -> list[tuple[str, Usage]]:
    """``RELEASE=MODULE:ATTR`` (or just ``MODULE:ATTR``) -> (release, schema usage), in order."""
    releases = []
    for spec in specs:
        name, _, target = spec.rpartition("=")
        target = target.strip()
        releases.append((name.strip() or target, schema_usage(load_metadata(target))))
    return releases


def lint(
    config_path: str | Path = "alembic.ini",
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    metadata: Iterable[str] = (),
    lint_config: LintConfig | None = None,
) -> LintResult:
    """Lint the Alembic script directory configured in ``config_path``.

    Raises :class:`~expandcontract.errors.ConfigurationError` (exit status 2) for bad input
    that stops the whole run; everything about individual revisions becomes a finding.
    """
    saved_path = list(sys.path)  # alembic's prepend_sys_path must not outlive the run
    try:
        return _lint(Path(config_path), select, ignore, metadata, lint_config)
    finally:
        sys.path[:] = saved_path


def _lint(
    path: Path,
    select: Iterable[str] | None,
    ignore: Iterable[str] | None,
    metadata: Iterable[str],
    lint_config: LintConfig | None,
) -> LintResult:
    _, script, revisions = open_script_directory(path)
    root = path.resolve().parent
    config = lint_config or load_lint_config(root, select, ignore)
    releases = load_releases(metadata)
    renderer = Renderer()
    analyses = [analyse_revision(revision, renderer) for revision in revisions]
    ctx = LintContext(
        script=script,
        revisions=analyses,
        env_path=Path(script.dir) / "env.py",
        env_has_hook=_env_has_hook(Path(script.dir) / "env.py"),
        project_root=root,
        releases=releases,
    )
    findings = _run_rules(ctx, config)
    return LintResult(
        findings=sorted(findings, key=lambda f: (f.file, f.line or 0, f.rule)),
        revisions=len(analyses),
        rendered=sum(1 for a in analyses if a.rendered),
        static_only=sum(1 for a in analyses if not a.rendered),
        script_location=display_path(Path(script.dir)),
    )


def _env_has_hook(env: Path) -> bool:
    return env.is_file() and env_calls_hook(env.read_text(encoding="utf-8", errors="replace"))


def _finding(rule: Rule, hit: Hit, config: LintConfig) -> Finding:
    analysis = hit.analysis
    file = analysis.path if analysis is not None else hit.file
    return Finding(
        rule=rule.id,
        name=rule.name,
        severity=config.severity_of(rule),
        message=hit.message,
        revision=analysis.revision if analysis is not None else None,
        phase=str(analysis.phase) if analysis is not None and analysis.phase else None,
        file=display_path(file) if file is not None else "",
        line=hit.line,
        suggestion=rule.alternative,
        sql=hit.sql.strip() if hit.sql else None,
    )


def _run_rules(ctx: LintContext, config: LintConfig) -> list[Finding]:
    rules = {rule.id: rule for rule in all_rules()}
    aliases = rule_aliases()
    kept: list[Finding] = []
    for rule in rules.values():
        if rule.id not in config.enabled or rule.check is None:
            continue
        for hit in rule.check(ctx):
            finding = _finding(rule, hit, config)
            if hit.analysis is not None and _suppressed(hit.analysis, finding, aliases):
                continue
            kept.append(finding)
    for analysis in ctx.revisions:
        kept.extend(_suppression_findings(analysis, rules, aliases, config))
    return kept


def _suppressed(analysis: RevisionAnalysis, finding: Finding, aliases: dict[str, str]) -> bool:
    hit = False
    for suppression in analysis.suppressions:
        if matches(suppression, finding, aliases):
            suppression.used.add(finding.rule)
            hit = True
    return hit


def _suppression_findings(
    analysis: RevisionAnalysis,
    rules: dict[str, Rule],
    aliases: dict[str, str],
    config: LintConfig,
) -> list[Finding]:
    found: list[Finding] = []

    def report(rule_id: str, message: str, line: int) -> None:
        if rule_id in config.enabled:
            hit = Hit(message, analysis, line)
            found.append(_finding(rules[rule_id], hit, config))

    for suppression in analysis.suppressions:
        named = ", ".join(suppression.rules)
        if not suppression.reason:
            report("EC004", f"suppression of {named} gives no reason", suppression.line)
        for token in suppression.rules:
            rule_id = aliases.get(token)
            if rule_id is None:
                report("EC005", f"suppression names unknown rule {token!r}", suppression.line)
            elif rule_id not in suppression.used and rule_id in config.enabled:
                report("EC005", f"suppression of {token} matches no finding", suppression.line)
    return found


__all__ = ["Finding", "LintResult", "Severity", "analyse_revision", "lint"]
