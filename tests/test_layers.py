"""The package's floor plan: folders by layer, imports that run only down, no cycle,
dulwich only in storage, every module saying what it owns. Read from the installed
package's source, as a newcomer reads the file list."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import gitflywheel

PACKAGE = Path(gitflywheel.__file__).parent

# Lowest first. A module imports only modules of its own layer or lower ones.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "version"),
    ("jsontext", "escape", "figures", "localfiles"),  # small standalone libraries
    ("storage",),
    ("session",),
    ("queries",),
    ("rendering",),
    ("pipelines",),
    ("recording",),
    ("capturing",),  # sessions from broker and chat exports
    ("verification",),
    ("publishing",),
    ("remotes",),
    ("hooks",),
    ("api",),
    ("console",),  # the CLI's messages and progress line
    ("cli",),
    ("__main__",),
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
RANK["__init__"] = RANK["api"]  # the package's door loads the API lazily
DULWICH_ALLOWED = ("storage.", "hooks.capture")  # capture reads work repositories


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts.pop()
        yield ".".join(parts), path


def imports(name: str, path: Path, typing_too: bool = True) -> Iterator[tuple[str, int]]:
    """(imported module within the package, or 'dulwich', line) for every import; with
    `typing_too` false, not those under `if TYPE_CHECKING:`, which never run."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    if name == "__init__":
        package = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for statement in block.body
        for inner in ast.walk(statement)
    }
    for node in ast.walk(tree):
        if not typing_too and id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "dulwich":
                    yield "dulwich", node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if (node.module or "").split(".")[0] == "dulwich":
                    yield "dulwich", node.lineno
                continue
            base = package[: len(package) - (node.level - 1)]
            if node.module:
                yield ".".join([*base, node.module]), node.lineno
            else:
                for alias in node.names:
                    yield ".".join([*base, alias.name]), node.lineno


def layer(module: str) -> int:
    return RANK[module.split(".")[0]]


def resolve(target: str, known: set[str]) -> str:
    """The module an import names: `x.y.name` of a module `x.y` is that module."""
    while target not in known and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def test_every_top_level_name_has_a_layer_and_the_top_level_stays_small() -> None:
    tops = {p.stem for p in PACKAGE.glob("*.py")} | {
        p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()
    }
    assert tops - {"__init__"} <= set(RANK), tops - set(RANK)
    assert len([p for p in PACKAGE.glob("*.py")]) <= 14


def test_imports_run_only_down_and_dulwich_stays_in_storage() -> None:
    found = dict(modules())
    known = set(found)
    wrong = []
    for name, path in found.items():
        for target, line in imports(name, path):
            where = f"{path.relative_to(PACKAGE)}:{line}"
            if target == "dulwich":
                if not name.startswith(DULWICH_ALLOWED):
                    wrong.append(f"{where}: imports dulwich")
                continue
            if layer(resolve(target, known)) > layer(name):
                wrong.append(f"{where}: {name} imports {target}, a higher layer")
    assert wrong == []


def test_no_import_cycle() -> None:
    """No module imports, when it runs, one that imports it back (directly or not);
    imports for type checking alone never run and are left out."""
    found = dict(modules())
    known = set(found)
    graph = {
        name: {
            resolve(t, known) for t, _ in imports(name, path, typing_too=False) if t != "dulwich"
        }
        - {name}
        for name, path in found.items()
    }
    # A package's __init__ may import its own modules (it re-exports them); those edges
    # are how a folder shows its surface, not a cycle through its parts.
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


@pytest.mark.parametrize("name", [name for name, _ in modules()])
def test_every_module_opens_with_a_docstring(name: str) -> None:
    path = dict(modules())[name]
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring and len(docstring.split()) >= 4, f"{path}: says nothing of what it owns"
