"""Creating environments and phase revisions."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import Script, ScriptDirectory

from expandcontract.errors import ConfigurationError, HistoryError
from expandcontract.phases import Phase, branch_heads, legacy_heads, validate_history

HOOK_LINE = "expandcontract.run_migrations(context, target_metadata=target_metadata)"


def _template(name: str) -> str:
    return resources.files("expandcontract.templates").joinpath(name).read_text(encoding="utf-8")


def init_environment(directory: str | Path, config_path: str | Path = "alembic.ini") -> Path:
    """Create ``alembic.ini`` and a migration directory whose env.py calls expandcontract."""
    folder = Path(directory)
    ini = Path(config_path)
    if folder.exists() and any(folder.iterdir()):
        raise ConfigurationError(f"{folder} already exists and is not empty")
    if ini.exists():
        raise ConfigurationError(f"{ini} already exists; pass -c to write the config elsewhere")
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text(_template("env.py.txt"), encoding="utf-8")
    (folder / "script.py.mako").write_text(_template("script.py.mako"), encoding="utf-8")
    (folder / "README").write_text(
        "Phase-branched Alembic environment (expand, migrate, contract). "
        "Create revisions with `expandcontract revision --phase PHASE -m MESSAGE`.\n",
        encoding="utf-8",
    )
    try:
        location = folder.resolve().relative_to(ini.resolve().parent)
    except ValueError:
        location = folder.resolve()
    ini.write_text(_template("alembic.ini.txt").format(script_location=location), encoding="utf-8")
    return folder


def default_dependencies(script: ScriptDirectory, phase: Phase) -> list[str]:
    """What a new revision of ``phase`` should depend on across branches."""
    heads = branch_heads(script)
    if phase is Phase.MIGRATE:
        return list(heads[Phase.EXPAND])
    if phase is Phase.CONTRACT:
        return list(heads[Phase.EXPAND]) + list(heads[Phase.MIGRATE])
    return []


def create_revision(
    config: Config,
    phase: Phase,
    message: str,
    depends_on: list[str] | None = None,
    autogenerate: bool = False,
) -> list[Script]:
    """Create a revision at the head of ``phase``'s branch.

    A new branch's first revision sits on the adopted baseline (or at base in a project that
    has no history before expandcontract), so a fresh database runs the legacy history first.
    """
    script = ScriptDirectory.from_config(config)
    validate_history(script)
    heads = branch_heads(script)
    deps = default_dependencies(script, phase) if depends_on is None else depends_on
    config.attributes["expandcontract.phase"] = str(phase)
    splice = False
    if heads[phase]:
        head, label = f"{phase}@head", None
    else:
        head, label, splice = branch_root(script), str(phase), True
    result = command.revision(
        config,
        message=message,
        autogenerate=autogenerate,
        head=head,
        splice=splice,
        # The label is written by _declare: a project's own template may not render it.
        branch_label=None,
        depends_on=deps or None,  # type: ignore[arg-type]  # alembic takes a list too
    )
    created = [script for script in (result if isinstance(result, list) else [result]) if script]
    for made in created:
        _declare(Path(made.path), label, deps)
    return created


def branch_root(script: ScriptDirectory) -> str:
    """Where a new phase branch starts: the baseline head, or base without a baseline."""
    baseline = legacy_heads(script)
    if len(baseline) > 1:
        raise HistoryError(
            f"the baseline has {len(baseline)} heads ({', '.join(baseline)}): merge them "
            f"(`alembic merge -m 'merge heads' {' '.join(baseline)}`) and record the merge "
            "revision as the baseline"
        )
    return baseline[0] if baseline else "base"


def _declare(path: Path, label: str | None, depends_on: list[str]) -> None:
    """Write ``branch_labels`` (new branch roots) and ``depends_on`` into a new revision.

    Projects adopted with their own ``script.py.mako`` may not render these lines; without the
    label the revision would be on no phase branch.
    """
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    wanted: dict[str, tuple[str, ...] | None] = {"branch_labels": (label,) if label else None}
    if depends_on:
        wanted["depends_on"] = tuple(depends_on)
    for name, value in wanted.items():
        if value is None:
            continue
        line = f"{name} = {value!r}\n"
        found = [i for i, text in enumerate(lines) if _assigns(text, name)]
        if found:
            if name == "branch_labels":  # keep the template's annotation, if any
                target = lines[found[0]].split("=")[0].rstrip()
                lines[found[0]] = f"{target} = {value!r}\n"
            continue
        at = next((i + 1 for i, t in enumerate(lines) if _assigns(t, "down_revision")), len(lines))
        lines.insert(at, line)
    path.write_text("".join(lines), encoding="utf-8")


def _assigns(line: str, name: str) -> bool:
    """Is ``line`` a top-level assignment to ``name`` (``name = ...`` or ``name: T = ...``)?"""
    return (
        "=" in line and not line[:1].isspace() and line.split("=")[0].split(":")[0].strip() == name
    )
