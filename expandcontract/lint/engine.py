"""Run the linter: read the history, render and read every revision, apply the rules.

A run never aborts on one revision. The history comes from the revision files' source (no
import needed); each revision is then imported on its own (missing packages replaced by
stand-ins) and rendered offline, or, when that is impossible, read statically, with a notice
saying why. Only a file that is not valid Python is a failure. Whatever revisions print goes
to stderr: stdout belongs to the requested document.
"""

from __future__ import annotations

import contextlib
import inspect
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from expandcontract.baseline import read_baseline
from expandcontract.envpy import env_has_hook
from expandcontract.lint.config import LintConfig, load_lint_config
from expandcontract.lint.history import History, RevisionFile, read_history
from expandcontract.lint.loader import STAND_IN_MARK, StandIn, load_revision
from expandcontract.lint.loading import LintInputError, display_path, open_script_directory
from expandcontract.lint.model import Finding, LintResult, RevisionAnalysis, Severity
from expandcontract.lint.render import Renderer, RenderFailed, render_statements
from expandcontract.lint.rules import Hit, LintContext, Rule, all_rules, rule_aliases
from expandcontract.lint.static import analyse_source, static_statements
from expandcontract.lint.suppress import matches, read_suppressions, rule_ids
from expandcontract.usage import Usage, load_metadata, schema_usage


def analyse_revision(
    node: RevisionFile,
    history: History,
    renderer: Renderer | None = None,
    *,
    legacy: bool = False,
) -> RevisionAnalysis:
    """Render and read one revision (never raises for problems in the revision itself)."""
    renderer = renderer or Renderer()
    facts = analyse_source(node.source, node.tree)
    phase = history.phases.get(node.revision)
    analysis = RevisionAnalysis(
        node,
        phase,
        node.path,
        facts,
        legacy=legacy,
        phase_error=history.phase_errors.get(node.revision),
    )
    loaded = load_revision(node.path)
    analysis.module = loaded.module
    analysis.stood_in_arguments = _env_arguments(loaded.module)
    analysis.missing_modules = loaded.missing
    missing = ", ".join(loaded.missing)
    if loaded.module is None:
        analysis.static_reason = f"it cannot be imported here ({loaded.error})"
        analysis.render_error_line = loaded.error_line
    else:
        try:
            analysis.upgrade = render_statements(
                renderer, node.revision, node.path, loaded.module, phase, "upgrade"
            )
        except RenderFailed as err:
            analysis.render_error_line = err.line
            if err.needs_arguments:
                analysis.static_reason = str(err)
            elif err.stood_in_arguments:
                analysis.static_reason = (
                    "its upgrade() takes arguments that only the project's env.py supplies "
                    f"(rendering with stand-ins for them failed: {err})"
                )
            elif facts.get_bind_lines:
                analysis.static_reason = f"it queries the database through op.get_bind() ({err})"
            elif loaded.missing:
                analysis.static_reason = (
                    f"it needs {missing}, not installed here (rendering with stand-ins "
                    f"failed: {err})"
                )
            else:
                analysis.render_error = str(err)
        if any(STAND_IN_MARK in s.sql for s in analysis.upgrade):
            # a stand-in's value reached the SQL (a length, a SQL string from the package)
            analysis.static_reason = (
                f"its SQL needs values from {missing}, not installed here"
                if loaded.missing
                else "its SQL needs what the project's env.py passes to upgrade()"
            )
        if analysis.static_reason is None and analysis.render_error is None:
            try:
                analysis.downgrade = render_statements(
                    renderer, node.revision, node.path, loaded.module, phase, "downgrade"
                )
            except RenderFailed:
                analysis.downgrade = []  # downgrades that query the database are common and fine
    if analysis.static_reason is not None or analysis.render_error is not None:
        analysis.rendered = False
        analysis.upgrade = static_statements(node.source, node.tree)
    analysis.suppressions = read_suppressions(node.source, facts)
    return analysis


def _env_arguments(module: ModuleType | None) -> list[str]:
    """upgrade()'s parameters other than ``op``: what only the project's env.py passes in."""
    function = getattr(module, "upgrade", None)
    try:
        names = list(inspect.signature(function).parameters) if callable(function) else []
    except (TypeError, ValueError):
        return []
    return [name for name in names if name not in ("op", "operations", "ops")]


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
    include_legacy: bool = False,
) -> LintResult:
    """Lint the Alembic script directory configured in ``config_path``.

    Legacy revisions (at or before the baseline ``expandcontract adopt`` recorded) are skipped
    unless ``include_legacy``. Raises :class:`~expandcontract.errors.ConfigurationError`
    (exit status 2) for bad input that stops the whole run; everything about individual
    revisions becomes a finding.
    """
    saved_path = list(sys.path)  # alembic's prepend_sys_path must not outlive the run
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return _lint(Path(config_path), select, ignore, metadata, lint_config, include_legacy)
    finally:
        sys.path[:] = saved_path


def _lint(
    path: Path,
    select: Iterable[str] | None,
    ignore: Iterable[str] | None,
    metadata: Iterable[str],
    lint_config: LintConfig | None,
    include_legacy: bool,
) -> LintResult:
    config, script, files = open_script_directory(path)
    root = path.resolve().parent
    lint_settings = lint_config or load_lint_config(root, select, ignore)
    releases = load_releases(metadata)
    baseline = read_baseline(script.dir)
    history = read_history(files, baseline.heads if baseline else None)
    check_chain(history)
    # A project that recorded no baseline and has no phase branch never adopted: its whole
    # history is legacy, and one finding says to run `expandcontract adopt`.
    adopted = baseline is not None or any(history.phases.values())
    legacy = history.legacy if adopted else frozenset(history.by_id)
    renderer = Renderer(config, script, argument_stand_in=StandIn)
    analyses = [
        analyse_revision(node, history, renderer, legacy=node.revision in legacy)
        for node in history.revisions
        if include_legacy or node.revision not in legacy
    ]
    env_path = Path(script.dir) / "env.py"
    ctx = LintContext(
        history=history,
        revisions=analyses,
        env_path=env_path,
        env_has_hook=env_has_hook(env_path),
        project_root=root,
        releases=releases,
        adopted=adopted,
    )
    findings = _run_rules(ctx, lint_settings)
    return LintResult(
        findings=sorted(findings, key=lambda f: (f.file, f.line or 0, f.rule)),
        revisions=len(analyses),
        rendered=sum(1 for a in analyses if a.rendered),
        static_only=sum(1 for a in analyses if not a.rendered),
        script_location=display_path(Path(script.dir)),
        failed=len(history.invalid),
        legacy_skipped=len(history.revisions) - len(analyses),
        baseline=baseline.heads if baseline else None,
        stand_ins=_stand_ins(analyses),
        stood_in_arguments=_counts(name for a in analyses for name in a.stood_in_arguments),
    )


def _stand_ins(analyses: list[RevisionAnalysis]) -> dict[str, int]:
    """Missing module -> how many revisions needed a stand-in for it."""
    return _counts(name for analysis in analyses for name in analysis.missing_modules)


def _counts(names: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


def check_chain(history: History) -> None:
    """A ``down_revision``/``depends_on`` naming a revision that does not exist stops the run:
    Alembic itself cannot load such a history."""
    if history.missing:
        node, missing = history.missing[0]
        field = "down_revision" if missing in node.down_revisions else "depends_on"
        raise LintInputError(
            f"broken revision chain: revision {missing!r} is referenced here but does not exist",
            str(node.path),
            node.lines.get(field),
        )


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
            named_ids = rule_ids(token, aliases)
            if named_ids is None:
                report("EC005", f"suppression names unknown rule {token!r}", suppression.line)
            elif not (named_ids & suppression.used) and named_ids & config.enabled:
                report("EC005", f"suppression of {token} matches no finding", suppression.line)
    return found


__all__ = ["Finding", "LintResult", "Severity", "analyse_revision", "lint"]
