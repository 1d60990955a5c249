"""The overview's team table on a train larger than SAFe's largest (12 teams): the first
12 rows are drawn, the rest in an expander that draws them only once opened (issue 16:
50 rows of a dozen elements each were most of the overview's run)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from db.engine import make_engine, write_session
from tests.conftest import hold_today
from tests.pages.test_partial_predictability import open_page
from tests.workspace import Builder
from ui.team_table import TEAMS_SHOWN

AS_OF = dt.date(2026, 11, 2)


@pytest.fixture
def big_train(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A running PI of a train of 15 teams, each with one outcome; their names in order."""
    names = [f"Team {number:02d}" for number in range(1, 16)]
    engine = make_engine(database_url)
    with write_session(engine) as session:
        b = Builder(session)
        train = b.train("Payments")
        pi = b.pi("PI 26.4", dt.date(2026, 10, 5), dt.date(2026, 12, 18), train=train)
        for number, name in enumerate(names, start=1):
            team = b.team(name, f"T{number:02d}", train=train)
            b.outcome(pi, team, f"T{number:02d}-1", f"Outcome of {name}", planned_bv=5)
    engine.dispose()
    hold_today(monkeypatch, AS_OF)
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", database_url)
    monkeypatch.setenv("OUTCOMES_DEMO", "false")
    monkeypatch.setenv("OUTCOMES_PUBLIC_READ", "true")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield names
    st.cache_data.clear()
    st.cache_resource.clear()


def team_links(at: AppTest) -> list[str]:
    return [link.proto.label for link in at.main.get("page_link") if link.proto.page == "team"]


def test_a_train_of_more_than_twelve_teams_shows_twelve_and_the_rest_once_asked(
    big_train: list[str],
) -> None:
    at = open_page("app.py", pi="PI 26.4")

    assert team_links(at) == big_train[:TEAMS_SHOWN]
    more = [e for e in at.expander if e.label == "3 more teams"]
    assert len(more) == 1
    assert not more[0].get("page_link")  # collapsed: nothing drawn inside

    at.session_state["overview.more_teams"] = True  # as a click on it does
    at.run()

    assert not at.exception
    assert team_links(at) == big_train
