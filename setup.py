"""Build hook: the reference project travels inside the wheel as data, never as a package.

The rehearsal runs the Flask reference app (``app/``) and its migrations (``alembic/``,
``alembic.ini``). A wheel that installed ``app`` as a top-level package would shadow the
user's own ``app``, so the wheel carries them under ``expandcontract/_reference/`` instead;
the rehearsal puts that folder on the path of its own processes only. An editable install
needs no copy: the rehearsal finds them in the checkout.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
REFERENCE = ("app", "alembic", "alembic.ini")
SKIP = shutil.ignore_patterns("__pycache__", "*.py[cod]")


class BuildWithReference(build_py):
    """``build_py``, plus a copy of the reference project under ``expandcontract/_reference``."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "expandcontract" / "_reference"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for name in REFERENCE:
            source = ROOT / name
            if not source.exists():
                raise SystemExit(f"cannot build the wheel: {source} (the reference project) is missing")
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=SKIP)
            else:
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildWithReference})
