"""ui/ has no import cycle: the graph of every import between ui modules (at the top of a
module and inside functions alike, so a cycle cannot hide in a function-local import)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_ui_modules(path: Path, package: str = "ui") -> set[str]:
    """The modules of `package` that the module at `path` imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith(f"{package}.")}
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: ui/x.py's "from . import y" / "from .y import z"
                module = f"{package}.{module}" if module else package
            if module == package:  # "from ui import state": each name is a module
                found |= {f"{package}.{a.name}" for a in node.names}
            elif module.startswith(f"{package}."):
                found.add(module)
    return found


def import_graph(folder: Path, package: str = "ui") -> dict[str, set[str]]:
    modules = {f"{package}.{p.stem}": p for p in folder.glob("*.py") if p.stem != "__init__"}
    return {
        name: imported_ui_modules(path, package) & set(modules) - {name}
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (depth-first, three colours)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_ui_import_graph_has_no_cycle() -> None:
    graph = import_graph(ROOT / "ui")

    assert len(graph) > 10  # the walk found the package
    assert find_cycle(graph) is None


def test_the_page_list_module_imports_nothing_from_ui() -> None:
    assert imported_ui_modules(ROOT / "ui" / "site.py") == set()


@pytest.mark.parametrize(
    ("files", "cycle"),
    [
        # The old shape: frame -> auth at the top, auth -> views inside a function,
        # views -> frame at the top.
        (
            {
                "frame": "from ui.auth import sign_in_form\n",
                "auth": "def f():\n    from ui.views import escape_markdown\n",
                "views": "from ui.frame import Frame\n",
            },
            ["ui.auth", "ui.views", "ui.frame", "ui.auth"],
        ),
        ({"a": "from ui import b\n", "b": "import ui.a\n"}, ["ui.a", "ui.b", "ui.a"]),
        ({"a": "from . import b\n", "b": "from .a import x\n"}, ["ui.a", "ui.b", "ui.a"]),
        ({"a": "from ui.b import x\n", "b": "from ui.text import y\n", "text": ""}, None),
    ],
)
def test_a_cycle_is_found_wherever_its_imports_are(
    tmp_path: Path, files: dict[str, str], cycle: list[str] | None
) -> None:
    for name, text in files.items():
        (tmp_path / f"{name}.py").write_text(text)

    assert find_cycle(import_graph(tmp_path)) == cycle
