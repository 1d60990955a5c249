"""Shared fixtures: a fresh, migrated database per test, on SQLite and (when
`OUTCOMES_TEST_POSTGRES_URL` is set) on PostgreSQL too."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from core.access import Actor
from db.engine import make_engine
from db.migrate import upgrade
from tests.app_server import clock_on

POSTGRES_URL = os.environ.get("OUTCOMES_TEST_POSTGRES_URL", "")
REQUIRE_ALL = os.environ.get("OUTCOMES_REQUIRE_ALL") == "1"
DEMO_TODAY = dt.date(2026, 11, 2)  # a fixed "today" so demo-based tests never drift


def skip_or_fail(reason: str) -> None:
    """Skip a test whose tool is missing, or fail when CI requires every test to run."""
    if REQUIRE_ALL:
        pytest.fail(f"OUTCOMES_REQUIRE_ALL=1 but {reason}")
    pytest.skip(reason)


def hold_today(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    """Make `dt.date.today()` return `day` for the rest of the test, everywhere in this
    process (pages run by AppTest included). CPython's `date.today()` reads the clock
    through `time.time`, so shifting that by a constant is enough: dates stay real `date`
    objects (the write path checks the exact type), `datetime.now()` and timestamps keep
    the real clock, and the shifted clock still ticks, so timeouts and elapsed times hold.
    A helper rather than a library (freezegun swaps `datetime.date` for a subclass, which
    the write path's exact type check refuses). Servers started by tests hold their day
    the same way (tests/app_server.py)."""
    monkeypatch.setattr(time, "time", clock_on(day))
    assert dt.date.today() == day, "date.today() no longer reads time.time"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (pyproject's addopts): two workers per CPU, because much of a worker's
    time is spent waiting on other processes (Chromium, `streamlit run`, writer processes)
    rather than running Python. Measured on 2 CPUs, no PostgreSQL: one process 22 min 40 s;
    2 workers taking whole modules 18 min 55 s, 4 workers 17 min 56 s; 4 workers with
    `--dist worksteal` (the addopts) 17 min 16 s."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return 2 * (cpus or 1)


def _backends() -> list[str]:
    return ["sqlite", "postgresql"]


@pytest.fixture(autouse=True)
def _main_module_restored() -> Iterator[None]:
    """Put pytest's own `__main__` back after each test. AppTest runs a page as
    `sys.modules["__main__"]` and leaves it there, and a process started later with
    `spawn` re-runs the parent's `__main__` file: a writer spawned after a page test
    ran app.py against the default database and died (CI, backup-while-writing test)."""
    main_module = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main_module


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test (migrating per test is slower)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def postgres_url(name: str) -> str:
    """The URL of database `name` on the test PostgreSQL server."""
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@contextmanager
def postgres_database(prefix: str, *, template: str = "") -> Iterator[str]:
    """A new database on the test PostgreSQL server, empty or a copy of `template`; its
    URL, and it is dropped afterwards (connections still open are ended). Skips (or fails
    under OUTCOMES_REQUIRE_ALL) without a server."""
    if not POSTGRES_URL:
        skip_or_fail("OUTCOMES_TEST_POSTGRES_URL is not set (PostgreSQL tests)")
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield postgres_url(name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A migrated template database; each test gets `CREATE DATABASE ... TEMPLATE` of it."""
    if not POSTGRES_URL:
        yield ""
        return
    with postgres_database("outcomes_tpl") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield make_url(url).database or ""


@pytest.fixture(params=_backends())
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path, postgres_template: str
) -> Iterator[str]:
    """The URL of a fresh, migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "outcomes.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    with postgres_database("outcomes_t", template=postgres_template) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def sqlite_copy(template: Path, path: Path) -> Engine:
    """An engine on a fresh copy of the migrated SQLite template at `path`."""
    shutil.copy(template, path)
    return make_engine(f"sqlite:///{path}")


@pytest.fixture
def sqlite_engine(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Engine]:
    """For tests that are about SQLite itself (pragmas, files, backups). Every other
    database test takes `engine` and runs on PostgreSQL too; so a test asking for this
    one says why with `@pytest.mark.sqlite_only("...")`, or fails here."""
    marker = request.node.get_closest_marker("sqlite_only")
    if marker is None or not marker.args:
        pytest.fail('sqlite_engine without @pytest.mark.sqlite_only("why"): use `engine`')
    engine = sqlite_copy(sqlite_template, tmp_path / "outcomes.db")
    yield engine
    engine.dispose()


@pytest.fixture
def admin() -> Actor:
    return Actor.system("test-admin")
