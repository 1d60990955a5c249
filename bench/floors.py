"""Same-elements floors: for each dashboard, a generated Streamlit page that draws the same
element kinds with trivial data, so a page's browser time-to-content is compared with what
Streamlit's frontend costs for those kinds (a JavaScript chunk per kind on a cold cache).

The layout is read from the real page: bench.protocol runs it once on the app's server
and the floor is written from the elements that run sent, in order:
- the same headings, markdown (captions, dividers), text and alerts, word for word;
- the same filter widgets (select boxes and date inputs: label and options) and every
  page link (pointed at an external address: the floor app has no such pages);
- one Vega chart (a three-point line) however many the page draws, and one table
  (three rows) however many it draws; one of every other element kind (metric, progress,
  code, buttons, inputs, a custom component ...) and one of each block kind (columns, expander, popover,
  form, tabs), with trivial content;
- the same page config (title, layout).
Elements are written at the top level of main or sidebar (blocks are not nested): what
the browser loads per kind is the same. Kinds with nothing to draw (empty, space,
skeleton) are left out, and any kind this module does not know is listed as skipped.

All floors live in one app folder: `app.py` is the one-line page (the second floor) and
`pages/floor_<name>.py` the same-elements floors, served by one `streamlit run` with the
app's own .streamlit/config.toml."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from streamlit.proto.Markdown_pb2 import Markdown
from streamlit.proto.PageConfig_pb2 import PageConfig

from bench.protocol import Drawn, PageRun
from bench.workspace import FLOOR_SCRIPT

ROOT = Path(__file__).resolve().parents[1]
HEADINGS = {"h1": "st.title", "h2": "st.header", "h3": "st.subheader"}
NOTHING_TO_DRAW = {"empty", "space", "skeleton", "block:vertical", "block:flex_container"}
ONCE = {  # kind -> the trivial element that loads the same frontend code
    "vega_lite_chart": (
        "st.altair_chart(alt.Chart(pd.DataFrame({'x': [1, 2, 3], 'y': [1, 3, 2]}))"
        ".mark_line().encode(x='x:Q', y='y:Q'))"
    ),
    "dataframe": "st.dataframe(pd.DataFrame({'a': [1, 2, 3], 'b': ['x', 'y', 'z']}))",
    "table": "st.table(pd.DataFrame({'a': [1, 2, 3]}))",
    "progress": "st.progress(0.5)",
    "code": "st.code('x', language=None)",
    "json": "st.json({'a': 1})",
    "html": "st.html('<span></span>')",
    # A custom component (st.components.v2, as the share link's): its frontend code and a
    # constant body, declared and mounted once.
    "bidi_component": (
        "_floor_component = st.components.v2.component(\n"
        "    'floor_component', html='<button>Copy</button>', js='export default function () {}'\n"
        ")\n"
        "_floor_component(key='floor.component', data={'a': 1})"
    ),
    "block:column": "_a, _b = st.columns(2)\n_a.write('a')\n_b.write('b')",
    "block:tab_container": "_t1, _t2 = st.tabs(['a', 'b'])\n_t1.write('a')",
    "block:form": (
        "with st.form('floor.form'):\n"
        "    st.text_input('x', key='floor.form.x')\n"
        "    st.form_submit_button('Go')"
    ),
}
LABELLED = {  # kind -> an element with the page's label
    "metric": "st.metric({label}, '1')",
    "button": "st.button({label}, key={key})",
    "download_button": "st.download_button({label}, data='x', key={key})",
    "link_button": "st.link_button({label}, 'https://example.org')",
    "text_input": "st.text_input({label}, key={key})",
    "text_area": "st.text_area({label}, key={key})",
    "number_input": "st.number_input({label}, key={key})",
    "checkbox": "st.checkbox({label}, key={key})",
    "radio": "st.radio({label}, ['a', 'b'], key={key})",
    "multiselect": "st.multiselect({label}, ['a', 'b'], key={key})",
    "slider": "st.slider({label}, 0, 10, key={key})",
    "file_uploader": "st.file_uploader({label}, key={key})",
    "block:expandable": "with st.expander({label}):\n    st.write('x')",
    "block:popover": "with st.popover({label}):\n    st.write('x')",
}


@dataclass(frozen=True)
class Floor:
    """A generated floor page: its script and the kinds it could not reproduce."""

    name: str
    script: str
    skipped: tuple[str, ...]

    @property
    def url_path(self) -> str:
        return f"/floor_{self.name}"


def _label(item: Drawn) -> str:
    if item.block is not None:
        inner = getattr(item.block, item.kind.split(":", 1)[1], None)
        return str(getattr(inner, "label", "") or "x")
    element = item.element
    assert element is not None
    return str(getattr(getattr(element, item.kind), "label", "") or "x")


def _date_value(raw: str) -> str:
    try:
        return repr(dt.date.fromisoformat(raw.replace("/", "-")))
    except ValueError:
        return "None"


def _line(item: Drawn, index: int, seen: set[str], skipped: list[str]) -> str | None:
    """The floor's line for one drawn element, or None (once-only kinds seen before)."""
    kind = item.kind
    element = item.element
    key = repr(f"floor.{index}")
    if kind == "heading" and element is not None:
        heading = element.heading
        call = HEADINGS.get(heading.tag, "st.subheader")
        return f"{call}({heading.body!r})"
    if kind == "markdown" and element is not None:
        markdown = element.markdown
        html = ", unsafe_allow_html=True" if markdown.allow_html else ""  # the app's own
        if markdown.element_type == Markdown.DIVIDER:
            return "st.divider()"
        if markdown.element_type == Markdown.CAPTION:
            return f"st.caption({markdown.body!r}{html})"
        if markdown.element_type == Markdown.LATEX:
            return f"st.latex({markdown.body!r})"
        return f"st.markdown({markdown.body!r}{html})"
    if kind == "text" and element is not None:
        return f"st.text({element.text.body!r})"
    if kind == "alert" and element is not None:
        call = {1: "st.error", 2: "st.warning", 3: "st.info", 4: "st.success"}
        return f"{call.get(element.alert.format, 'st.info')}({element.alert.body!r})"
    if kind == "selectbox" and element is not None:
        box = element.selectbox
        options = list(box.options)
        shown = box.raw_value if box.raw_value in options else None
        default = options.index(shown) if shown else (box.default if box.HasField("default") else 0)
        return f"st.selectbox({box.label!r}, {options!r}, index={default}, key={key})"
    if kind == "date_input" and element is not None:
        picker = element.date_input
        value = _date_value((list(picker.value) or list(picker.default) or [""])[0])
        shown = f", format={picker.format!r}" if picker.format else ""
        return f"st.date_input({picker.label!r}, value={value}{shown}, key={key})"
    if kind == "page_link" and element is not None:
        return f"st.page_link('https://example.org/{index}', label={element.page_link.label!r})"
    if kind == "button" and element is not None and element.button.is_form_submitter:
        return None  # the floor's form brings its own submit button
    if kind in NOTHING_TO_DRAW or kind in seen:
        return None
    seen.add(kind)
    if kind in ONCE:
        return ONCE[kind]
    if kind in LABELLED:
        return LABELLED[kind].format(label=repr(_label(item)), key=key)
    skipped.append(kind)
    return None


def _page_config(config: PageConfig | None) -> str:
    if config is None:
        return ""
    layout = {PageConfig.WIDE: "'wide'", PageConfig.CENTERED: "'centered'"}
    parts = []
    if config.title:
        parts.append(f"page_title={config.title!r}")
    if config.layout in layout:
        parts.append(f"layout={layout[config.layout]}")
    return f"st.set_page_config({', '.join(parts)})" if parts else ""


def floor_for(name: str, run: PageRun) -> Floor:
    """The same-elements floor of one page run."""
    seen: set[str] = set()
    skipped: list[str] = []
    main: list[str] = []
    sidebar: list[str] = []
    for index, item in enumerate(run.drawn):
        line = _line(item, index, seen, skipped)
        if line is None:
            continue
        (sidebar if item.container == "sidebar" else main).append(line)
    head = [
        f'"""Same-elements floor of the {name} page (generated by bench/floors.py)."""',
        "import datetime",  # date_input values are written as datetime.date(...)
        "",
        "import altair as alt",
        "import pandas as pd",
        "import streamlit as st",
        "",
    ]
    config = _page_config(run.page_config)
    body = [config] if config else []
    if sidebar:
        body.append("with st.sidebar:")
        body += ["    " + line.replace("\n", "\n    ") for line in sidebar]
    body += main
    script = "\n".join([*head, *body]) + "\n"
    return Floor(name, script, tuple(dict.fromkeys(skipped)))


def write_floor_app(folder: Path, floors: Mapping[str, Floor]) -> Path:
    """The floors' app folder: the one-line page as app.py, each floor in pages/, the
    app's .streamlit/config.toml; returns the entry script."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".streamlit").mkdir(exist_ok=True)
    shutil.copy(ROOT / ".streamlit" / "config.toml", folder / ".streamlit" / "config.toml")
    pages = folder / "pages"
    pages.mkdir(exist_ok=True)
    for floor in floors.values():
        (pages / f"floor_{floor.name}.py").write_text(floor.script)
    script = folder / "app.py"
    script.write_text(FLOOR_SCRIPT)
    return script
