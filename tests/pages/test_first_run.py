"""The README's first command on a fresh machine: no database yet, so the app creates it,
migrates it, loads the demo around today's date and shows the current PI. "Today" is held
at a fixed day, so the demo and the current PI are the same on every run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from db.engine import make_engine, read_session
from db.models import PI, Team
from tests.conftest import DEMO_TODAY, hold_today

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'data' / 'outcomes.db'}"
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", url)
    monkeypatch.delenv("OUTCOMES_DEMO", raising=False)
    monkeypatch.setenv("OUTCOMES_PUBLIC_READ", "true")
    hold_today(monkeypatch, DEMO_TODAY)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield url
    st.cache_data.clear()
    st.cache_resource.clear()


def test_first_start_creates_the_database_loads_the_demo_and_shows_the_current_pi(
    fresh_url: str,
) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception

    engine = make_engine(fresh_url)
    with read_session(engine) as session:
        teams = session.scalar(select(func.count()).select_from(Team))
        current = session.scalar(
            select(PI).where(PI.start_date <= DEMO_TODAY, PI.end_date >= DEMO_TODAY)
        )
    engine.dispose()
    assert teams == 5 and current is not None and current.name == "PI 26.4"
    assert any(current.name in title.value.replace("\\", "") for title in at.title)  # escaped
    assert any("demo workspace" in info.value for info in at.info)
    assert at.query_params["pi"] == current.name
