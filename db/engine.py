"""Engine and sessions: the database URL, SQLite's pragmas, and transactions that take the
write lock up front so concurrent writers wait instead of failing."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from db.files import private_file
from db.version import install_version_hooks

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'outcomes.db'}"
BUSY_TIMEOUT_MS = 30_000

# Execution option that marks a connection as a writer: on SQLite its BEGIN becomes
# BEGIN IMMEDIATE (FACTS.md: deferred BEGIN makes concurrent read-then-write fail at once).
WRITE_OPTION = "outcomes_write"
# A writer whose rows no page shows (sign-in throttling): its commit keeps the data version,
# so a stream of failed sign-ins cannot empty every process's caches.
UNSEEN_OPTION = "outcomes_unseen"


def database_url() -> str:
    """`OUTCOMES_DATABASE_URL`, or the SQLite file next to the app."""
    return os.environ.get("OUTCOMES_DATABASE_URL") or DEFAULT_DATABASE_URL


def is_sqlite(engine_or_url: Engine | str) -> bool:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def sqlite_path(engine: Engine) -> Path | None:
    """The database file of a SQLite engine; None for PostgreSQL or in-memory SQLite."""
    if not is_sqlite(engine):
        return None
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database)


def make_engine(url: str | None = None) -> Engine:
    """A plain engine factory; only `ui/` caches its result (st.cache_resource)."""
    url = url or database_url()
    if not is_sqlite(url):
        engine = create_engine(url, pool_pre_ping=True)
        install_version_hooks(engine, write_option=WRITE_OPTION, unseen_option=UNSEEN_OPTION)
        return engine

    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:" and not parsed.query.get("mode"):
        path = Path(parsed.database)
        if not path.exists():
            private_file(path)  # 0600 in a 0700 folder; its WAL and -shm follow it
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _use_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # type: ignore[no-untyped-def]
        if connection.get_execution_options().get(WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    install_version_hooks(engine, write_option=WRITE_OPTION, unseen_option=UNSEEN_OPTION)
    return engine


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """Put the database in WAL mode, waiting out another connection's write. Switching
    from a rollback journal needs an exclusive lock, and SQLite answers "database is
    locked" at once instead of calling the busy handler (it would risk a deadlock), so a
    process starting beside one that migrates a new file would fail (CI, 2026-12-04)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            return  # reading the mode waits for locks as any read does
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(0.05)


@contextmanager
def write_session(engine: Engine, *, seen_by_pages: bool = True) -> Iterator[Session]:
    """One write transaction: commits on success, rolls back on any error.

    Every write function runs inside one of these, with its audit event. Only a writer of
    rows no page shows passes `seen_by_pages=False`: its commit leaves the data version
    (and so every cache) alone."""
    options = {WRITE_OPTION: True} if seen_by_pages else {WRITE_OPTION: True, UNSEEN_OPTION: True}
    writer = engine.execution_options(**options)
    with Session(writer, expire_on_commit=False, autoflush=True) as session, session.begin():
        yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A read session; on SQLite its transaction takes no write lock. Closing it ends the
    transaction without expiring what was loaded, so results stay usable afterwards."""
    with Session(engine, expire_on_commit=False) as session:
        yield session
