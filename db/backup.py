"""Backup and restore. SQLite: a copy through the online backup API (safe while the app
writes). PostgreSQL: a JSON document of the workspace and the accounts (`pg_dump` is the
tool for a full server backup). Restore checks the file first and replaces the whole
database at once, or refuses and leaves the current database untouched."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import os
import re
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from core.access import Actor, can_administer
from core.errors import PermissionDenied, Problem, ValidationError
from db.audit import record_audit
from db.engine import is_sqlite, make_engine, read_session, sqlite_path, write_session
from db.files import PRIVATE_FILE, private_folder
from db.migrate import backup_sqlite_file, current_revision, head_revision, known_revisions, upgrade
from db.models import ROLES, Base, Outcome, Team, User, UserTeam
from db.sessions import check_session, end_sessions
from db.users import account_problems
from db.workspace import FORMAT as WORKSPACE_FORMAT
from db.workspace import export_workspace, write_workspace

BACKUP_FORMAT = "outcome-board-backup/1"
SQLITE_MAGIC = b"SQLite format 3\x00"
USER_FIELDS = ("username", "display_name", "email", "role", "active", "password_hash", "teams")


@dataclass(frozen=True)
class BackupResult:
    path: Path
    kind: str  # "sqlite" (a database file) or "json" (workspace and accounts)


@dataclass(frozen=True)
class RestoreResult:
    kind: str  # "sqlite" or "json": what the file was
    backup_revision: str | None  # the schema revision the file was written with
    revision: str  # the schema revision of the database now
    safety_copy: Path | None  # a copy of the replaced SQLite database
    summary: str


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%dT%H%M%S")


def _safety_copy(live: Path) -> Path:
    """The database as it was before a restore, kept beside it in `backups/`."""
    name = f"{live.stem}-before-restore-{_stamp()}{live.suffix}"
    return backup_sqlite_file(live, live.parent / "backups" / name)


def _same_file(a: Path, b: Path) -> bool:
    return a.exists() and b.exists() and a.resolve() == b.resolve()


# ---------------------------------------------------------------- backup


def backup_document(session: Session) -> dict[str, Any]:
    """Workspace and accounts as one JSON document that `restore` recognises. It carries
    password hashes (never passwords) but not the audit log, and the readings' entry
    details (who, when) become the restorer's."""
    users = session.scalars(select(User)).all()
    keys: dict[int, list[str]] = {}
    for user_id, key in session.execute(
        select(UserTeam.user_id, Team.key).join(Team, Team.id == UserTeam.team_id)
    ):
        keys.setdefault(user_id, []).append(key)
    return {
        "format": BACKUP_FORMAT,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "schema_revision": current_revision(session.get_bind()),
        "workspace": export_workspace(session),
        "users": [
            {
                "username": u.username,
                "display_name": u.display_name,
                "email": u.email,
                "role": u.role,
                "active": bool(u.active),
                "password_hash": u.password_hash,
                "teams": sorted(keys.get(u.id, [])),
            }
            for u in sorted(users, key=lambda u: u.username)
        ],
    }


def backup(engine: Engine, destination: Path) -> BackupResult:
    """Write a backup to `destination` (replaced atomically when it exists).

    SQLite: a database file made with the online backup API, consistent while the app
    writes. PostgreSQL, or a destination ending in `.json`: the JSON document of
    `backup_document`, read in one snapshot. For a full PostgreSQL server backup, with
    the audit log, use `pg_dump`."""
    destination = Path(destination)
    live = sqlite_path(engine)
    if live is not None and _same_file(live, destination):
        raise ValidationError(Problem("file", "is the database itself: choose another file"))
    private_folder(destination.parent)
    # mkstemp creates the file 0600, and the backup keeps that mode.
    handle, name = tempfile.mkstemp(prefix=f".{destination.name}.", dir=destination.parent)
    os.close(handle)
    partial = Path(name)
    try:
        if live is not None and destination.suffix.lower() != ".json":
            partial.unlink()
            backup_sqlite_file(live, partial)
            kind = "sqlite"
        else:
            snapshot = engine
            if not is_sqlite(engine):
                snapshot = engine.execution_options(isolation_level="REPEATABLE READ")
            with read_session(snapshot) as session:
                document = backup_document(session)
            partial.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", "utf-8")
            kind = "json"
        os.chmod(partial, PRIVATE_FILE)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(destination, kind)


# ---------------------------------------------------------------- restore


def _refuse(message: str) -> ValidationError:
    return ValidationError(Problem("file", message))


# Objects SQLite makes by itself; anything else in a backup must be one the migrations made.
_SQLITE_OWN = ("sqlite_sequence", "sqlite_stat1", "sqlite_stat2", "sqlite_stat3", "sqlite_stat4")


def sqlite_schema(connection: sqlite3.Connection) -> dict[str, Any]:
    """A SQLite database's schema as comparable values: every table's columns (name,
    declared type, NOT NULL, default, primary key), foreign keys, indexes with their
    uniqueness and columns, and CHECK constraints' text."""
    schema: dict[str, Any] = {}
    tables = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"
        )
        if name not in _SQLITE_OWN
    ]
    for table in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        columns = [
            (name, kind.upper(), bool(notnull), default, pk)
            for _, name, kind, notnull, default, pk in connection.execute(
                f"PRAGMA table_info({quoted})"
            )
        ]
        foreign = sorted(
            (row[2], row[3], row[4], row[6])
            for row in connection.execute(f"PRAGMA foreign_key_list({quoted})")
        )
        indexes = sorted(
            (
                bool(unique),
                tuple(r[2] for r in connection.execute(f'PRAGMA index_info("{name}")')),
            )
            for _, name, unique, *_ in connection.execute(f"PRAGMA index_list({quoted})")
        )
        sql = connection.execute(
            "SELECT sql FROM sqlite_master WHERE type='table' AND name=?", (table,)
        ).fetchone()[0]
        checks = sorted(" ".join(c.split()) for c in _CHECK.findall(sql or ""))
        schema[table] = {
            "columns": columns,
            "foreign": foreign,
            "indexes": indexes,
            "checks": checks,
        }
    return schema


_CHECK = re.compile(r"CONSTRAINT\s+\S+\s+CHECK\s*\((.*?)\)\s*(?:,|\)\s*$)", re.S | re.I)


@functools.lru_cache(maxsize=1)
def _expected_schema() -> str:
    """The schema the migrations make at head (a fresh file, built once per process)."""
    with tempfile.TemporaryDirectory(prefix="outcomes-schema-") as folder:
        reference = make_engine(f"sqlite:///{Path(folder) / 'reference.db'}")
        try:
            upgrade(reference)
        finally:
            reference.dispose()
        connection = sqlite3.connect(Path(folder) / "reference.db")
        try:
            return json.dumps(sqlite_schema(connection), sort_keys=True, default=str)
        finally:
            connection.close()


def check_sqlite_schema(path: Path) -> None:
    """Refuse a database (a backup upgraded to head) whose schema is not the one the
    migrations make: other columns, types or constraints break every command later, and
    a trigger or view runs whatever its author wrote on the next write."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        extra = connection.execute(
            "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'view') ORDER BY name"
        ).fetchall()
        if extra:
            kind, name = extra[0]
            raise _refuse(
                f"holds a {kind} (“{name}”) that Outcome Board never creates: refused, as it "
                "would run on the next write."
            )
        found = sqlite_schema(connection)
    finally:
        connection.close()
    expected = json.loads(_expected_schema())
    found = json.loads(json.dumps(found, sort_keys=True, default=str))
    for table in sorted(set(found) | set(expected)):
        if table not in expected:
            raise _refuse(f"has a table “{table}” that Outcome Board never creates.")
        if found.get(table) != expected[table]:
            raise _refuse(
                f"has a table “{table}” whose columns or constraints differ from what this "
                "version of Outcome Board creates."
            )


def check_sqlite_backup(path: Path) -> str:
    """The schema revision of an Outcome Board SQLite file; refuses a damaged or foreign
    file, or one written by a newer version."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise _refuse(f"cannot be opened as a SQLite database ({error}).") from error
    try:
        rows = connection.execute("PRAGMA integrity_check").fetchall()
        if [r[0] for r in rows] != ["ok"]:
            details = "; ".join(str(r[0]) for r in rows[:3])
            raise _refuse(f"is damaged: the integrity check failed ({details}).")
        tables = {
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        missing = sorted(set(Base.metadata.tables) - tables)
        if missing:
            raise _refuse(
                "is not an Outcome Board database (it lacks the tables "
                f"{', '.join(missing[:6])}{', ...' if len(missing) > 6 else ''})."
            )
        if "alembic_version" not in tables:
            raise _refuse("is not an Outcome Board database (it has no schema revision).")
        revisions = [r[0] for r in connection.execute("SELECT version_num FROM alembic_version")]
        if len(revisions) != 1 or revisions[0] not in known_revisions():
            raise _refuse(
                f"was written by a version of Outcome Board this one does not know (schema "
                f"revision {', '.join(revisions) or 'none'}; newest known {head_revision()})."
            )
        if connection.execute("PRAGMA foreign_key_check").fetchone() is not None:
            raise _refuse("is damaged: some records refer to records that do not exist.")
        return revisions[0]
    except sqlite3.DatabaseError as error:
        raise _refuse(f"is not a readable SQLite database ({error}).") from error
    finally:
        connection.close()


def restore(engine: Engine, source: Path, *, actor: Actor) -> RestoreResult:
    """Replace the whole database with a backup (admins only), writing an audit event
    "restore" into the restored database.

    The file is checked before anything changes: a SQLite backup must open, pass
    `PRAGMA integrity_check`, have every table and a schema revision this code knows; a
    JSON backup must be valid whole. Otherwise ValidationError, and the current database
    is untouched. An older SQLite backup is migrated to the current schema on a private
    copy before it replaces the database. On SQLite a copy of the replaced database is
    kept in `backups/` beside it. A SQLite backup restores into PostgreSQL too (that is
    how a workspace moves to PostgreSQL with its accounts)."""
    if not can_administer(actor):
        raise PermissionDenied("Only an admin may restore a backup.")
    with read_session(engine) as session:
        check_session(session, actor)
    # Checked now, against the accounts being replaced: the restored ones may not hold it.
    actor = dataclasses.replace(actor, session_version=None)
    source = Path(source)
    if not source.is_file():
        raise _refuse(f"“{source}” does not exist or is not a file.")
    live = sqlite_path(engine)
    if live is not None and _same_file(live, source):
        raise _refuse("is the database itself.")
    with source.open("rb") as handle:
        header = handle.read(len(SQLITE_MAGIC))
    if header == SQLITE_MAGIC:
        return _restore_sqlite_file(engine, source, actor=actor)
    return _restore_document(engine, _read_document(source), actor=actor, name=source.name)


def _read_document(source: Path) -> dict[str, Any]:
    neither = "is neither a SQLite backup nor a JSON backup of Outcome Board"
    try:
        document = json.loads(source.read_text("utf-8"))
    except UnicodeDecodeError as error:
        raise _refuse(f"{neither} (it is not text).") from error
    except json.JSONDecodeError as error:
        raise _refuse(f"{neither} (not JSON: {error}).") from error
    except RecursionError as error:  # about 1,000 levels: past Python's parser
        raise _refuse(f"{neither} (JSON nested too deeply).") from error
    if isinstance(document, dict) and document.get("format") == WORKSPACE_FORMAT:
        raise _refuse("is a workspace export, not a backup: use import-workspace for it.")
    if not isinstance(document, dict) or document.get("format") != BACKUP_FORMAT:
        raise _refuse(f"is not a backup of Outcome Board (expected format “{BACKUP_FORMAT}”).")
    return document


def _restore_sqlite_file(engine: Engine, source: Path, *, actor: Actor) -> RestoreResult:
    with tempfile.TemporaryDirectory(prefix="outcomes-restore-") as folder:
        # Work on a private copy: the caller's file stays as it was, and a WAL file can
        # be opened read-only without a -shm file beside it.
        copy = Path(folder) / "restore.db"
        shutil.copyfile(source, copy)
        backup_revision = check_sqlite_backup(copy)
        staging = make_engine(f"sqlite:///{copy}")
        try:
            upgrade(staging)
            staging.dispose()
            check_sqlite_schema(copy)
            if not is_sqlite(engine):
                with read_session(staging) as session:
                    document = backup_document(session)
                staging.dispose()
                result = _restore_document(engine, document, actor=actor, name=source.name)
                return RestoreResult(
                    "sqlite", backup_revision, result.revision, None, result.summary
                )
            summary = f"Restored the database from {source.name} (schema {backup_revision})"
            # The audit event goes into the copy, so it arrives with the data at once.
            with write_session(staging) as session:
                # Every session signed in before the restore ends (a JSON restore's new
                # accounts get fresh versions as they are created).
                for user in session.scalars(select(User)):
                    end_sessions(user)
                record_audit(
                    session,
                    actor=actor,
                    action="restore",
                    entity="database",
                    entity_id=None,
                    summary=summary,
                    after={"file": source.name, "kind": "sqlite", "revision": backup_revision},
                )
            with staging.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            staging.dispose()
        live = sqlite_path(engine)
        assert live is not None, "an in-memory SQLite database cannot be restored"
        safety = _safety_copy(live)
        _copy_into(copy, engine)
    return RestoreResult("sqlite", backup_revision, current_revision(engine) or "", safety, summary)


def _copy_into(copy: Path, engine: Engine) -> None:
    """Replace the live database's pages with the copy's in one write transaction of the
    backup API (it waits for the write lock like any writer)."""
    probe = sqlite3.connect(copy)
    try:
        source_page = probe.execute("PRAGMA page_size").fetchone()[0]
    finally:
        probe.close()
    raw = engine.raw_connection()
    try:
        target = raw.driver_connection
        live_page = target.execute("PRAGMA page_size").fetchone()[0]
        if source_page != live_page:
            # A WAL database only accepts pages of its own size: rebuild the copy so.
            with sqlite3.connect(copy, isolation_level=None) as fix:
                fix.execute("PRAGMA journal_mode=DELETE")
                fix.execute(f"PRAGMA page_size={int(live_page)}")
                fix.execute("VACUUM")
            fix.close()
        source = sqlite3.connect(copy)
        try:
            source.backup(target)
        finally:
            source.close()
    finally:
        raw.close()


def _users_from(document: dict[str, Any], team_keys: set[str]) -> list[dict[str, Any]]:
    problems: list[Problem] = []
    users = document.get("users") or []
    if not isinstance(users, list):
        raise ValidationError(Problem("users", "must be a list"))
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, raw in enumerate(users):
        label = raw.get("username") if isinstance(raw, dict) else None
        where = f"users[{i}] ({label})" if isinstance(label, str) else f"users[{i}]"
        if not isinstance(raw, dict):
            problems.append(Problem(where, "must be an object with fields"))
            continue
        bad = len(problems)
        for name in raw:
            if name not in USER_FIELDS:
                problems.append(Problem(f"{where}.{name}", "unknown field"))
        username = raw.get("username")
        if not isinstance(username, str) or not username.strip():
            problems.append(Problem(f"{where}.username", "is required"))
        elif username.lower() in seen:
            problems.append(Problem(f"{where}.username", "repeats an earlier user"))
        else:
            seen.add(username.lower())
        problems.extend(
            Problem(f"{where}.{p.where}", p.message)
            for p in account_problems(
                username=username,
                display_name=raw.get("display_name"),
                email=raw.get("email"),
                password_hash=raw.get("password_hash"),
            )
            if p.where != "username" or (isinstance(username, str) and username.strip())
        )
        if raw.get("role") not in ROLES:
            problems.append(Problem(f"{where}.role", f"must be one of {', '.join(ROLES)}"))
        for name in ("display_name", "email", "password_hash"):
            if raw.get(name) is not None and not isinstance(raw.get(name), str):
                problems.append(Problem(f"{where}.{name}", "must be text"))
        if not isinstance(raw.get("active", True), bool):
            problems.append(Problem(f"{where}.active", "must be true or false"))
        teams = raw.get("teams") or []
        if not isinstance(teams, list) or not all(isinstance(k, str) for k in teams):
            problems.append(Problem(f"{where}.teams", "must be a list of team keys"))
            teams = []
        for key in teams:
            if key not in team_keys:
                problems.append(Problem(f"{where}.teams", f"no team with key “{key}”"))
        if len(problems) == bad:
            clean.append({**raw, "teams": teams})
    if problems:
        raise ValidationError(problems)
    return clean


def empty_database(session: Session) -> None:
    """Delete every row of every table (a JSON restore's first step, in its transaction)."""
    session.execute(update(Outcome).values(parent_id=None))
    for table in reversed(Base.metadata.sorted_tables):
        session.execute(delete(table))


def _restore_document(
    engine: Engine, document: dict[str, Any], *, actor: Actor, name: str
) -> RestoreResult:
    """Empty the database and write the document's workspace and accounts, all in one
    transaction: any problem rolls everything back."""
    workspace = document.get("workspace")
    teams = workspace.get("teams") if isinstance(workspace, dict) else None
    team_keys = {t.get("key") for t in teams or [] if isinstance(t, dict)}
    users = _users_from(document, team_keys)
    safety = None
    live = sqlite_path(engine)
    with write_session(engine) as session:
        empty_database(session)
        session.flush()
        try:
            summary, _ = write_workspace(session, actor=actor, document=workspace)
        except ValidationError as error:
            raise ValidationError(
                [Problem(f"workspace.{p.where}", p.message) for p in error.problems]
            ) from error
        team_ids = {key: id_ for key, id_ in session.execute(select(Team.key, Team.id))}
        for raw in users:
            user = User(
                username=raw["username"].strip(),
                display_name=raw.get("display_name") or "",
                email=raw.get("email"),
                role=raw["role"],
                active=raw.get("active", True),
                password_hash=raw.get("password_hash"),
                failed_attempts=0,
                lockouts=0,
            )
            end_sessions(user)  # no session signed in before the restore continues
            session.add(user)
            session.flush()
            session.add_all(UserTeam(user_id=user.id, team_id=team_ids[k]) for k in raw["teams"])
        session.flush()
        if live is not None:
            # Still before our commit: the copy reads the database as it was (WAL).
            safety = _safety_copy(live)
        text = f"Restored the database from {name} ({summary.describe()}; {len(users)} users)"
        record_audit(
            session,
            actor=actor,
            action="restore",
            entity="database",
            entity_id=None,
            summary=text,
            after={"file": name, "kind": "json", "created": dict(summary.created)},
        )
    return RestoreResult(
        "json", document.get("schema_revision"), current_revision(engine) or "", safety, text
    )
