"""The wheel ``pip install .`` builds: no packaging warnings, and everything the
app reads at run time inside it (the web folders that sit beside the package
in the repository are copied in by setup.py)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What a build reads: the packaging files, the package and the folders setup.py copies.
SOURCES = ("setup.py", "setup.cfg", "pyproject.toml", "README.md", "config.py")
FOLDERS = ("casemgr", "templates", "static", "migrations")
# pip's own complaint about this machine's configuration, not about the package.
PIP_CONFIG_NOISE = re.compile(r"^WARNING: Location '.*' is ignored")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> tuple[zipfile.ZipFile, str]:
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        shutil.copy2(ROOT / name, source / name)
    for name in FOLDERS:
        shutil.copytree(
            ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), "."],
        cwd=source,
        capture_output=True,
        text=True,
        check=False,
    )
    output = built.stdout + built.stderr
    assert built.returncode == 0, output
    (path,) = out.glob("casemgr-*.whl")
    return zipfile.ZipFile(path), output


@pytest.mark.slow
def test_building_prints_no_warning(wheel):
    _, output = wheel
    lines = [line for line in output.splitlines() if not PIP_CONFIG_NOISE.match(line)]
    assert not [line for line in lines if "warn" in line.lower()], "\n".join(lines)


@pytest.mark.slow
def test_the_wheel_holds_what_the_app_reads(wheel):
    names = set(wheel[0].namelist())
    for needed in (
        "config.py",
        "casemgr/__init__.py",
        "casemgr/templates/base.html",
        "casemgr/static/css/app.css",
        "casemgr/migrations/env.py",
        "casemgr/migrations/alembic.ini",
        "casemgr/migrations/script.py.mako",
        "casemgr/translations/km/LC_MESSAGES/messages.mo",
        "casemgr/pdf/fonts/NotoSansKhmer-Regular.ttf",
        "casemgr/auth/common-passwords.txt",
    ):
        assert needed in names, needed
    versions = {name for name in names if name.startswith("casemgr/migrations/versions/")}
    assert len(versions) == len(list((ROOT / "migrations" / "versions").glob("*.py")))
    templates = {n for n in names if n.startswith("casemgr/templates/")}
    assert len(templates) == len(list((ROOT / "templates").rglob("*.html")))
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "bench/"))]
