"""Schema migrations: apply Alembic's revisions up to head, once per process, copying a
SQLite file aside first; refuse a database that is newer than this code."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from db.engine import WRITE_OPTION, sqlite_path
from db.files import private_file

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_migrated: set[str] = set()
# Any fixed number shared by every process of this app: the advisory lock's key.
MIGRATION_LOCK_KEY = 727274
_lock = threading.Lock()


class SchemaTooNewError(RuntimeError):
    """The database was migrated by a newer version of Outcome Board."""


@dataclass(frozen=True)
class MigrationResult:
    before: str | None  # revision before, None for an empty database
    after: str
    backup: Path | None  # the copy of the SQLite file taken before upgrading

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations found"
    return head


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def backup_sqlite_file(source: Path, destination: Path) -> Path:
    """Copy a live SQLite database consistently (the online backup API, safe while the
    app writes)."""
    private_file(destination)  # a copy of every account's hash: 0600 before a page lands
    with sqlite3.connect(source) as src, sqlite3.connect(destination) as dst:
        src.backup(dst)
    dst.close()
    src.close()
    return destination


def upgrade(engine: Engine) -> MigrationResult:
    """Migrate to head. Idempotent; when several processes start at once, one migrates and
    the others wait for it, then find the database at head (PostgreSQL: an advisory lock;
    SQLite: BEGIN IMMEDIATE, the write lock). `before` is read under that lock, so only
    the process that really migrated an empty database reports it as new."""
    head = head_revision()
    before = current_revision(engine)
    refuse_unknown_revision(before, head)
    if before == head:  # the common start: no lock, no write
        return MigrationResult(before, head, None)

    config = alembic_config()
    writer = engine.execution_options(**{WRITE_OPTION: True})
    backup = None
    with writer.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch migrations rebuild tables; foreign keys must be off, and the pragma
            # is ignored inside a transaction, so set it on the raw connection first.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        with connection.begin():
            if connection.dialect.name == "postgresql":
                # Held to the end of this transaction: a second process waits here.
                connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"))
            before = MigrationContext.configure(connection).get_current_revision()
            refuse_unknown_revision(before, head)
            if before != head:
                backup = _backup_before_upgrade(engine, head)
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        if connection.dialect.name == "sqlite":
            raw = connection.connection.driver_connection
            raw.execute("PRAGMA foreign_keys=ON")
            problems = raw.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"Migration left broken foreign keys: {problems[:5]}")
    return MigrationResult(before, head, backup)


def refuse_unknown_revision(revision: str | None, head: str) -> None:
    if revision is not None and revision not in known_revisions():
        raise SchemaTooNewError(
            f"The database is at schema revision {revision}, which this version of Outcome "
            f"Board does not know (its newest is {head}). It was written by a newer "
            "version: upgrade the app instead of opening it with this one."
        )


def _backup_before_upgrade(engine: Engine, head: str) -> Path | None:
    """SQLite DDL is not transactional under Alembic: copy the file aside first (a reader
    in WAL mode, so it works while this connection holds the write lock)."""
    path = sqlite_path(engine)
    if path is None or not path.exists() or not _has_tables(engine):
        return None
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    return backup_sqlite_file(
        path, path.parent / "backups" / f"{path.stem}-before-{head}-{stamp}{path.suffix}"
    )


def ensure_schema(engine: Engine) -> MigrationResult | None:
    """Migrate once per process and database (pages call this on every run)."""
    key = str(engine.url)
    if key in _migrated:
        return None
    with _lock:
        if key in _migrated:
            return None
        result = upgrade(engine)
        _migrated.add(key)
        return result


def _has_tables(engine: Engine) -> bool:
    return bool(inspect(engine).get_table_names())
