"""Migrations under several processes: two app processes starting at once against an
empty or an older database migrate it exactly once (and load the demo once), and a
process never serves a page on a schema older than its code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import alembic.command
import pytest
import streamlit as st
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from db.engine import PROJECT_ROOT, make_engine, read_session
from db.migrate import current_revision, head_revision
from db.models import AuditEvent, Train
from tests.reliability.test_migrations import _alembic

pytestmark = pytest.mark.slow

# One app process's start, as `streamlit run` does it (ui.data.prepare_database), with
# Alembic's upgrade slowed by a second so that the two processes surely overlap: without
# the lock and the revision read under it, both would migrate and both load the demo.
START = """
import json, sys, time
import alembic.command
from db.engine import make_engine
from ui.data import prepare_database

real_upgrade = alembic.command.upgrade
def slow_upgrade(*args, **kwargs):
    time.sleep(1.0)
    return real_upgrade(*args, **kwargs)
alembic.command.upgrade = slow_upgrade

engine = make_engine(sys.argv[1])
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
result = prepare_database(engine)
print(json.dumps({"before": result.before, "after": result.after}))
"""


def _start_two_at_once(url: str) -> list[dict[str, str | None]]:
    start_at = f"{time.time() + 6:.3f}"  # both have imported everything by then
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", START, url, start_at],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**_environment(), "OUTCOMES_DEMO": "true"},
        )
        for _ in range(2)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "OUTCOMES_DATABASE_URL"}


def test_two_processes_on_an_empty_database_migrate_it_and_load_the_demo_once(
    empty_url: str,
) -> None:
    results = _start_two_at_once(empty_url)

    head = head_revision()
    assert sorted(results, key=lambda r: r["before"] or "") == [
        {"before": None, "after": head},  # this one migrated (and loaded the demo)
        {"before": head, "after": head},  # this one waited for it, then found it done
    ]
    engine = make_engine(empty_url)
    try:
        assert current_revision(engine) == head
        with read_session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Train)) == 1
            demo_events = select(func.count()).where(AuditEvent.summary == "demo workspace")
            assert session.scalar(demo_events) == 1
    finally:
        engine.dispose()


def test_two_processes_on_an_older_database_migrate_it_once(database_url: str) -> None:
    engine = make_engine(database_url)
    _alembic(engine, "downgrade", "0002")
    engine.dispose()

    results = _start_two_at_once(database_url)

    head = head_revision()
    assert sorted(r["before"] for r in results) == sorted(["0002", head])
    assert all(r["after"] == head for r in results)


# ---------------------------------------------------------------- older than the code


@pytest.fixture
def served(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An app process (AppTest) that has served a page on a database at head."""
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", database_url)
    monkeypatch.setenv("OUTCOMES_DEMO", "false")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield database_url
    st.cache_data.clear()
    st.cache_resource.clear()


def _downgraded_under_the_process(url: str) -> None:
    """What a restore of an old backup by hand, or an old tool, could do meanwhile."""
    engine = make_engine(url)
    _alembic(engine, "downgrade", "0002")
    engine.dispose()


def test_a_schema_made_older_under_a_running_process_is_migrated_before_a_page(
    served: str,
) -> None:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception and not at.error
    _downgraded_under_the_process(served)

    at.run()

    assert not at.exception and not at.error
    engine = make_engine(served)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_a_process_refuses_pages_when_the_schema_is_older_and_cannot_be_migrated(
    served: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception and at.title
    _downgraded_under_the_process(served)

    def fails(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("permission denied for schema public")

    monkeypatch.setattr(alembic.command, "upgrade", fails)
    at.run()

    assert not at.exception
    assert [error.value for error in at.error] == [
        f"The database is at schema revision 0002, older than this version of Outcome Board "
        f"needs ({head_revision()}), and migrating it failed: permission denied for schema "
        "public. Run `python manage.py init` once, then reload this page."
    ]
    assert not at.title and not at.dataframe  # nothing else of the page ran
