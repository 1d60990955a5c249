"""The page caches: a chart's spec is built once for the same data and again for new
data; a shared read hands out one object until a write clears it, a copied read a fresh
copy each time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

import ui.chart_cache
from ui.data import cached_read, clear_reads

DAY = dt.date(2026, 11, 2)


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def sparkline_builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many points each sparkline build got; the pages draw through CHARTS."""
    builds: list[int] = []
    build = ui.chart_cache.CHARTS["sparkline"]

    def counted(readings: Any, **kwargs: Any) -> Any:
        builds.append(len(readings))
        return build(readings, **kwargs)

    monkeypatch.setitem(ui.chart_cache.CHARTS, "sparkline", counted)
    return builds


def sparkline_page(values: list[float]) -> None:
    import datetime as dt

    import streamlit as st

    from ui.chart_cache import show_chart
    from ui.charts import readings_frame

    day = dt.date(2026, 11, 2)
    points = [(day - dt.timedelta(days=7 * i), v) for i, v in enumerate(values)]
    show_chart("sparkline", readings_frame(points), as_of=day, health="on_track", height=34)
    st.write("drawn")


def chart_datasets(at: AppTest) -> list[bytes]:
    charts = [e for e in at.main if getattr(e, "type", "") == "vega_lite_chart"]
    assert len(charts) == 1
    return [dataset.data.data for dataset in charts[0].proto.datasets]


def test_a_chart_is_built_once_for_the_same_data(
    fresh_caches: None, sparkline_builds: list[int]
) -> None:
    first = AppTest.from_function(sparkline_page, args=([2.0, 2.5, 3.0],)).run()
    again = AppTest.from_function(sparkline_page, args=([2.0, 2.5, 3.0],)).run()
    newer = AppTest.from_function(sparkline_page, args=([2.0, 2.5, 3.0, 3.5],)).run()

    assert not first.exception and not again.exception and not newer.exception
    assert sparkline_builds == [3, 4]  # the second page run drew from the cache
    # The data reaches the browser as Arrow, as st.vega_lite_chart would send it.
    datasets = chart_datasets(again)
    assert datasets and all(data.startswith(b"\xff\xff\xff\xff") for data in datasets)
    assert chart_datasets(first) == datasets != chart_datasets(newer)


def test_a_shared_read_is_one_object_until_a_write_clears_it(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", database_url)
    reads: list[int] = []

    def read_numbers(session: Any, *, n: int) -> tuple[int, ...]:
        reads.append(n)
        return tuple(range(n))

    shared = cached_read(read_numbers, copy=False)
    copied = cached_read(read_numbers)

    first = shared(n=3)
    assert shared(n=3) is first and reads == [3]
    assert copied(n=4) == copied(n=4) and reads == [3, 4]
    clear_reads()
    assert shared(n=3) == first and shared(n=3) is not first
    assert copied(n=4) == (0, 1, 2, 3) and reads == [3, 4, 3, 4]


def trains_page() -> None:
    from typing import Any  # noqa: F401 (the page runs as a script of its own, annotations evaluated)

    import streamlit as st
    from sqlalchemy import func, select

    from db.models import Train
    from ui.data import cached_read, current_data_version

    def count_trains(session: Any) -> int:
        st.session_state["queries"] = st.session_state.get("queries", 0) + 1
        return session.scalar(select(func.count()).select_from(Train)) or 0

    trains = cached_read(count_trains)
    for _ in range(3):  # every read of a run shares the run's one version
        current_data_version()
    st.write(f"{trains()} trains")


def test_a_write_by_another_process_shows_on_the_next_run_and_only_then(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    """Another engine stands in for another app process or `manage.py record`: its write
    clears nothing in this process, yet the next run shows it; runs without a write in
    between read nothing but the version, once per run."""
    from db.engine import make_engine, write_session
    from db.models import Train
    from ui import data

    monkeypatch.setenv("OUTCOMES_DATABASE_URL", database_url)
    version_reads: list[int] = []
    read_version = data.read_data_version

    def counted(session: Any) -> Any:
        version_reads.append(1)
        return read_version(session)

    monkeypatch.setattr(data, "read_data_version", counted)
    at = AppTest.from_function(trains_page).run()
    at.run()
    assert not at.exception
    assert at.markdown[0].value == "0 trains" and at.session_state["queries"] == 1
    # Once per run, not once per read; and once in the read that ran the query.
    assert len(version_reads) == 3

    other = make_engine(database_url)
    with write_session(other) as session:
        session.add(Train(name="Payments"))
    other.dispose()
    at.run()

    assert not at.exception
    assert at.markdown[0].value == "1 trains" and at.session_state["queries"] == 2


@pytest.mark.parametrize("page_file", ["app.py", "pages/team.py", "pages/review.py"])
def test_viewing_pages_writes_nothing_so_their_reads_stay_cached(
    engine: Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    fresh_caches: None,
    page_file: str,
) -> None:
    """A page run that wrote would change the version and empty every process's caches."""
    from db.engine import PROJECT_ROOT, read_session
    from db.version import read_data_version

    monkeypatch.setenv("OUTCOMES_DATABASE_URL", database_url)
    monkeypatch.setenv("OUTCOMES_DEMO", "false")
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)
    if page_file != "app.py":
        at.switch_page(page_file)
    at.run()
    with read_session(engine) as session:
        before = read_data_version(session)
    at.run()
    at.run()
    assert not at.exception
    with read_session(engine) as session:
        assert read_data_version(session) == before
