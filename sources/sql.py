"""The `sql` adapter: run a read-only query on a named connection (any SQLAlchemy URL),
in a transaction that is always rolled back, with a statement timeout where the dialect
has one, reading at most `limit + 1` rows."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import Connection as DbConnection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from core.sources import RawPoint, SourceError, SourceSpec, points_from_rows, too_many
from sources.connections import Connection

# Inside `shared_engines()` (one sync run): one engine, with its small pool, per connection
# URL. A sync of 500 metrics on one warehouse otherwise builds and disposes 500 engines
# and opens 500 connections (0.50 s of fetching against 0.015 s of queries, issue 12).
_run_engines: ContextVar[dict[str, Engine] | None] = ContextVar("sql_source_engines", default=None)


@contextmanager
def shared_engines() -> Iterator[None]:
    """Reuse one engine per SQL connection for the sources fetched inside; dispose them
    (closing their connections) when the block ends, so nothing stays open after a sync."""
    token = _run_engines.set({})
    try:
        yield
    finally:
        engines = _run_engines.get() or {}
        _run_engines.reset(token)
        for engine in engines.values():
            engine.dispose()


def _read_only(connection: DbConnection, timeout: float) -> None:
    """Make the transaction read-only and bounded in time, as far as the dialect allows."""
    name = connection.dialect.name
    millis = max(1, int(timeout * 1000))
    if name == "postgresql":
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {millis}")
    elif name in ("mysql", "mariadb"):
        connection.exec_driver_sql(f"SET SESSION max_execution_time = {millis}")
    elif name == "sqlite":
        raw = connection.connection.driver_connection
        raw.execute("PRAGMA query_only = ON")  # type: ignore[union-attr]
        deadline = time.monotonic() + timeout
        # SQLite has no statement timeout: interrupt the query from its progress handler.
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)  # type: ignore[union-attr]


def fetch_sql(
    spec: SourceSpec,
    connection: Connection,
    *,
    today: dt.date,
    timeout: float,
    limit: int,
) -> list[RawPoint]:
    try:
        url = make_url(connection.url)
    except ArgumentError:
        raise SourceError(f"connection '{connection.name}' has no valid database URL") from None
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        if not path or path == ":memory:" or not Path(path).is_file():
            # create_engine would make an empty file and report "no such table".
            raise SourceError(f"connection '{connection.name}': the SQLite file does not exist")
    connect_args: dict[str, object] = {}
    if url.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = max(1, int(timeout))
    elif url.get_backend_name() == "sqlite":
        connect_args["timeout"] = timeout
    shared = _run_engines.get()
    key = f"{url.render_as_string(hide_password=False)}|{timeout}"
    engine = shared.get(key) if shared is not None else None
    if engine is None:
        try:
            if shared is None:
                engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
            else:
                engine = create_engine(url, pool_size=1, max_overflow=0, connect_args=connect_args)
                shared[key] = engine
        except (NoSuchModuleError, ImportError) as error:
            raise SourceError(
                f"connection '{connection.name}': the database driver is not installed ({error})"
            ) from None
    try:
        with engine.connect() as db:
            transaction = db.begin()
            try:
                _read_only(db, timeout)
                # Straight to the driver without parameters, so no layer reads the query's
                # colons or percent signs (LIKE 'a%') as placeholders.
                cursor = db.connection.cursor()
                try:
                    cursor.execute(spec.query)
                    if cursor.description is None:
                        raise SourceError("the query returns no rows: write a SELECT")
                    columns = [column[0] for column in cursor.description]
                    rows = cursor.fetchmany(limit + 1)
                finally:
                    cursor.close()
            finally:
                transaction.rollback()
    except SourceError:
        raise
    except (DBAPIError, SQLAlchemyError, sqlite3.Error) as error:
        raise SourceError(_driver_message(error, timeout)) from None
    except Exception as error:
        dbapi_error = getattr(getattr(engine.dialect, "dbapi", None), "Error", None)
        if dbapi_error is not None and isinstance(error, dbapi_error):
            raise SourceError(_driver_message(error, timeout)) from None
        raise
    finally:
        if shared is None:
            engine.dispose()
    if len(rows) > limit:
        raise SourceError(too_many(limit))
    return points_from_rows(columns, [tuple(row) for row in rows], today)


def _driver_message(error: BaseException, timeout: float) -> str:
    """The driver's reason in one line, without SQLAlchemy's statement echo and link."""
    original = getattr(error, "orig", None) or error
    text = " ".join(str(original).split())
    lowered = text.lower()
    if (
        "statement timeout" in lowered
        or "interrupted" in lowered
        or "max_execution_time" in lowered
    ):
        return f"the query took longer than {timeout:g} s and was stopped"
    return f"the query failed: {text[:400]}"
