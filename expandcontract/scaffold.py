"""Creating environments and phase revisions."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import Script, ScriptDirectory

from expandcontract.errors import ConfigurationError
from expandcontract.phases import Phase, branch_heads

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
    """Create a revision at the head of ``phase``'s branch (its root when the branch is new)."""
    script = ScriptDirectory.from_config(config)
    heads = branch_heads(script)
    deps = default_dependencies(script, phase) if depends_on is None else depends_on
    config.attributes["expandcontract.phase"] = str(phase)
    if heads[phase]:
        head, label = f"{phase}@head", None
    else:
        head, label = "base", str(phase)
    result = command.revision(
        config,
        message=message,
        autogenerate=autogenerate,
        head=head,
        branch_label=label,
        depends_on=deps or None,  # type: ignore[arg-type]  # alembic takes a list too
    )
    created = result if isinstance(result, list) else [result]
    return [script for script in created if script is not None]


def env_has_hook(script: ScriptDirectory) -> bool:
    env = Path(script.dir) / "env.py"
    return (
        env.is_file()
        and "run_migrations(" in env.read_text(encoding="utf-8")
        and ("expandcontract" in env.read_text(encoding="utf-8"))
    )
