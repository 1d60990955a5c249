"""The data version: one row that every committed write transaction changes, read once
per page run so that every app process's caches follow writes made anywhere.

Why a hook on the engine's commit, not a line in each write function: writes arrive by
the ORM, by Core, by driver SQL (`exec_driver_sql` bulk inserts), by PostgreSQL's COPY on
the raw cursor and by migrations; all of them commit through a connection of an engine
made by `db.engine.make_engine`, so bumping there covers them all, and a new write path
cannot forget it. Why the last statement before COMMIT: on PostgreSQL the row lock is
then held only for the commit itself, and a transaction that holds it waits for nothing
else, so writers never deadlock on it (a trigger would take it at the first statement).

Why a random token beside the counter: a restore replaces the database with one whose
counter may equal the current one; a fresh token per write never repeats.

Which transactions bump: writers (`write_session`, migrations: the WRITE_OPTION), and any
other transaction that ran INSERT/UPDATE/DELETE/DDL. A writer that changed nothing bumps
too: that costs each process one cache miss, never a stale page. Writes made outside our
code (SQL typed into psql) do not bump; any write through the app or `manage.py` after
them does."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

TABLE = "data_version"
_CHANGED = "outcomes_changed"  # key in Connection.info: this transaction wrote
_CHANGING_SQL = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|TRUNCATE|COPY)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class DataVersion:
    """What a page run keys its caches on, and the schema revision it found."""

    token: str  # "" when the database has no data_version table (schema too old)
    counter: int
    revision: str | None  # alembic_version.version_num


def read_data_version(session: Session) -> DataVersion:
    """One query: the data version and the schema revision (a process must not serve pages
    on a schema older than its code). A database without the table reads as empty."""
    try:
        row = session.execute(
            text(
                "SELECT d.token, d.counter, (SELECT version_num FROM alembic_version) "
                "FROM data_version d WHERE d.id = 1"
            )
        ).one_or_none()
    except DBAPIError:
        session.rollback()  # PostgreSQL: the failed statement aborted the transaction
        return DataVersion(token="", counter=0, revision=_revision_or_none(session))
    if row is None:  # the row was deleted by hand; writes put it back
        return DataVersion(token="", counter=0, revision=_revision_or_none(session))
    return DataVersion(token=row[0], counter=int(row[1]), revision=row[2])


def _revision_or_none(session: Session) -> str | None:
    try:
        return session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        session.rollback()
        return None


def bump_data_version(dbapi_connection: Any, dialect_name: str) -> None:
    """Change the version inside the caller's open transaction (raw DBAPI, so it works
    from the commit hook and after COPY). No table yet (a migration below 0005): nothing."""
    cursor = dbapi_connection.cursor()
    try:
        if dialect_name == "postgresql":
            cursor.execute("SELECT to_regclass('data_version') IS NOT NULL")
        else:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'data_version'"
            )
        if not cursor.fetchone()[0]:
            return
        # The token is our own hex: safe to inline, and the same SQL on both drivers.
        token = uuid.uuid4().hex
        cursor.execute(
            f"UPDATE data_version SET counter = counter + 1, token = '{token}' WHERE id = 1"
        )
        if cursor.rowcount == 0:  # a JSON restore empties every table, this one too
            cursor.execute(
                f"INSERT INTO data_version (id, counter, token) VALUES (1, 1, '{token}')"
            )
    finally:
        cursor.close()


def install_version_hooks(engine: Engine, *, write_option: str, unseen_option: str) -> None:
    """Make every committed write transaction on `engine` change the data version;
    `write_option` is the execution option that marks a writer connection, `unseen_option`
    one whose writes no page shows (it never bumps)."""

    @event.listens_for(engine, "after_cursor_execute")
    def _note_write(  # type: ignore[no-untyped-def]
        connection: Connection, _cursor, statement: str, _params, context, _many
    ) -> None:
        compiled_write = context is not None and (
            context.isinsert or context.isupdate or context.isdelete
        )
        if compiled_write or _CHANGING_SQL.match(statement):
            connection.info[_CHANGED] = True

    @event.listens_for(engine, "commit")
    def _bump(connection: Connection) -> None:
        changed = connection.info.pop(_CHANGED, False)
        options = connection.get_execution_options()
        if options.get(unseen_option):
            return
        if changed or options.get(write_option):
            bump_data_version(connection.connection.dbapi_connection, connection.dialect.name)

    @event.listens_for(engine, "rollback")
    def _forget(connection: Connection) -> None:
        connection.info.pop(_CHANGED, None)
