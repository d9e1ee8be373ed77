"""docs/configuration.md names every setting of config.py, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import config

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
ENVIRONMENT_VARIABLES = {"CASEMGR_ENV", "DATABASE_URL"}


def settings() -> set[str]:
    return {
        name
        for cls in config.CONFIGS.values()
        for klass in cls.__mro__
        for name in vars(klass)
        if name.isupper()
    }


def documented() -> set[str]:
    """The names in the first column of the tables."""
    names: set[str] = set()
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", first))
    return names


def test_every_setting_is_documented():
    missing = settings() - documented()
    assert not missing, f"add rows for these to docs/configuration.md: {sorted(missing)}"


def test_every_documented_setting_exists():
    stale = documented() - settings() - ENVIRONMENT_VARIABLES
    assert not stale, f"docs/configuration.md names settings that are gone: {sorted(stale)}"
