"""``expandcontract adopt``: take over an existing Alembic project.

It records the current head revision(s) as the baseline (:mod:`expandcontract.baseline`) and
adds the hook to env.py (:mod:`expandcontract.envpy`). It needs no database and imports no
revision: revision files are read as source, so a project whose migrations import packages
that are not installed here is adopted all the same. It changes nothing unless everything
checks out.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from alembic.script import ScriptDirectory

from expandcontract.baseline import BASELINE_FILE, read_baseline, write_baseline
from expandcontract.envpy import NotEditable, add_hook, calls_hook, manual_instructions
from expandcontract.errors import ConfigurationError
from expandcontract.phases import PHASE_ORDER
from expandcontract.runtime.connect import normalise_url
from expandcontract.runtime.dialects import POSTGRESQL, dialect_of, require_supported, sync_url

_FIELDS = ("revision", "down_revision", "branch_labels", "depends_on")


class AlreadyAdopted(ConfigurationError):
    """The project already has a baseline, or was scaffolded by ``expandcontract init``."""


@dataclass(frozen=True)
class RevisionFile:
    """What a revision file declares, read without importing it."""

    path: Path
    revision: str
    down_revisions: tuple[str, ...]
    branch_labels: tuple[str, ...]


@dataclass
class Adoption:
    """What ``adopt`` did."""

    script_dir: Path
    baseline: Path
    heads: list[str]
    revisions: int
    env: Path
    env_edited: bool
    notes: list[str] = field(default_factory=list)


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def read_revision_file(path: Path) -> RevisionFile | None:
    """The identifiers a revision file assigns at top level (None for a file that is no revision)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError) as err:
        raise ConfigurationError(f"{path}: cannot read it as Python: {err}") from err
    found: dict[str, Any] = {}
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        if isinstance(target, ast.Name) and target.id in _FIELDS and value is not None:
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError as err:
                raise ConfigurationError(
                    f"{path}: {target.id} is not a literal value, so adopt cannot read it"
                ) from err
    if not isinstance(found.get("revision"), str):
        return None
    return RevisionFile(
        path,
        found["revision"],
        _tuple(found.get("down_revision")),
        _tuple(found.get("branch_labels")),
    )


def read_history(script: ScriptDirectory) -> dict[str, RevisionFile]:
    """Every revision file in the version locations, by revision id."""
    revisions: dict[str, RevisionFile] = {}
    pattern = "**/*.py" if script.recursive_version_locations else "*.py"
    for location in script._version_locations:
        for path in sorted(Path(location).glob(pattern)):
            revision = read_revision_file(path)
            if revision is None:
                continue
            if revision.revision in revisions:
                raise ConfigurationError(
                    f"revision {revision.revision} is declared twice: "
                    f"{revisions[revision.revision].path} and {path}"
                )
            revisions[revision.revision] = revision
    return revisions


def history_heads(revisions: dict[str, RevisionFile]) -> list[str]:
    parents = {down for rev in revisions.values() for down in rev.down_revisions}
    for rev in revisions.values():
        for down in rev.down_revisions:
            if down not in revisions:
                raise ConfigurationError(
                    f"{rev.path}: down_revision {down!r} is not a revision of this project"
                )
    return sorted(rev_id for rev_id in revisions if rev_id not in parents)


def adopt(config: Config) -> Adoption:
    """Record the baseline and add the hook; raises before changing anything on bad input."""
    try:
        script = ScriptDirectory.from_config(config)
    except Exception as err:  # alembic raises CommandError / util errors for a bad location
        raise ConfigurationError(f"cannot load the migration scripts: {err}") from err
    script_dir = Path(script.dir)
    existing = read_baseline(script_dir)
    if existing is not None:
        raise AlreadyAdopted(
            f"{script_dir} is already adopted (baseline {', '.join(existing.heads) or 'empty'} "
            f"in {existing.path}); nothing changed"
        )
    revisions = read_history(script)
    labelled = [
        rev
        for rev in revisions.values()
        if any(phase.value in rev.branch_labels for phase in PHASE_ORDER)
    ]
    if labelled:
        raise AlreadyAdopted(
            f"{script_dir} already has phase branches ({labelled[0].path.name} declares "
            f"branch_labels {labelled[0].branch_labels!r}): it was set up by `expandcontract "
            "init` or by hand, so there is nothing to adopt"
        )
    heads = history_heads(revisions)
    if len(heads) > 1:
        raise ConfigurationError(
            f"the history has {len(heads)} heads ({', '.join(heads)}): merge them first "
            f"(`alembic merge -m 'merge heads' {' '.join(heads)}`), then run adopt again"
        )
    env = script_dir / "env.py"
    if not env.is_file():
        raise ConfigurationError(f"{env} does not exist: is {script_dir} an Alembic directory?")
    text = env.read_text(encoding="utf-8")
    hooked = calls_hook(text)
    if hooked and not revisions:
        raise AlreadyAdopted(
            f"{env} already calls expandcontract and there is no history yet: the project was "
            "set up by `expandcontract init`; nothing to adopt"
        )
    notes = _check_database(config)
    new_text = text
    if not hooked:
        try:
            new_text = add_hook(text)
        except NotEditable as err:
            raise NotEditable(manual_instructions(env, str(err))) from err
    mako = script_dir / "script.py.mako"
    if mako.is_file() and "branch_labels" not in mako.read_text(encoding="utf-8"):
        notes.append(
            f"{mako.name} has no branch_labels line: `expandcontract revision` writes the phase "
            "label into each phase branch's first revision itself"
        )
    # Everything checked: now write, env.py first (the baseline marks the job done).
    if new_text != text:
        env.write_text(new_text, encoding="utf-8")
    baseline = write_baseline(script_dir, heads)
    return Adoption(script_dir, baseline, heads, len(revisions), env, new_text != text, notes)


def _check_database(config: Config) -> list[str]:
    """The dialect and reachability of a URL adopt can see without env.py (none is needed).

    An unsupported database is refused; an unreachable one is only a note.
    """
    candidates = [
        config.attributes.get("expandcontract.database_url"),
        os.environ.get("DATABASE_URL"),
        config.get_main_option("sqlalchemy.url"),
    ]
    url = next((u for u in candidates if u and "driver://" not in u), None)
    if url is None:
        return []
    dialect = dialect_of(url)
    require_supported(dialect)
    if dialect != POSTGRESQL:
        return []  # opening a SQLite file would create it: adopt changes nothing
    engine = sa.create_engine(
        normalise_url(sync_url(url)[0]),
        poolclass=sa.pool.NullPool,
        connect_args={"connect_timeout": 3},
    )
    try:
        with engine.connect():
            pass
    except Exception as err:  # any driver error: adopt itself needs no database
        first = str(getattr(err, "orig", err) or err).strip().splitlines()
        return [f"the database is not reachable now ({first[0] if first else type(err).__name__})"]
    finally:
        engine.dispose()
    return [f"database reachable ({dialect})"]


__all__ = ["BASELINE_FILE", "Adoption", "AlreadyAdopted", "adopt", "read_history"]
