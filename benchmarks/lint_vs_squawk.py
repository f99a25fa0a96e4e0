"""`expandcontract check` side by side with squawk, on the same revisions. Prints figures.

Corpus: the scenario projects under tests/lint/scenarios (real Alembic directories). Every
revision's upgrade() is rendered offline to the SQL script Alembic would run (BEGIN/COMMIT
around the revision's transaction, autocommit blocks outside it) and handed to
`squawk --reporter json`; `expandcontract check` lints the project itself. Each squawk
violation is mapped back to the revision and the source line that emitted the statement.

Target: every change squawk flags that is unsafe in that revision's phase, we flag too; and
for what the phase expects (DROP COLUMN in contract, ...) we raise no error.

Usage: python benchmarks/lint_vs_squawk.py [PROJECT ...]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from expandcontract.envpy import calls_hook as env_calls_hook  # noqa: E402
from expandcontract.lint import Finding, lint  # noqa: E402
from expandcontract.lint.engine import analyse_revision  # noqa: E402
from expandcontract.lint.history import read_history  # noqa: E402
from expandcontract.lint.loading import open_script_directory  # noqa: E402
from expandcontract.lint.model import RevisionAnalysis  # noqa: E402
from expandcontract.lint.render import Renderer  # noqa: E402

SCENARIOS = ROOT / "tests" / "lint" / "scenarios"
DEFAULT_PROJECTS = ["sql_rules", "typed_ops", "releases", "history", "unhooked"]
ALL = frozenset({"expand", "migrate", "contract"})
EARLY = frozenset({"expand", "migrate"})

# squawk rule -> (our rules that report the same hazard, phases in which it is unsafe)
UNSAFE: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # squawk reports SET NOT NULL under this name too; EC103 judges it by phase.
    "adding-not-nullable-field": (frozenset({"EC101", "EC103"}), ALL),
    "adding-required-field": (frozenset({"EC101"}), ALL),
    "adding-field-with-default": (frozenset({"EC102"}), ALL),
    "adding-serial-primary-key-field": (frozenset({"EC102", "EC115"}), ALL),
    "adding-foreign-key-constraint": (frozenset({"EC113"}), ALL),
    "constraint-missing-not-valid": (frozenset({"EC113", "EC114", "EC115"}), ALL),
    "adding-primary-key-constraint": (frozenset({"EC115"}), ALL),
    "disallowed-unique-constraint": (frozenset({"EC115"}), ALL),
    "changing-column-type": (frozenset({"EC104"}), ALL),
    "renaming-column": (frozenset({"EC105"}), ALL),
    "renaming-table": (frozenset({"EC106"}), ALL),
    "ban-drop-column": (frozenset({"EC107", "EC401"}), EARLY),
    "ban-drop-table": (frozenset({"EC108"}), EARLY),
    "ban-drop-database": (frozenset({"EC109"}), ALL),
    "ban-drop-schema": (frozenset({"EC109"}), EARLY),
    "ban-drop-constraint": (frozenset({"EC201"}), EARLY),
    "require-concurrent-reindex": (frozenset({"EC116"}), ALL),
    "require-concurrent-index-creation": (frozenset({"EC110"}), ALL),
    "require-concurrent-index-deletion": (frozenset({"EC111"}), ALL),
    "ban-concurrent-index-creation-in-transaction": (frozenset({"EC112"}), ALL),
    "transaction-nesting": (frozenset({"EC118"}), ALL),
    "ban-truncate-cascade": (frozenset({"EC201"}), EARLY),
    # Dropping NOT NULL is additive: the running release keeps working. Expected in expand.
    "ban-drop-not-null": (frozenset(), frozenset()),
}
# Timeouts: the env.py hook sets lock_timeout (with retries) for every statement; only a
# project without the hook is exposed (EC117 reports it once per revision).
TIMEOUTS = {"require-lock-timeout", "require-statement-timeout"}
# Reported once per revision (squawk points at a statement we do not).
PER_REVISION = {"transaction-nesting"}
# Type and style advice for new columns, not a backward-compatibility or locking hazard.
STYLE = {
    "prefer-robust-stmts",
    "prefer-bigint-over-int",
    "prefer-bigint-over-smallint",
    "prefer-identity",
    "prefer-timestamp-tz",
    "prefer-text-field",
    "ban-char-field",
}


def render_project(project: Path, out: Path) -> dict[str, tuple[RevisionAnalysis, dict[int, int]]]:
    """Write one .sql script per revision; file -> (analysis, sql line -> source line)."""
    _, _, files = open_script_directory(project / "alembic.ini")
    history = read_history(files, None)
    renderer = Renderer()
    scripts: dict[str, tuple[RevisionAnalysis, dict[int, int]]] = {}
    for script in history.revisions:
        analysis = analyse_revision(script, history, renderer)
        if not analysis.rendered:
            continue
        lines: list[str] = ["BEGIN;"]
        mapping: dict[int, int] = {}
        in_tx = True
        for statement in analysis.upgrade:
            if statement.in_transaction != in_tx:
                lines.append("BEGIN;" if statement.in_transaction else "COMMIT;")
                in_tx = statement.in_transaction
            mapping[len(lines)] = statement.line or 0
            lines.extend(statement.sql.rstrip().rstrip(";").splitlines())
            lines[-1] += ";"
        if in_tx:
            lines.append("COMMIT;")
        path = out / f"{project.name}__{script.revision}.sql"
        path.write_text("\n".join(lines) + "\n")
        scripts[path.name] = (analysis, mapping)
    return scripts


def statement_line(mapping: dict[int, int], sql_line: int) -> int:
    starts = [start for start in mapping if start <= sql_line]
    return mapping[max(starts)] if starts else 0


def judge(
    rule: str, line: int, analysis: RevisionAnalysis, mine: list[Finding], hooked: bool
) -> str:
    """What one squawk violation means in this revision's phase, and whether we agree."""
    phase = str(analysis.phase)
    if rule in STYLE:
        return "style advice (types, IF NOT EXISTS)"
    if rule in TIMEOUTS:
        if hooked:
            return "timeout set by the env.py hook"
        return "unsafe: we flag it too" if any(f.rule == "EC117" for f in mine) else "MISSED"
    if rule not in UNSAFE:
        return "MISSED (unclassified)"
    equivalents, unsafe_phases = UNSAFE[rule]
    matching = [
        f for f in mine if f.rule in equivalents and (rule in PER_REVISION or f.line == line)
    ]
    if phase not in unsafe_phases:
        if any(f.severity == "error" for f in matching):
            return "ERROR WHERE THE PHASE EXPECTS IT"
        return "expected in this phase: no error"
    if matching:
        return "unsafe: we flag it too"
    tables = {
        change.table
        for statement in analysis.upgrade
        if statement.line == line
        for change in statement.changes
        if change.table
    }
    if tables and all(analysis.is_new_table(table) for table in tables):
        return "safe: table created in the same revision"
    if "EC103" in equivalents and phase == "contract":
        return "safe: a validated CHECK proves NOT NULL"
    for suppression in analysis.suppressions:
        if suppression.first_line <= line <= suppression.last_line and (
            equivalents & set(suppression.rules)
        ):
            return "suppressed in the revision, with a reason"
    return "MISSED"


def main() -> None:
    projects = sys.argv[1:] or DEFAULT_PROJECTS
    squawk = shutil.which("squawk")
    if squawk is None:
        sys.exit("squawk is not installed: pip install squawk-cli")
    version = subprocess.run([squawk, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"{version} vs expandcontract check, on {', '.join(projects)}\n")
    verdicts: Counter[str] = Counter()
    problems: list[str] = []
    ours_total = 0
    ours_only: Counter[str] = Counter()
    header = f"{'revision':<24} {'phase':<9} {'squawk':<62} expandcontract"
    print(header)
    print("-" * len(header))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for name in projects:
            project = SCENARIOS / name
            hooked = env_calls_hook((project / "alembic" / "env.py").read_text())
            expected = project / "expected.toml"
            metadata = (
                tomllib.loads(expected.read_text()).get("metadata", [])
                if expected.is_file()
                else []
            )
            os.chdir(project)
            scripts = render_project(project, out)
            ours = lint("alembic.ini", metadata=metadata).findings
            os.chdir(ROOT)
            ours_total += len(ours)
            report = subprocess.run(
                [squawk, "--reporter", "json", *sorted(scripts)],
                cwd=out,
                capture_output=True,
                text=True,
            )
            by_file: dict[str, list[tuple[str, int]]] = defaultdict(list)
            for v in json.loads(report.stdout or "[]"):
                _, mapping = scripts[Path(v["file"]).name]
                by_file[Path(v["file"]).name].append(
                    (v["rule_name"], statement_line(mapping, v["line"]))
                )
            for file_name, (analysis, _) in sorted(scripts.items()):
                theirs = by_file.get(file_name, [])
                mine = [f for f in ours if f.revision == analysis.revision]
                for rule, line in theirs:
                    verdict = judge(rule, line, analysis, mine, hooked)
                    verdicts[verdict] += 1
                    if verdict.startswith(("MISSED", "ERROR")):
                        problems.append(f"{verdict}: {name}/{analysis.revision}:{line} {rule}")
                covered = {e for rule, _ in theirs for e in UNSAFE.get(rule, (frozenset(), ()))[0]}
                if any(rule in TIMEOUTS for rule, _ in theirs):
                    covered.add("EC117")
                ours_only.update(f.rule for f in mine if f.rule not in covered)
                squawk_text = ", ".join(
                    f"{r}" for r in sorted({r for r, _ in theirs} - STYLE - TIMEOUTS)
                )
                print(
                    f"{analysis.revision:<24} {str(analysis.phase):<9} {squawk_text[:62]:<62} "
                    f"{', '.join(sorted(f.rule for f in mine))}"
                )
            ours_only.update(f.rule for f in ours if f.revision is None)
    print("(squawk column: without its timeout and style rules, counted below)")
    print()
    print(f"squawk violations: {sum(verdicts.values())}")
    for verdict, count in sorted(verdicts.items(), key=lambda item: -item[1]):
        print(f"  {count:>4}  {verdict}")
    only = ", ".join(f"{rule} x{count}" for rule, count in sorted(ours_only.items()))
    print(
        f"expandcontract findings: {ours_total}; with no squawk counterpart: "
        f"{sum(ours_only.values())} ({only})"
    )
    for problem in problems:
        print(f"  {problem}")
    print(
        "target (every phase-unsafe squawk finding flagged, no error where the phase expects "
        f"the change): {'met' if not problems else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
