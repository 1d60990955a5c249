"""No HTML from anything but constants, and links only to http(s): checked in the source of
every page and UI module (parsed, not grepped, so formatting cannot hide a call)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ui.text import escape_markdown, safe_url

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")])

# The one function that vets a URL's scheme; quoting a vetted URL keeps it vetted.
URL_VETTERS = {"safe_url"}
URL_KEEPERS = {"quote"}
# A URL whose text starts like this has a fixed scheme: http(s), or a path of this app.
SAFE_URL_PREFIX = re.compile(r"^(https?://|/(?!/)|\?|#)", re.IGNORECASE)
MARKDOWN_LINK_SCHEME = re.compile(r"\]\(\s*<?\s*([a-z][a-z0-9+.\-]*):", re.IGNORECASE)


@dataclass(frozen=True)
class Source:
    path: Path
    tree: ast.Module
    parents: dict[ast.AST, ast.AST]

    @property
    def name(self) -> str:
        return (
            str(self.path.relative_to(ROOT)) if self.path.is_relative_to(ROOT) else self.path.name
        )

    def where(self, node: ast.AST) -> str:
        return f"{self.name}:{getattr(node, 'lineno', '?')}"


def _load(path: Path) -> Source:
    tree = ast.parse(path.read_text(), filename=str(path))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    return Source(path, tree, parents)


@pytest.fixture(scope="module", params=SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def source(request: pytest.FixtureRequest) -> Source:
    return _load(request.param)


def _calls(source: Source) -> Iterator[ast.Call]:
    return (node for node in ast.walk(source.tree) if isinstance(node, ast.Call))


def _func_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == keyword:
            return kw.value
    return call.args[position] if len(call.args) > position else None


def _scope_of(source: Source, node: ast.AST) -> ast.AST:
    current = source.parents.get(node)
    while current is not None and not isinstance(
        current, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.Module
    ):
        current = source.parents.get(current)
    return current or source.tree


def _assignments(scope: ast.AST, name: str) -> list[ast.expr | None]:
    """Every value bound to `name` directly in `scope` (None: bound by something we cannot
    see through, such as a parameter, a loop or a `with` target)."""
    values: list[ast.expr | None] = []
    if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        args = scope.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        values.extend(None for a in params if a is not None and a.arg == name)
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue  # another scope
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id == name:
                    values.append(node.value)
                elif any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(target)):
                    values.append(None)  # unpacking
        elif isinstance(node, ast.AnnAssign | ast.NamedExpr):
            target = node.target
            if isinstance(target, ast.Name) and target.id == name:
                values.append(node.value)
        elif isinstance(node, ast.AugAssign | ast.For | ast.comprehension | ast.withitem):
            target = node.optional_vars if isinstance(node, ast.withitem) else node.target
            if target is not None and any(
                isinstance(n, ast.Name) and n.id == name for n in ast.walk(target)
            ):
                values.append(None)
        stack.extend(ast.iter_child_nodes(node))
    return values


def _bound_values(source: Source, node: ast.Name) -> list[ast.expr | None]:
    scope = _scope_of(source, node)
    values = _assignments(scope, node.id)
    if not values and scope is not source.tree:
        values = _assignments(source.tree, node.id)
    return values


def _imported_from(source: Source, name: str) -> Source | None:
    """The project module `name` is imported from (`from ui.text import NAME`), if any."""
    for node in source.tree.body:
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and any((alias.asname or alias.name) == name for alias in node.names)
        ):
            path = ROOT / (node.module.replace(".", "/") + ".py")
            return _load(path) if path.exists() else None
    return None


def _is_constant_text(source: Source, node: ast.expr | None, depth: int = 0) -> bool:
    """A literal string, or a module-level name bound once to one (here, or in the project
    module it is imported from)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return True
    if isinstance(node, ast.Name) and depth < 4:
        values = _assignments(source.tree, node.id)
        if not values and (other := _imported_from(source, node.id)) is not None:
            source, values = other, _assignments(other.tree, node.id)
        return len(values) == 1 and _is_constant_text(source, values[0], depth + 1)
    return False


def _is_vetted_url(source: Source, node: ast.expr | None, depth: int = 0) -> bool:
    """The URL's scheme is fixed to http(s) or this app, whatever the data is."""
    if node is None or depth > 8:
        return False
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(SAFE_URL_PREFIX.match(node.value))
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        return isinstance(first, ast.Constant) and bool(SAFE_URL_PREFIX.match(str(first.value)))
    if isinstance(node, ast.Call):
        name = _func_name(node)
        if name in URL_VETTERS:
            return True
        if name in URL_KEEPERS and node.args:
            return _is_vetted_url(source, node.args[0], depth + 1)
        return False
    if isinstance(node, ast.IfExp):
        return _is_vetted_url(source, node.body, depth + 1) and _is_vetted_url(
            source, node.orelse, depth + 1
        )
    if isinstance(node, ast.Name):
        values = _bound_values(source, node)
        return bool(values) and all(_is_vetted_url(source, v, depth + 1) for v in values)
    return False


# ---------------------------------------------------------------- the checks


def html_offenders(source: Source) -> list[str]:
    """Calls that render HTML from anything but a constant string."""
    offenders = []
    for call in _calls(source):
        for kw in call.keywords:
            allows_html = kw.arg == "unsafe_allow_html" and not (
                isinstance(kw.value, ast.Constant) and kw.value.value is False
            )
            if allows_html and not _is_constant_text(source, _argument(call, 0, "body")):
                offenders.append(f"{source.where(call)} {_func_name(call)}(..., unsafe_allow_html)")
        # st.html and components.html
        if _func_name(call) == "html" and not _is_constant_text(source, _argument(call, 0, "body")):
            offenders.append(f"{source.where(call)} html(...)")
    return offenders


def link_offenders(source: Source) -> list[str]:
    """Links whose scheme the data could choose: st.link_button, st.page_link to another
    site, "[...]({url})" in f-strings, literal markdown links, LinkColumn without safe_url
    in its scope (a heuristic; the browser test checks what is rendered)."""
    offenders = []
    for call in _calls(source):
        name = _func_name(call)
        if name == "link_button" and not _is_vetted_url(source, _argument(call, 1, "url")):
            offenders.append(f"{source.where(call)} link_button")
        if name == "page_link":
            page = _argument(call, 0, "page")
            if (
                isinstance(page, ast.Constant)
                and isinstance(page.value, str)
                and not (page.value.endswith(".py") or SAFE_URL_PREFIX.match(page.value))
            ):
                offenders.append(f"{source.where(call)} page_link")
        if name == "LinkColumn":
            scope = _scope_of(source, call)
            names = {_func_name(c) for c in ast.walk(scope) if isinstance(c, ast.Call)}
            names |= {n.id for n in ast.walk(scope) if isinstance(n, ast.Name)}
            if not names & URL_VETTERS:
                offenders.append(f"{source.where(call)} LinkColumn")
    for node in ast.walk(source.tree):
        if isinstance(node, ast.JoinedStr):
            for before, value in zip(node.values, node.values[1:], strict=False):
                if (
                    isinstance(before, ast.Constant)
                    and str(before.value).rstrip().endswith("](")
                    and isinstance(value, ast.FormattedValue)
                    and not _is_vetted_url(source, value.value)
                ):
                    offenders.append(f"{source.where(node)} markdown link")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for match in MARKDOWN_LINK_SCHEME.finditer(node.value):
                if match.group(1).lower() not in ("http", "https"):
                    offenders.append(f"{source.where(node)} {match.group(1)}: link")
    return offenders


def test_html_is_rendered_only_from_constant_strings(source: Source) -> None:
    assert html_offenders(source) == []


def test_links_take_urls_only_through_safe_url(source: Source) -> None:
    assert link_offenders(source) == []


HTML_SNIPPETS = {
    "markdown-fstring": 'import streamlit as st\nname = "x"\nst.markdown(f"<b>{name}</b>", unsafe_allow_html=True)\n',
    "markdown-variable": "import streamlit as st\ndef f(t):\n    st.markdown(t, unsafe_allow_html=True)\n",
    "markdown-flag-variable": "import streamlit as st\nALLOW = True\nst.markdown(x, unsafe_allow_html=ALLOW)\n",
    "html-fstring": 'import streamlit as st\nst.html(f"<p>{title}</p>")\n',
    "html-keyword": "import streamlit as st\nst.html(body=user_text)\n",
    "html-imported-variable": "import streamlit as st\nfrom ui.text import escape_markdown\nst.html(escape_markdown)\n",
    "html-rebound-constant": 'import streamlit as st\nCSS = "<style></style>"\nCSS = CSS + t\nst.html(CSS)\n',
    "components-html": "import streamlit.components.v1 as c\nc.html(page)\n",
    "write-html": "import streamlit as st\nst.write(text, unsafe_allow_html=True)\n",
}

LINK_SNIPPETS = {
    "link-button-raw": "import streamlit as st\nst.link_button('Open', release.link)\n",
    "link-button-keyword": "import streamlit as st\nst.link_button(label='Open', url=link)\n",
    "link-button-param": "import streamlit as st\ndef f(url):\n    st.link_button('Open', url)\n",
    "link-button-quoted": "import streamlit as st\nfrom urllib.parse import quote\nst.link_button('x', quote(link))\n",
    "markdown-link-raw": 'import streamlit as st\nst.markdown(f"[open]({release.link})")\n',
    "markdown-link-name": 'import streamlit as st\nurl = row["link"]\nst.markdown(f"[open]({url})")\n',
    "markdown-link-branch": 'import streamlit as st\nurl = safe_url(a) if a else b\nst.markdown(f"[x]({url})")\n',
    "literal-javascript": 'import streamlit as st\nst.markdown("[x](javascript:alert(1))")\n',
    "literal-data": 'import streamlit as st\nst.caption("see [x]( data:text/html,hi)")\n',
    "page-link-javascript": "import streamlit as st\nst.page_link('javascript:alert(1)', label='x')\n",
    "link-column-raw": "import streamlit as st\nst.dataframe(df, column_config={'l': st.column_config.LinkColumn('Link')})\n",
}

GOOD_SNIPPETS = {
    "html-constant": 'import streamlit as st\nCSS = "<style>.x{}</style>"\nst.html(CSS)\nst.markdown("<br>", unsafe_allow_html=True)\n',
    "html-imported-constant": "import streamlit as st\nfrom ui.present import PRESENT_CSS\nst.html(PRESENT_CSS)\n",
    "html-false": "import streamlit as st\nst.markdown(text, unsafe_allow_html=False)\n",
    "link-button-vetted": "import streamlit as st\nurl = safe_url(r.link)\nif url:\n    st.link_button('Open', url)\n",
    "markdown-link-vetted": 'import streamlit as st\nfrom urllib.parse import quote\nt = quote(safe_url(u))\nst.markdown(f"[x]({t})")\n',
    "markdown-link-app-path": 'import streamlit as st\nst.markdown(f"[team](/team?team={key})")\n',
    "link-column-vetted": "import streamlit as st\ndf['l'] = df['l'].map(safe_url)\nst.dataframe(df, column_config={'l': st.column_config.LinkColumn('Link')})\n",
}


def _snippet(tmp_path: Path, code: str) -> Source:
    path = tmp_path / "snippet.py"
    path.write_text(code)
    tree = ast.parse(code)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    return Source(path, tree, parents)


@pytest.mark.parametrize("code", HTML_SNIPPETS.values(), ids=HTML_SNIPPETS.keys())
def test_html_check_catches(tmp_path: Path, code: str) -> None:
    assert html_offenders(_snippet(tmp_path, code))


@pytest.mark.parametrize("code", LINK_SNIPPETS.values(), ids=LINK_SNIPPETS.keys())
def test_link_check_catches(tmp_path: Path, code: str) -> None:
    assert link_offenders(_snippet(tmp_path, code))


@pytest.mark.parametrize("code", GOOD_SNIPPETS.values(), ids=GOOD_SNIPPETS.keys())
def test_checks_let_safe_code_pass(tmp_path: Path, code: str) -> None:
    source = _snippet(tmp_path, code)
    assert html_offenders(source) == [] and link_offenders(source) == []


# ---------------------------------------------------------------- the helpers themselves


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/release/2.3",
        "http://example.com",
        "HTTPS://EXAMPLE.COM/x?y=1#z",
        "  https://example.com  ",
    ],
)
def test_safe_url_keeps_http_links(url: str) -> None:
    assert safe_url(url) == url.strip()


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "javascript&colon;alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "file:///etc/passwd",
        "//evil.example/x",
        "https:evil",
        "/relative/path",
        "",
        "   ",
        None,
        42,
    ],
)
def test_safe_url_refuses_everything_else(url: object) -> None:
    assert safe_url(url) is None


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "![x](https://evil.example/p.png)",
        "<img src=x onerror=alert(1)>",
        ":red[x]",
        "$x$",
        "# heading",
    ],
)
def test_escaped_markdown_has_no_active_syntax_left(text: str) -> None:
    escaped = escape_markdown(text)
    assert re.fullmatch(r"(\\[!-/:-@\[-`{-~]|[^!-/:-@\[-`{-~])*", escaped)


# Markdown (GitHub's autolink extension) links bare addresses even when every punctuation
# character is escaped; an invisible word joiner (U+2060) inside the pattern stops it.
AUTOLINK = re.compile(r"(?i)https?://|\bwww\.|[^\u2060]@[^\u2060]")


@pytest.mark.parametrize("escape", [escape_markdown], ids=["text"])
@pytest.mark.parametrize(
    "text",
    [
        "see http://127.0.0.1:9/x.js now",
        "https://evil.example/x",
        "WWW.evil.example/x",
        "write to ed@evil.example",
        "<http://evil.example>",
        "mailto:ed@evil.example",
    ],
)
def test_escaped_markdown_makes_no_autolinks(escape: object, text: str) -> None:
    plain = escape(text).replace("\\", "")  # type: ignore[operator]
    assert not AUTOLINK.search(plain), plain
