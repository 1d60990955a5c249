"""A metric's reading history: figures aggregated in SQL, one page at a time, newest first."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from core.access import Actor
from db import writes
from db.engine import read_session, write_session
from db.history import MAX_PAGE_SIZE, metric_history, team_metrics

DAY = dt.date(2026, 1, 1)


@pytest.fixture
def team_key(engine: Engine, admin: Actor) -> str:
    with write_session(engine) as s:
        team = writes.create_team(s, actor=admin, name="Checkout", key="CHK")
        conversion = writes.create_metric(s, actor=admin, team_id=team.id, name="Conversion")
        writes.create_metric(s, actor=admin, team_id=team.id, name="Abandonment")
        writes.record_readings(
            s,
            actor=admin,
            entries=[
                writes.ReadingEntry(conversion.id, DAY + dt.timedelta(days=i), float(i), f"n{i}")
                for i in range(120)
            ],
            source="cli",
        )
    return "CHK"


def test_figures_cover_every_reading_and_the_page_is_newest_first(
    engine: Engine, team_key: str
) -> None:
    with read_session(engine) as s:
        history = metric_history(
            s, team_key=team_key, metric_name="Conversion", offset=50, limit=50
        )

    assert history is not None
    assert (history.count, history.pages) == (120, 3)
    assert (history.first_date, history.last_date) == (DAY, DAY + dt.timedelta(days=119))
    assert (history.lowest, history.highest, history.mean) == (0.0, 119.0, 59.5)
    assert list(history.readings["value"])[:2] == [69.0, 68.0]
    assert len(history.readings) == 50
    row = history.readings.iloc[0]
    assert (row["note"], row["source"], row["entered_by"]) == ("n69", "cli", "test-admin")


def test_a_metric_without_readings_has_empty_figures(engine: Engine, team_key: str) -> None:
    with read_session(engine) as s:
        history = metric_history(s, team_key=team_key, metric_name="Abandonment")

    assert history is not None
    assert (history.count, history.first_date, history.mean, history.pages) == (0, None, None, 1)
    assert history.readings.empty


def test_an_unknown_metric_or_team_has_no_history(engine: Engine, team_key: str) -> None:
    with read_session(engine) as s:
        assert metric_history(s, team_key=team_key, metric_name="Nope") is None
        assert metric_history(s, team_key="SRC", metric_name="Conversion") is None


def test_page_size_is_bounded(engine: Engine, team_key: str) -> None:
    with read_session(engine) as s:
        history = metric_history(
            s, team_key=team_key, metric_name="Conversion", offset=-5, limit=10**9
        )
    assert history is not None and (history.offset, history.limit) == (0, MAX_PAGE_SIZE)


def test_team_metrics_lists_every_metric_by_name(engine: Engine, team_key: str) -> None:
    with read_session(engine) as s:
        assert [m.name for m in team_metrics(s, team_key=team_key)] == [
            "Abandonment",
            "Conversion",
        ]
