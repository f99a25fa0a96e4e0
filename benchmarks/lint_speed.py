"""How fast is `expandcontract check`? Prints figures; not a test.

1. Generates a 500-revision phase-branched history (expand, migrate and contract revisions with
   typical operations and raw SQL) in a temporary directory and runs `expandcontract check` on
   it as a user would (a fresh process), reporting wall time and milliseconds per revision.
   Target: <= 5 s.
2. A realistic history (``--realistic 240`` revisions): the project's own package imported
   at module level (models, a custom column type), a package that is not installed (stand-ins),
   real DDL (wide tables, foreign keys, indexes, type changes), revisions that print, query
   through ``op.get_bind()`` or branch on the dialect, half of it legacy behind a baseline.
   Reports total wall time and peak memory (max RSS) of ``check --include-legacy`` in a fresh
   process, and the revisions rendered / read statically.
3. Measures `expandcontract --help` start-up. Target: <= 0.5 s.

Usage: python benchmarks/lint_speed.py [--revisions 500] [--realistic 240] [--repeat 3]
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


PACKAGE = {
    "acme/__init__.py": "",
    "acme/types.py": (
        "import sqlalchemy as sa\n\n\n"
        "class Money(sa.types.TypeDecorator):\n"
        "    impl = sa.Numeric(12, 2)\n"
        "    cache_ok = True\n"
    ),
    "acme/models.py": (
        "import sqlalchemy as sa\n\nmetadata = sa.MetaData()\n"
        "orders = sa.Table('orders', metadata, sa.Column('id', sa.BigInteger, primary_key=True))\n"
    ),
}

REALISTIC_BODIES = [
    # a wide table with foreign keys and an index, using the project's custom type
    'op.create_table("t{i}", sa.Column("id", sa.BigInteger, primary_key=True), '
    'sa.Column("owner_id", sa.BigInteger, sa.ForeignKey("orders.id"), nullable=False), '
    '*[sa.Column(f"c{{k}}", sa.String(80)) for k in range(12)], '
    'sa.Column("total", Money(), nullable=False, server_default="0"), '
    'sa.Column("created", sa.DateTime(timezone=True), server_default=sa.func.now()))\n'
    '    op.create_index("ix_t{i}_owner", "t{i}", ["owner_id"])',
    'op.add_column("orders", sa.Column("note_{i}", sa.Text))\n'
    '    op.alter_column("orders", "ref", type_=sa.String(120), existing_type=sa.String(80))',
    'print("migrating {i}")\n'
    '    if op.get_context().dialect.name == "mysql":\n'
    '        op.execute("ALTER TABLE orders ENGINE=InnoDB")\n'
    "    op.execute(\"UPDATE orders SET status = 'open' WHERE status IS NULL AND id < 100\")",
    "bind = op.get_bind()\n"
    '    for row in bind.execute(sa.text("SELECT id FROM orders")).fetchall():\n'
    '        bind.execute(sa.text("UPDATE orders SET n = :n WHERE id = :id"), {{"n": 1, "id": row.id}})',
    'op.drop_column("orders", "old_{i}")\n'
    '    op.execute("ALTER TABLE orders ALTER COLUMN id TYPE bigint")',
]

REALISTIC_TEMPLATE = '''"""{rev}"""
import sqlalchemy as sa
from alembic import context, op

from acme.models import metadata
from acme.types import Money
{extra_import}
revision = {rev!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = None


def upgrade():
    {body}


def downgrade():
    pass
'''


def generate_realistic(folder: Path, count: int) -> None:
    """``count`` revisions, the first half legacy (linear, unphased), then an expand branch."""
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
    for name, text in PACKAGE.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).write_text(text)
    legacy = count // 2
    down = None
    for i in range(count):
        rev = f"r{i:04d}"
        text = REALISTIC_TEMPLATE.format(
            rev=rev,
            down=down,
            labels=("expand",) if i == legacy else None,
            extra_import="from billing.client import Client  # not installed\n"
            if i % 3 == 0
            else "",
            body=REALISTIC_BODIES[i % len(REALISTIC_BODIES)].format(i=i),
        )
        (versions / f"{rev}.py").write_text(text)
        down = rev
    (folder / "alembic" / "expandcontract.toml").write_text(
        f'[baseline]\nheads = ["r{legacy - 1:04d}"]\n'
    )


MEASURED = [
    sys.executable,
    "-c",
    "import resource, sys\n"
    "from expandcontract.cli import main\n"
    "try:\n    main()\nexcept SystemExit as done:\n    code = done.code\n"
    "print('maxrss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(code)\n",
]


def realistic(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate_realistic(folder, count)
        wall, cpu, done = timed(
            [*MEASURED, "check", "--format", "json", "--include-legacy"], folder
        )
        if done.returncode not in (0, 1):
            sys.exit(f"check failed ({done.returncode}): {done.stderr[-2000:]}")
        summary = json.loads(done.stdout)["summary"]
        rss = next(
            int(line.split()[1])
            for line in done.stderr.splitlines()
            if line.startswith("maxrss_kb")
        )
        print(
            f"realistic history, {count} revisions ({summary['revisions']} checked with "
            f"--include-legacy: {summary['rendered']} rendered, {summary['static_only']} "
            f"statically, {summary['failed']} failed; stand-ins {summary['stand_ins']}; "
            f"{summary['errors']} errors, {summary['warnings']} warnings), fresh process: "
            f"wall {wall:.2f} s, CPU {cpu:.2f} s, peak memory {rss / 1024:.0f} MiB"
        )
        wall, cpu, done = timed([*CLI, "check", "--format", "json"], folder)
        summary = json.loads(done.stdout)["summary"]
        print(
            f"  the same with the baseline honoured: {summary['revisions']} checked, "
            f"{summary['legacy_skipped']} legacy skipped, wall {wall:.2f} s"
        )


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
    parser.add_argument("--realistic", type=int, default=240)
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
    realistic(options.realistic)
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
