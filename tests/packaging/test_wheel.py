"""The built wheel, installed as a user installs it: only ``expandcontract``, and the rehearsal
runs from an empty directory.

The wheel is built once per session, offline (``--no-build-isolation``), from a copy of the
sources, into a fresh virtualenv that sees the machine's dependencies but not this checkout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "alembic.ini")
TREES = ("expandcontract", "app", "alembic")


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        shutil.copy2(ROOT / name, source / name)
    for name in TREES:
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(source)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    (built,) = dist.glob("expandcontract-*.whl")
    return built


@pytest.fixture(scope="session")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed; returns its bin folder."""
    home = tmp_path_factory.mktemp("venv")
    base = Path(getattr(sys, "_base_executable", sys.executable))
    subprocess.run([str(base), "-m", "venv", str(home)], check=True, capture_output=True)
    bin_dir = home / "bin"
    # The dependencies come from the site-packages this test runs with, the machine's and the
    # virtualenv's (no network in tests; the declared ones such as flask-session may live in
    # either), added as plain path entries: the .pth hooks in there (editable installs of any
    # checkout, with their ``app``) are not run, so only the wheel provides expandcontract.
    site = subprocess.run(
        [str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    dependencies = {p for p in sys.path if p.endswith("site-packages")}
    dependencies -= {site}
    (Path(site) / "machine-dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n")
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q",
         str(wheel)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return bin_dir


def _clean_env(bin_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def test_the_wheel_installs_only_expandcontract(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"expandcontract", wheel.name.split("-py3")[0] + ".dist-info"}, top
    # The rehearsal's reference project travels as data inside the package.
    assert "expandcontract/_reference/app/__init__.py" in names
    assert "expandcontract/_reference/alembic/env.py" in names
    assert "expandcontract/_reference/alembic/versions/0002_split_address.py" in names


def test_no_package_called_app_is_importable(installed: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(installed / "python"), "-c", "import app"],
        cwd=tmp_path, env=_clean_env(installed), capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0
    assert "No module named 'app'" in result.stderr
    where = subprocess.run(
        [str(installed / "python"), "-c", "import expandcontract; print(expandcontract.__file__)"],
        cwd=tmp_path, env=_clean_env(installed), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(installed.parent)), where


def test_the_rehearsal_runs_from_an_empty_directory(installed: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "empty"
    workdir.mkdir()
    result = subprocess.run(
        [str(installed / "expandcontract"), "rehearse", "--rows", "200", "--rps", "20",
         "--steps", "100", "--step-seconds", "0.3", "--soak", "1s"],
        cwd=workdir, env=_clean_env(installed), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    report = (workdir / "rehearsal-report.html").read_text(encoding="utf-8")
    match = re.search(r'id="rehearsal-data">\n(.*?)\n</script>', report, re.DOTALL)
    assert match, result.stdout + result.stderr
    data = json.loads(match.group(1))
    # The whole story ran from the wheel with no failure. A starved machine makes the verdict
    # "inconclusive" (exit 1), never a pass it cannot prove.
    assert [p["phase"] for p in data["phases"]][-1] == "blue retired"
    assert data["totals"]["failed"] == 0 and data["consistency"]["mismatch_count"] == 0
    assert (result.returncode, data["verdict"]) in ((0, "zero-downtime"), (1, "inconclusive")), (
        result.stdout + result.stderr
    )
    # The contract refused for the quarantined rows and the installed CLI resolved them.
    assert data["quarantine"]["accepted"] >= 3, data["quarantine"]
    assert data["quarantine"]["commands"][0].startswith("expandcontract quarantine list")
    # The release processes ran the packaged reference app, not this checkout's.
    assert str(ROOT) not in result.stdout + result.stderr


def test_the_public_api_type_checks_from_this_install(tmp_path: Path) -> None:
    """An editable (or any) install is visible to mypy from another project."""
    user = tmp_path / "user_project.py"
    user.write_text(
        "from expandcontract.api import contract_allowed\n"
        "from expandcontract.phases import Phase\n"
        "phase: Phase = Phase.EXPAND\n"
        "allowed = contract_allowed\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), str(user)],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
