"""The house rules of the package, checked by reading its source.

Every import between casemgr modules counts, those inside functions and under
``TYPE_CHECKING`` too: an import hidden in a function is still a dependency.
Where the API package stands is checked in tests/api/test_layering.py on the
same graph.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "casemgr"
MAX_LINES = 500

# The floors every feature stands on: they import no feature.
FOUNDATION = {
    "casemgr.clock",
    "casemgr.countries",
    "casemgr.crypto",
    "casemgr.database",
    "casemgr.domain",
    "casemgr.errors",
    "casemgr.events",
    "casemgr.extensions",
    "casemgr.localtime",
    "casemgr.paging",
    "casemgr.pdf",
    "casemgr.privacy",
    "casemgr.settings",
}


@dataclass(frozen=True)
class Module:
    name: str
    path: Path

    @property
    def source(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


def package_modules() -> dict[str, Module]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = Module(".".join(parts), path)
    return found


MODULES = package_modules()


def _owner(name: str) -> str | None:
    """The casemgr module that ``name`` (a module or a name in one) refers to."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: Module) -> Iterator[str]:
    """The casemgr modules ``module`` imports, anywhere in its body."""
    base = module.name if module.is_package else module.name.rpartition(".")[0]
    for node in ast.walk(ast.parse(module.source)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = base.split(".")[: len(base.split(".")) - node.level + 1]
                source = ".".join(parts + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [source] + [f"{source}.{alias.name}" for alias in node.names]
        for target in targets:
            owner = _owner(target)
            # A module's own package counts as itself (its __init__ holds the blueprint).
            if (
                owner
                and owner not in {module.name, "casemgr"}
                and not module.name.startswith(owner + ".")
            ):
                yield owner


GRAPH = {name: set(imports_of(module)) for name, module in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_walker_sees_imports_inside_functions():
    assert "casemgr.outbox.queueing" in GRAPH["casemgr.outbox.subscribers"]
    assert "casemgr.errors" in GRAPH["casemgr.database"]


def test_no_import_cycles():
    assert _cycles(GRAPH) == []


def test_no_module_over_the_size_limit():
    sizes = {name: module.source.count("\n") for name, module in MODULES.items()}
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}


def _in_foundation(name: str) -> bool:
    return any(name == floor or name.startswith(floor + ".") for floor in FOUNDATION)


@pytest.mark.parametrize("name", sorted(name for name in MODULES if _in_foundation(name)))
def test_foundation_imports_no_feature(name):
    features = sorted(target for target in GRAPH[name] if not _in_foundation(target))
    assert features == [], f"{name} imports {features}"


def test_no_service_imports_a_view():
    offenders = {
        (name, target)
        for name, targets in GRAPH.items()
        # A feature's views may sit in several modules (cases/note_views.py).
        if not name.endswith((".views", "_views", ".api", ".cli")) and name != "casemgr"
        for target in targets
        if target.endswith((".views", "_views"))
    }
    assert offenders == set()


def test_now_comes_from_the_clock():
    stray = []
    for name, module in MODULES.items():
        if name == "casemgr.clock":
            continue
        for node in ast.walk(ast.parse(module.source)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"now", "utcnow"}
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "datetime"
            ):
                stray.append(f"{name}:{node.lineno}")
    assert stray == []
