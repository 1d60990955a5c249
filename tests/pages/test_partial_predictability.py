"""Predictability before the PI ends (issue 14 item 5): while outcomes are unscored, every
place that shows predictability says "Partial: N of M scored" and shows no band, because
a band from 1 of 3 scored outcomes misleads. The report's numbers are not the pages'
business and do not change (tests/db/test_report.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.access import Actor
from db.engine import make_engine, write_session
from tests.conftest import hold_today
from tests.pages.test_dashboards import texts
from tests.workspace import Builder
from ui import state
from ui.theme import PREDICTABILITY_BAND_LABEL

ROOT = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 11, 2)  # inside the PI below
PARTIAL = "Partial: 1 of 3 scored"
# Checkout's one scored outcome: actual 9 over planned 10 would read "90% · healthy".
SCORED_PERCENT = "90% of the scored so far"


@pytest.fixture
def partial_ws(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Checkout with three committed outcomes, one scored, and one train outcome; the PI
    is running."""
    engine = make_engine(database_url)
    with write_session(engine) as session:
        b = Builder(session)
        train = b.train("Payments")
        team = b.team("Checkout", "CHK", train=train)
        pi = b.pi("PI 26.4", dt.date(2026, 10, 5), dt.date(2026, 12, 18), train=train)
        scored = b.outcome(pi, team, "CHK-1", "Faster checkout", planned_bv=10, committed=True)
        b.outcome(pi, team, "CHK-2", "Fewer errors", planned_bv=8, committed=True)
        b.outcome(pi, team, "CHK-3", "More repeat buyers", planned_bv=5, committed=True)
        b.score(scored, 9)
        # A train-level outcome: the train slide lists it; it enters neither figure.
        b.outcome(pi, None, "PAY-1", "Fewer abandoned payments", planned_bv=9)
    engine.dispose()
    hold_today(monkeypatch, AS_OF)
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", database_url)
    monkeypatch.setenv("OUTCOMES_DEMO", "false")
    monkeypatch.setenv("OUTCOMES_PUBLIC_READ", "true")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield database_url
    st.cache_data.clear()
    st.cache_resource.clear()


def open_page(page: str, actor: Actor | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    if page != "app.py":
        at.switch_page(page)
    if actor is not None:
        at.session_state[state.ACTOR] = actor
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception
    return at


def assert_partial_without_band(text: str) -> None:
    assert PARTIAL in text
    assert SCORED_PERCENT in text  # the scored ones' percent, labelled as partial
    for label in PREDICTABILITY_BAND_LABEL.values():
        assert not re.search(rf"\b{re.escape(label)}\b", text, re.IGNORECASE), label


Page = Callable[..., AppTest]


@pytest.mark.parametrize(
    ("page", "params"),
    [
        ("pages/review.py", {"pi": "PI 26.4"}),
        ("pages/team.py", {"pi": "PI 26.4", "team": "CHK"}),
        ("pages/present.py", {"pi": "PI 26.4"}),
    ],
    ids=["review", "team", "present"],
)
def test_a_team_with_unscored_outcomes_reads_partial(
    partial_ws: str, page: str, params: dict[str, str]
) -> None:
    at = open_page(page, **params)
    text = texts(at)
    if page == "pages/review.py":
        # Review: the tile's value says "Partial" and its line the count; each team's
        # figure is a cell of the one grouped table.
        tile = [m for m in at.metric if m.label == "Predictability (pooled)"]
        assert tile and tile[0].value == "Partial"
        assert PARTIAL.removeprefix("Partial: ") in text
        cells = at.dataframe[0].value["team_predictability"].tolist()
        text += "\n" + "\n".join(map(str, cells))
    assert_partial_without_band(text)


def test_the_overview_tile_and_team_table_read_partial(partial_ws: str) -> None:
    at = open_page("app.py", pi="PI 26.4")
    tile = [m for m in at.metric if m.label == "Predictability"]
    assert tile and tile[0].value == "Partial"
    text = texts(at)
    # The tile says "Partial" once, as its value (checked above), and "1 of 3 scored ..."
    # as its line; the team table's cell says it all (the train is the one team here).
    assert text.count(PARTIAL) == 1
    assert text.count(PARTIAL.removeprefix("Partial: ")) == 2
    assert_partial_without_band(text)


def test_the_present_train_slide_reads_partial(partial_ws: str) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page("pages/present.py")
    at.query_params["pi"] = "PI 26.4"
    at.session_state[state.PRESENT_SLIDE] = 1  # after the one team slide: the train
    at.run()
    assert not at.exception
    assert "Payments train" in texts(at)
    assert_partial_without_band(texts(at))


def test_once_every_outcome_is_scored_the_band_returns(
    partial_ws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same team after the PI's end: no "Partial", the percent and its band."""
    hold_today(monkeypatch, dt.date(2027, 1, 10))
    at = open_page("pages/team.py", pi="PI 26.4", team="CHK")
    text = texts(at)
    assert "Partial" not in text
    # Unscored outcomes count 0 at the end: 9 / 23 = 39%, over-committed.
    assert "39% · " + PREDICTABILITY_BAND_LABEL["over_committed"] in text
