"""casemgr/pdf is below every feature: the letters and the statistics report both
build on it, so it imports nothing of casemgr but itself."""

from __future__ import annotations

import ast
from pathlib import Path

import casemgr.pdf

PDF_PACKAGE = Path(casemgr.pdf.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_pdf_package_imports_no_feature() -> None:
    modules = sorted(PDF_PACKAGE.glob("*.py"))
    assert modules
    for path in modules:
        ours = {name for name in imported_modules(path) if name.split(".")[0] == "casemgr"}
        assert all(name.startswith("casemgr.pdf") for name in ours), (path.name, ours)


def test_fonts_ship_with_their_licence() -> None:
    fonts = PDF_PACKAGE / "fonts"
    assert (fonts / "OFL.txt").is_file()
    assert {path.name for path in fonts.glob("*.ttf")} >= {
        "NotoSans-Regular.ttf",
        "NotoSansKhmer-Regular.ttf",
    }
