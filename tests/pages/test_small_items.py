"""Issue 14, point 9 (outside Record), through AppTest: the team page's other metrics, the
target form's baseline, the two shared links, the empty workspace, zero metrics, the
"on track" wording beside a forecast, the hypothesis confirmation and the demo notice."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import create_engine
from streamlit.testing.v1 import AppTest

from core.format import day_text
from db.engine import make_engine, write_session
from db.migrate import upgrade
from db.models import Metric
from tests.conftest import DEMO_TODAY, hold_today
from tests.pages.update_workspace import ADMIN, TODAY, Workspace, page, texts, unescape
from tests.workspace import Builder, checkout_and_search
from ui.first_steps import demo_notice_text

ROOT = Path(__file__).resolve().parents[2]


def plain(at: AppTest) -> str:
    return unescape(texts(at))


def page_links(at: AppTest) -> list[tuple[str, str]]:
    """(target page, label) of every st.page_link on the page, the sidebar's included."""
    return [(link.proto.page, link.proto.label) for link in at.get("page_link")]


@pytest.fixture
def empty_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated database with nothing in it (no demo), the app pointed at it."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", url)
    monkeypatch.setenv("OUTCOMES_DEMO", "false")
    monkeypatch.setenv("OUTCOMES_PUBLIC_READ", "true")
    hold_today(monkeypatch, TODAY)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield url
    st.cache_data.clear()
    st.cache_resource.clear()


# ---------------------------------------------------------------- empty workspace


@pytest.mark.parametrize("path", ["app.py", "pages/team.py"])
def test_empty_workspace_tells_a_visitor_how_to_start(empty_url: str, path: str) -> None:
    at = page(path, None)

    assert not at.exception
    # In the page body: the sidebar shows Admin only to admins.
    assert ("admin", "Open Admin") in page_links(at)
    words = plain(at)
    assert "setup code" in words and "create-user" in words


@pytest.mark.parametrize("path", ["pages/outcome.py", "pages/review.py"])
def test_no_pi_yet_links_to_admin(empty_url: str, path: str) -> None:
    """The pages that need a PI say there is none and link to Admin, where PIs are added."""
    at = page(path, None)

    assert not at.exception
    assert "There is no PI yet" in plain(at)
    assert ("admin", "Open Admin") in page_links(at)


def test_no_metrics_never_claims_every_metric_is_up_to_date(
    empty_url: str,
) -> None:
    engine = make_engine(empty_url)
    with write_session(engine) as session:
        b = Builder(session, actor=ADMIN)
        train, _chk, _src = checkout_and_search(b)
        b.pi("PI now", TODAY - dt.timedelta(days=10), TODAY + dt.timedelta(days=60), train=train)
    engine.dispose()

    at = page("app.py", None)

    assert not at.exception
    words = plain(at)
    assert "Every metric is up to date" not in words
    assert "No metrics yet" in words


# ---------------------------------------------------------------- demo notice


@pytest.fixture
def demo_copy(
    demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    path = tmp_path / "elsewhere" / "team-board.db"
    path.parent.mkdir()
    shutil.copy(demo_template, path)
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("OUTCOMES_PUBLIC_READ", "true")
    hold_today(monkeypatch, DEMO_TODAY)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield path
    st.cache_data.clear()
    st.cache_resource.clear()


def test_demo_notice_names_the_database_in_use(demo_copy: Path) -> None:
    at = page("app.py", None)

    assert not at.exception
    notice = next(unescape(i.value) for i in at.info if "demo workspace" in i.value)
    assert str(demo_copy) in notice
    assert "data/outcomes.db" not in notice


def test_demo_notice_masks_a_postgres_password() -> None:
    engine = create_engine("postgresql+psycopg://outcomes:s3cret@db.example:5432/board")

    notice = unescape(demo_notice_text(engine))

    assert "s3cret" not in notice
    assert "outcomes:***@db.example:5432/board" in notice


# ---------------------------------------------------------------- Plan: baseline, confirmation


def plan(ws: Workspace) -> AppTest:
    at = page("pages/plan.py", ws.editor, pi="PI now", team="CHK", outcome="CHK-1")
    assert not at.exception
    return at


def new_field(widgets: object, kind: str, ws: Workspace, name: str) -> object:
    return widgets(key=f"plan.{kind}.new.{ws.outcome}#0.{name}")  # type: ignore[operator]


def test_a_new_target_offers_the_metrics_latest_reading_as_baseline(ws: Workspace) -> None:
    at = plan(ws)
    baseline = new_field(at.number_input, "target", ws, "baseline")
    day = new_field(at.date_input, "target", ws, "baseline_date")
    # The first metric, Checkout conversion, was last read 2.2 a week ago.
    assert (baseline.value, day.value) == (2.2, TODAY - dt.timedelta(days=7))
    assert "2.2 on" in plain(at) and "offered as the baseline" in plain(at)

    new_field(at.selectbox, "target", ws, "metric_id").set_value(ws.errors).run()

    assert not at.exception
    assert new_field(at.number_input, "target", ws, "baseline").value == 40
    new_field(at.selectbox, "target", ws, "metric_id").set_value(ws.latency).run()
    assert new_field(at.number_input, "target", ws, "baseline").value is None
    assert "Time to pay has no reading yet" in plain(at)


def test_a_typed_baseline_is_kept_when_the_metric_changes(ws: Workspace) -> None:
    at = plan(ws)
    new_field(at.number_input, "target", ws, "baseline").set_value(5.0)
    new_field(at.selectbox, "target", ws, "metric_id").set_value(ws.errors).run()

    assert not at.exception
    assert new_field(at.number_input, "target", ws, "baseline").value == 5.0


def test_adding_a_hypothesis_confirms_it_by_name_in_view(ws: Workspace) -> None:
    at = plan(ws)  # CHK-1 has a hypothesis already: "Add a hypothesis" is folded
    assert not next(e for e in at.expander if e.label == "Add a hypothesis").proto.expanded
    new_field(at.text_input, "hypothesis", ws, "if_text").set_value("we cache the payment page")
    new_field(at.text_input, "hypothesis", ws, "expect_text").set_value("faster payment")

    next(b for b in at.button if b.label == "Add hypothesis").click().run()

    assert not at.exception
    assert any(
        "Added the hypothesis “If we build we cache the payment page”" in unescape(s.value)
        for s in at.success
    )
    assert next(e for e in at.expander if e.label == "Add a hypothesis").proto.expanded


# ---------------------------------------------------------------- team page: other metrics


def other_metrics(at: AppTest) -> pd.DataFrame:
    heading = [h.value for h in at.subheader]
    assert "Other metrics" in heading, heading
    tables = [d.value for d in at.dataframe if {"metric", "latest", "trend"} <= set(d.value)]
    assert len(tables) == 1, [list(d.value) for d in at.dataframe]
    return tables[0]


def test_team_page_shows_metrics_no_target_names(ws: Workspace) -> None:
    at = page("pages/team.py", None, team="CHK", pi="PI now")

    assert not at.exception
    table = other_metrics(at)
    # Payment errors (read, no target) shows; the target's metric and the unread do not.
    assert list(table["metric"]) == ["Payment errors"]
    assert table.iloc[0]["latest"] == "40 per day"
    assert table.iloc[0]["trend"] == [40.0]


def test_a_value_just_saved_for_another_metric_appears_on_the_team_page(
    ws: Workspace,
) -> None:
    with write_session(ws.engine) as session:
        Builder(session, actor=ADMIN).readings(ws.get(Metric, ws.latency), {TODAY: 3.1})

    at = page("pages/team.py", None, team="CHK", pi="PI now")

    assert not at.exception
    table = other_metrics(at)
    row = table[table["metric"] == "Time to pay"].iloc[0]
    assert (row["latest"], row["date"]) == ("3.1 s", TODAY)


# ---------------------------------------------------------------- Copy link


def share_data(at: AppTest) -> dict[str, dict[str, str]]:
    (component,) = [c for c in at.get("bidi_component") if c.key == "share_link"]
    return json.loads(component.proto.json)


def test_copy_link_offers_a_frozen_and_a_live_link_saying_what_each_shows(
    ws: Workspace,
) -> None:
    at = page("pages/team.py", None, team="CHK", pi="PI now")

    assert not at.exception
    links = share_data(at)
    frozen, live = links["frozen"], links["live"]
    assert f"as_of={TODAY.isoformat()}" in frozen["url"]
    assert "team=CHK" in frozen["url"] and "pi=PI+now" in frozen["url"]
    assert "as_of" not in live["url"] and "team=CHK" in live["url"]
    assert day_text(TODAY) in frozen["label"] and day_text(TODAY) in frozen["sees"]
    assert "the day they open it" in live["sees"]


def test_a_past_view_is_frozen_at_its_own_date(ws: Workspace) -> None:
    day = TODAY - dt.timedelta(days=3)
    at = page("pages/team.py", None, team="CHK", pi="PI now", as_of=day.isoformat())

    links = share_data(at)

    assert f"as_of={day.isoformat()}" in links["frozen"]["url"]
    assert "as_of" not in links["live"]["url"]


# ---------------------------------------------------------------- "On track" says why


def test_an_on_track_target_says_the_pace_decided_it(ws: Workspace) -> None:
    # CHK-1's target: 20% of the way at 26% of the time, so on track by rule 5's pace.
    at = page("pages/outcome.py", None, team="CHK", pi="PI now", outcome="CHK-1")

    assert not at.exception
    assert "on pace: within 15 points of the straight path, 20% of the way" in plain(at)
