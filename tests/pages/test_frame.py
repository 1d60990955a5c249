"""Every page starts with the shared frame, and nothing uses st.navigation beside pages/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ui.frame import PAGES

ROOT = Path(__file__).resolve().parents[2]
PAGE_FILES = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]


def _first_call(path: Path) -> ast.Call | None:
    """The first statement that is not an import or the docstring, if it is a call."""
    body = ast.parse(path.read_text()).body
    # app.py also serves the HTTP API: its page is the `else` of `if __name__ != "__main__"`.
    for node in body:
        if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test):
            body = node.orelse
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        value = node.value if isinstance(node, ast.Assign | ast.Expr) else None
        return value if isinstance(value, ast.Call) else None
    return None


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_page_calls_the_frame_first(path: Path) -> None:
    call = _first_call(path)
    assert call is not None and isinstance(call.func, ast.Name) and call.func.id == "page_frame"
    key = call.args[0].value  # type: ignore[attr-defined]
    assert PAGES[key].path == str(path.relative_to(ROOT))


def test_every_page_file_is_in_the_navigation() -> None:
    assert {spec.path for spec in PAGES.values()} == {str(p.relative_to(ROOT)) for p in PAGE_FILES}


def test_no_st_navigation_beside_pages_folder() -> None:
    for path in [*PAGE_FILES, *(ROOT / "ui").glob("*.py")]:
        assert "st.navigation" not in path.read_text(), path
