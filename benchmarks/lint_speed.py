"""How fast is `expandcontract check`? Prints figures; not a test.

1. Generates a 500-revision phase-branched history (expand, migrate and contract revisions with
   typical operations and raw SQL) in a temporary directory and runs `expandcontract check` on
   it as a user would (a fresh process), reporting wall time and milliseconds per revision.
   Target: <= 5 s.
2. Measures `expandcontract --help` start-up. Target: <= 0.5 s.

Usage: python benchmarks/lint_speed.py [--revisions 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "import sys; from expandcontract.cli import main; sys.exit(main())"]

EXPAND_BODIES = [
    'op.add_column("t{n}", sa.Column("c{i}", sa.Text))',
    "with op.get_context().autocommit_block():\n"
    '        op.create_index("ix_{i}", "t{n}", ["c"], postgresql_concurrently=True)',
    'op.create_table("new_{i}", sa.Column("id", sa.BigInteger, primary_key=True), '
    'sa.Column("name", sa.Text))',
    'op.execute("ALTER TABLE t{n} ADD CONSTRAINT ck_{i} CHECK (c IS NOT NULL) NOT VALID")',
]
MIGRATE_BODIES = [
    'op.execute("UPDATE t{n} SET c = upper(c) WHERE id BETWEEN 1 AND 1000")',
    'op.execute("ALTER TABLE t{n} VALIDATE CONSTRAINT ck_{i}")',
]
CONTRACT_BODIES = [
    'op.drop_column("t{n}", "old_{i}")',
    'op.alter_column("t{n}", "c", nullable=False)',
    'op.drop_table("legacy_{i}")',
]

TEMPLATE = '''"""{rev}"""
import sqlalchemy as sa
from alembic import op

revision = {rev!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {depends!r}


def upgrade():
    {body}


def downgrade():
    op.execute("SELECT 1")
'''


def generate(folder: Path, count: int) -> None:
    """A history of ``count`` revisions: 60 % expand, 20 % migrate, 20 % contract."""
    versions = folder / "alembic" / "versions"
    versions.mkdir(parents=True)
    (folder / "alembic.ini").write_text(
        "[alembic]\nscript_location = alembic\nprepend_sys_path = .\npath_separator = os\n"
    )
    (folder / "pyproject.toml").write_text("[tool.expandcontract]\n")
    (folder / "alembic" / "env.py").write_text(
        "from alembic import context\nimport expandcontract\n\n"
        "expandcontract.run_migrations(context, target_metadata=None)\n"
    )
    last: dict[str, str | None] = {"expand": None, "migrate": None, "contract": None}
    for i in range(count):
        phase = "expand" if i % 5 < 3 else ("migrate" if i % 5 == 3 else "contract")
        bodies = {"expand": EXPAND_BODIES, "migrate": MIGRATE_BODIES}.get(phase, CONTRACT_BODIES)
        rev = f"{phase[0]}{i:04d}"
        depends = None
        if phase == "migrate":
            depends = last["expand"]
        elif phase == "contract":
            depends = last["migrate"] or last["expand"]
        text = TEMPLATE.format(
            rev=rev,
            down=last[phase],
            labels=None if last[phase] else (phase,),
            depends=depends,
            body=bodies[i % len(bodies)].format(i=i, n=i % 7),
        )
        (versions / f"{rev}.py").write_text(text)
        last[phase] = rev


def timed(args: list[str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall time and CPU time (user + system) of one fresh process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} CPUs, load average {load:.1f} (other work skews timings)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate(folder, options.revisions)
        walls, cpus = [], []
        for _ in range(options.repeat):
            wall, cpu, done = timed([*CLI, "check", "--format", "json"], folder)
            if done.returncode not in (0, 1):
                sys.exit(f"check failed ({done.returncode}): {done.stderr}")
            walls.append(wall)
            cpus.append(cpu)
        summary = json.loads(done.stdout)["summary"]
        best = min(walls)
        print(
            f"check over {summary['revisions']} revisions "
            f"({summary['rendered']} rendered, {summary['findings']} findings), fresh process: "
            f"wall best {best:.2f} s / median {statistics.median(walls):.2f} s "
            f"= {1000 * best / options.revisions:.1f} ms/revision; "
            f"CPU {min(cpus):.2f} s = {1000 * min(cpus) / options.revisions:.1f} ms/revision "
            f"(target <= 5 s wall: {'met' if best <= 5 else 'MISSED'})"
        )
        sys.path.insert(0, str(ROOT))
        os.chdir(folder)
        from expandcontract.lint import lint

        start, cpu_start = time.perf_counter(), time.process_time()
        lint("alembic.ini")
        inner, inner_cpu = time.perf_counter() - start, time.process_time() - cpu_start
        print(
            f"  linting alone, in-process (imports excluded): wall {inner:.2f} s, "
            f"CPU {inner_cpu:.2f} s = {1000 * inner_cpu / options.revisions:.1f} ms/revision"
        )
    helps = [timed([*CLI, "--help"], ROOT) for _ in range(max(5, options.repeat))]
    bare = [timed([sys.executable, "-c", "pass"], ROOT) for _ in range(3)]
    best_help = min(wall for wall, _, _ in helps)
    print(
        f"expandcontract --help: wall best {best_help:.3f} s / median "
        f"{statistics.median(wall for wall, _, _ in helps):.3f} s, CPU "
        f"{min(cpu for _, cpu, _ in helps):.3f} s (bare `python -c pass`: wall "
        f"{min(w for w, _, _ in bare):.3f} s) (target <= 0.5 s: "
        f"{'met' if best_help <= 0.5 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
