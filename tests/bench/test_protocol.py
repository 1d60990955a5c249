"""The protocol client (bench/protocol.py), the load built on it (bench/load.py) and the
same-elements floors (bench/floors.py), against real `streamlit run` servers: the one-line
page, and the app on a tiny scaled workspace. Timings are never asserted."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from streamlit.proto.Element_pb2 import Element
from streamlit.testing.v1 import AppTest

from bench.browser import app_server, floor_server
from bench.floors import floor_for, write_floor_app
from bench.load import (
    Visit,
    WorkspaceNames,
    dashboard_plan,
    one_line_plan,
    process_cpu_s,
    run_level,
    shows,
    unescape,
)
from bench.protocol import Drawn, PageRun, RunFailed, Session
from bench.report import TODAY
from bench.workspace import dashboard_pages, describe, team_outcomes
from db.engine import make_engine
from db.migrate import upgrade
from seed.scaled import build_scaled

pytestmark = pytest.mark.slow  # each test starts `streamlit run`

T = TypeVar("T")


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on a thread of its own: once a browser test ran in this process
    (pytest-xdist hands one worker modules of both kinds), Playwright's sync API keeps an
    event loop running on the main thread, and `asyncio.run` refuses to start there."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("protocol") / "tiny.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    build_scaled(engine, teams=2, pis=2, metrics=6, readings=600, today=TODAY)
    engine.dispose()
    return path


def test_the_one_line_page_runs_to_script_finished_with_its_text(tmp_path: Path) -> None:
    async def two_runs(base_url: str) -> tuple[PageRun, PageRun, dict[str, str]]:
        async with Session(base_url, timeout_s=60) as session:
            first = await session.open("/")  # a deep link: by page name
            second = await session.open("/")  # navigation: by the page's hash
            return first, second, session.pages

    with floor_server(tmp_path / "floor", log_path=tmp_path / "floor.log") as server:
        first, second, pages = run_apart(two_runs(server.base_url))

    for run in (first, second):
        assert run.status == "finished"
        assert run.kinds == ["markdown"] and run.texts() == ["hello"]
        assert run.seconds > 0 and run.messages >= 3
    assert pages[""]  # the entry script's hash, learnt from new_session


def test_a_real_page_runs_and_a_picked_filter_changes_it(tiny: Path, tmp_path: Path) -> None:
    ws = describe(tiny)
    teams = team_outcomes(ws)
    pages = {page.name: page for page in dashboard_pages(ws)}
    (first_key, first_name, _), (second_key, second_name, second_outcome) = teams[:2]

    async def visit(base_url: str) -> list[PageRun]:
        url = pages["overview"].url
        async with Session(base_url, first_url=url, timeout_s=180) as session:
            overview = await session.open(url)
            team = await session.open(f"/team?team={first_key}&pi={ws.pi.replace(' ', '+')}")
            picked = await session.pick("Team", second_name)
            outcome = await session.open(
                f"/outcome?team={second_key}&outcome={second_outcome}&pi={ws.pi}"
            )
            with pytest.raises(RunFailed, match="no filter labelled"):
                await session.pick("Colour", "red")
            return [overview, team, picked, outcome]

    with app_server(ws.url, log_path=tmp_path / "app.log") as server:
        overview, team, picked, outcome = run_apart(visit(server.base_url))

    assert all(run.status == "finished" and not run.exceptions() for run in (overview, team))
    assert shows(overview, f"{ws.pi} overview")
    assert shows(team, first_name) and not shows(team, second_name)
    assert shows(picked, second_name)  # the widget state reached the page
    assert f"team={second_key}" in picked.query_after  # and the address bar followed
    assert shows(outcome, second_outcome)
    assert "selectbox" in team.kinds and "heading" in team.kinds


def test_a_level_of_sessions_counts_runs_cpu_and_memory(tmp_path: Path) -> None:
    with floor_server(tmp_path / "floor", log_path=tmp_path / "floor.log") as server:
        before = process_cpu_s(server.pid)
        level = run_apart(
            run_level(
                server.base_url,
                one_line_plan(runs=3),
                sessions=3,
                timeout_s=60,
                server_pid=server.pid,
                server_rss=server.rss_mb,
            )
        )
        after = process_cpu_s(server.pid)
        wrong = run_apart(
            run_level(
                server.base_url, one_line_plan(runs=1, expect="goodbye"), sessions=1, timeout_s=60
            )
        )

    assert level.runs == 9 and len(level.times) == 9 and not level.errors
    assert level.server_cpu_s is not None and 0 < level.server_cpu_s <= after - before
    assert level.rss_open_mb and level.rss_before_mb and level.memory_per_session_mb is not None
    assert wrong.errors == ("one-line: 'goodbye' is not on the page",)


def test_the_dashboard_plan_cycles_four_pages_with_changing_filters() -> None:
    names = WorkspaceNames(
        pi="PI 26.4",
        as_of=dt.date(2026, 11, 2),
        teams=(("A", "Alpha", "A-1"), ("B", "Beta", "B-1")),
    )
    plan = dashboard_plan(names, rounds=2)

    first = plan.visits(0, 0)
    assert [v.page for v in first] == ["overview", "team", "team (filter)", "outcome", "review"]
    assert first[1].url == "/team?team=A&pi=PI+26.4&as_of=2026-11-02"
    assert first[2] == Visit("team (filter)", pick=("Team", "Beta"), expect="Beta")
    assert "outcome=B-1" in first[3].url
    assert "as_of=2026-11-01" in plan.visits(0, 1)[0].url  # a day earlier each round
    assert plan.visits(1, 0)[1].expect == "Beta"  # sessions start on different teams


def test_unescape_reads_markdown_escaped_headings() -> None:
    assert unescape("PI 26\\.4 overview") == "PI 26.4 overview"
    assert unescape("CHK\\-1 · Raise") == "CHK-1 · Raise"


def _drawn(kind: str, container: str = "main", **fields: object) -> Drawn:
    element = Element()
    target = getattr(element, kind)
    for name, value in fields.items():
        if isinstance(value, list):
            getattr(target, name).extend(value)
        else:
            setattr(target, name, value)
    return Drawn(kind, container, element)


def test_a_floor_draws_the_same_kinds_once_with_the_same_words(tmp_path: Path) -> None:
    run = PageRun(path="/team", query="")
    run.drawn = [
        _drawn("markdown", "sidebar", body="**Outcome Board**"),
        _drawn("page_link", "sidebar", label="Team"),
        _drawn("selectbox", label="Team", options=["Alpha", "Beta"], raw_value="Beta"),
        _drawn("date_input", label="As of", value=["2026/11/02"]),
        _drawn("heading", tag="h1", body="Beta"),
        _drawn("vega_lite_chart", spec="{}"),
        _drawn("vega_lite_chart", spec="{}"),
        _drawn("markdown", body="a caption", element_type=2),
        _drawn("dataframe"),
        _drawn("dataframe"),
        _drawn("metric", label="Health"),
        _drawn("deck_gl_json_chart"),
    ]

    floor = floor_for("team", run)
    at = AppTest.from_string(floor.script, default_timeout=60).run()

    assert not at.exception
    assert floor.skipped == ("deck_gl_json_chart",)
    assert [h.value for h in at.title] == ["Beta"]
    assert at.selectbox[0].label == "Team" and at.selectbox[0].value == "Beta"
    assert at.date_input[0].value == dt.date(2026, 11, 2)
    assert [c.value for c in at.caption] == ["a caption"]
    assert len(at.get("vega_lite_chart")) + len(at.get("arrow_vega_lite_chart")) == 1
    assert len(at.dataframe) == 1 and len(at.metric) == 1
    assert [m.value for m in at.sidebar.markdown] == ["**Outcome Board**"]
    script = write_floor_app(tmp_path / "floors", {"team": floor})
    assert (tmp_path / "floors" / "pages" / "floor_team.py").read_text() == floor.script
    assert (script.parent / ".streamlit" / "config.toml").exists()


def test_floors_of_the_real_pages_run_on_the_floor_server(tiny: Path, tmp_path: Path) -> None:
    ws = describe(tiny)
    pages = dashboard_pages(ws)

    async def runs(base_url: str) -> dict[str, PageRun]:
        found = {}
        for page in pages:
            async with Session(base_url, first_url=page.url, timeout_s=180) as session:
                found[page.name] = await session.open(page.url)
        return found

    with app_server(ws.url, log_path=tmp_path / "app.log") as server:
        real = run_apart(runs(server.base_url))
    floors = {name: floor_for(name, run) for name, run in real.items()}

    async def floor_runs(base_url: str) -> dict[str, PageRun]:
        async with Session(base_url, timeout_s=120) as session:
            return {name: await session.open(f.url_path) for name, f in floors.items()}

    with floor_server(tmp_path / "floors", log_path=tmp_path / "f.log", floors=floors) as server:
        drawn = run_apart(floor_runs(server.base_url))

    for name, run in drawn.items():
        assert run.status == "finished" and not run.exceptions(), name
        assert floors[name].skipped == (), (name, floors[name].skipped)  # every kind drawn
        page_kinds = {k for k in real[name].kinds if k not in floors[name].skipped}
        missing = page_kinds - set(run.kinds) - {"empty", "space", "skeleton"}
        # Blocks and submit buttons come out as the floor's own form and columns.
        assert not {k for k in missing if not k.startswith("block:")}, (name, missing)
        assert run.kinds.count("vega_lite_chart") == min(
            1, real[name].kinds.count("vega_lite_chart")
        )
        headings = [d.element.heading.body for d in real[name].drawn if d.kind == "heading"]
        assert headings and shows(run, unescape(headings[0])), name
