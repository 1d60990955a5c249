"""Backup and restore: consistent while the app writes, whole or not at all, and a damaged
or foreign file leaves the current database untouched."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select

from core.access import Actor
from core.errors import PermissionDenied, ValidationError
from db import users
from db.audit import record_audit
from db.backup import BACKUP_FORMAT, backup, restore
from db.engine import make_engine, read_session, write_session
from db.models import AuditEvent, Metric, Reading, Team
from db.users import authenticate, create_user
from db.workspace import export_workspace, import_workspace
from tests.conftest import sqlite_copy
from tests.db.test_workspace import EXAMPLE, FULL

ADMIN = Actor.system("test-admin")
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def other_sqlite(tmp_path: Path, sqlite_template: Path) -> Iterator[Engine]:
    """A second fresh SQLite database beside the test's own."""
    engine = sqlite_copy(sqlite_template, tmp_path / "other.db")
    yield engine
    engine.dispose()


def _fill(engine: Engine, document: dict[str, Any] = FULL) -> None:
    with write_session(engine) as session:
        import_workspace(session, actor=ADMIN, document=copy.deepcopy(document))
        create_user(
            session,
            actor=ADMIN,
            username="ana",
            role="editor",
            team_keys=["CHK"],
            password=PASSWORD,
        )


def _state(engine: Engine) -> tuple[dict[str, Any], int, list[str]]:
    """What a restore must leave alone when it refuses: workspace, audit log, accounts."""
    with read_session(engine) as session:
        return (
            export_workspace(session),
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            [u for u in session.scalars(select(users.User.username))],
        )


def _signs_in(engine: Engine) -> bool:
    with write_session(engine) as session:
        return authenticate(
            session, username="ana", password=PASSWORD, now=dt.datetime(2026, 11, 2)
        ).ok


# ---------------------------------------------------------------- round trips


def test_backup_restores_the_workspace_and_accounts(engine: Engine, tmp_path: Path) -> None:
    _fill(engine)
    result = backup(engine, tmp_path / "saved.backup")
    with write_session(engine) as session:  # change things after the backup
        import_workspace(
            session,
            actor=ADMIN,
            document={"format": "outcome-board/1", "teams": [{"name": "Later", "key": "LAT"}]},
        )

    restored = restore(engine, result.path, actor=ADMIN)

    assert result.kind == ("sqlite" if engine.dialect.name == "sqlite" else "json")
    assert _state(engine)[0] == FULL
    assert _signs_in(engine)
    with read_session(engine) as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last is not None and (last.action, last.actor) == ("restore", "test-admin")
    assert restored.summary


def test_json_backup_restores_on_either_database(engine: Engine, tmp_path: Path) -> None:
    _fill(engine)
    path = backup(engine, tmp_path / "saved.json").path
    document = json.loads(path.read_text("utf-8"))
    with write_session(engine) as session:
        users.update_user(session, actor=ADMIN, username="ana", role="viewer")

    restore(engine, path, actor=ADMIN)

    assert document["format"] == BACKUP_FORMAT
    assert document["workspace"] == FULL
    assert PASSWORD not in path.read_text("utf-8")
    assert _state(engine)[0] == FULL
    with read_session(engine) as session:
        assert [(u.username, u.role, u.team_keys) for u in users.list_users(session)] == [
            ("ana", "editor", ("CHK",))
        ]
    assert _signs_in(engine)


def test_a_sqlite_backup_restores_into_either_database(
    engine: Engine, other_sqlite: Engine, tmp_path: Path
) -> None:
    """How a workspace moves from SQLite to PostgreSQL, accounts included."""
    _fill(other_sqlite)
    path = backup(other_sqlite, tmp_path / "from-sqlite.db").path

    restore(engine, path, actor=ADMIN)

    assert _state(engine)[0] == FULL
    assert _signs_in(engine)


@pytest.mark.sqlite_only("the copy kept aside is the replaced SQLite file")
def test_restore_keeps_a_copy_of_the_replaced_sqlite_database(
    sqlite_engine: Engine, other_sqlite: Engine, tmp_path: Path
) -> None:
    _fill(sqlite_engine, EXAMPLE)
    before = _state(sqlite_engine)[0]
    _fill(other_sqlite)
    path = backup(other_sqlite, tmp_path / "full.db").path

    result = restore(sqlite_engine, path, actor=ADMIN)

    assert result.safety_copy is not None and result.safety_copy.exists()
    kept = make_engine(f"sqlite:///{result.safety_copy}")
    try:
        assert _state(kept)[0] == before
    finally:
        kept.dispose()


# ---------------------------------------------------------------- while writing


def _writer(engine: Engine, metric_id: int, stop: threading.Event, count: int) -> None:
    """The app at work: each reading with its audit event, one transaction each."""
    start = dt.date(2020, 1, 1)
    for i in range(count):
        if stop.is_set():
            return
        with write_session(engine) as session:
            reading = Reading(metric_id=metric_id, date=start + dt.timedelta(days=i), value=i)
            session.add(reading)
            session.flush()
            record_audit(
                session, actor=ADMIN, action="create", entity="reading", entity_id=reading.id
            )


def _consistent(engine: Engine) -> tuple[int, int]:
    with read_session(engine) as session:
        readings = session.scalar(select(func.count()).select_from(Reading)) or 0
        events = (
            session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.entity == "reading")
            )
            or 0
        )
    return readings, events


@pytest.mark.sqlite_only("SQLite's online backup API while a writer holds the file")
def test_backup_while_another_thread_writes_restores_consistently(
    sqlite_engine: Engine, other_sqlite: Engine, tmp_path: Path
) -> None:
    with write_session(sqlite_engine) as session:
        team = Team(name="Checkout", key="CHK")
        session.add(team)
        session.flush()
        metric = Metric(team_id=team.id, name="Conversion")
        session.add(metric)
        session.flush()
        metric_id = metric.id
    stop = threading.Event()
    writer = threading.Thread(target=_writer, args=(sqlite_engine, metric_id, stop, 400))
    writer.start()
    try:
        paths = [backup(sqlite_engine, tmp_path / f"during-{i}.db").path for i in range(5)]
    finally:
        stop.set()
        writer.join()

    for path in paths:
        restore(other_sqlite, path, actor=ADMIN)
        readings, events = _consistent(other_sqlite)
        assert readings == events  # every reading with its audit event, none half-written
        with other_sqlite.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


# ---------------------------------------------------------------- refusals


def _random_bytes(path: Path, good: Path) -> None:
    path.write_bytes(random.Random(42).randbytes(64 * 1024))


def _truncated(path: Path, good: Path) -> None:
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])


def _damaged_page(path: Path, good: Path) -> None:
    data = bytearray(good.read_bytes())
    data[4096 * 3 : 4096 * 3 + 512] = random.Random(7).randbytes(512)
    path.write_bytes(bytes(data))


def _foreign_sqlite(path: Path, good: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT)")
    connection.close()


def _unknown_revision(path: Path, good: Path) -> None:
    shutil.copy(good, path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    connection.close()


def _no_revision(path: Path, good: Path) -> None:
    shutil.copy(good, path)
    with sqlite3.connect(path) as connection:
        connection.execute("DROP TABLE alembic_version")
    connection.close()


def _empty_file(path: Path, good: Path) -> None:
    path.write_bytes(b"")


def _workspace_json(path: Path, good: Path) -> None:
    path.write_text(json.dumps(EXAMPLE), "utf-8")


def _other_json(path: Path, good: Path) -> None:
    path.write_text(json.dumps({"format": "something-else/1"}), "utf-8")


def _bad_json_backup(path: Path, good: Path) -> None:
    document = {"format": BACKUP_FORMAT, "workspace": copy.deepcopy(EXAMPLE), "users": []}
    document["workspace"]["readings"][0]["value"] = "lots"
    path.write_text(json.dumps(document), "utf-8")


def _deep_json(path: Path, good: Path) -> None:
    path.write_text("[" * 5000 + "]" * 5000, "utf-8")  # past Python's JSON parser


BAD_SOURCES: list[tuple[str, Callable[[Path, Path], None], str]] = [
    ("random bytes", _random_bytes, "neither a SQLite backup nor a JSON backup"),
    ("truncated copy", _truncated, "SQLite"),
    ("damaged page", _damaged_page, "SQLite"),
    ("foreign SQLite file", _foreign_sqlite, "not an Outcome Board database"),
    ("unknown schema revision", _unknown_revision, "does not know"),
    ("no schema revision", _no_revision, "no schema revision"),
    ("empty file", _empty_file, "neither"),
    ("workspace export", _workspace_json, "use import-workspace"),
    ("other JSON", _other_json, "not a backup of Outcome Board"),
    ("JSON backup with a bad reading", _bad_json_backup, "value"),
    ("JSON nested too deeply", _deep_json, "nested too deeply"),
]


@pytest.mark.parametrize(
    ("make", "says"), [pytest.param(m, s, id=name) for name, m, s in BAD_SOURCES]
)
def test_damaged_or_foreign_file_is_refused_and_nothing_changes(
    engine: Engine,
    other_sqlite: Engine,
    tmp_path: Path,
    make: Callable[[Path, Path], None],
    says: str,
) -> None:
    _fill(other_sqlite)
    good = backup(other_sqlite, tmp_path / "good.db").path
    _fill(engine, EXAMPLE)
    before = _state(engine)
    source = tmp_path / "suspect.db"
    make(source, good)

    with pytest.raises(ValidationError) as raised:
        restore(engine, source, actor=ADMIN)

    assert says in str(raised.value)
    assert _state(engine) == before
    assert _signs_in(engine)


def test_bad_json_backup_leaves_postgresql_untouched(engine: Engine, tmp_path: Path) -> None:
    _fill(engine, EXAMPLE)
    before = _state(engine)
    source = tmp_path / "bad.json"
    _bad_json_backup(source, source)

    with pytest.raises(ValidationError) as raised:
        restore(engine, source, actor=ADMIN)

    assert "workspace.readings[0]" in " ".join(raised.value.fields())
    assert _state(engine) == before


def test_missing_file_is_refused(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        restore(engine, tmp_path / "nowhere.db", actor=ADMIN)


@pytest.mark.parametrize(
    "actor", [Actor.anonymous(), Actor("v", "viewer"), Actor("e", "editor", frozenset({1}))]
)
def test_only_an_admin_may_restore(engine: Engine, tmp_path: Path, actor: Actor) -> None:
    _fill(engine, EXAMPLE)
    path = backup(engine, tmp_path / "saved.db").path
    before = _state(engine)
    with pytest.raises(PermissionDenied):
        restore(engine, path, actor=actor)
    assert _state(engine) == before


@pytest.mark.sqlite_only("the live database is a file only on SQLite")
def test_backup_refuses_to_overwrite_the_database_itself(sqlite_engine: Engine) -> None:
    live = Path(sqlite_engine.url.database or "")
    size = live.stat().st_size
    with pytest.raises(ValidationError):
        backup(sqlite_engine, live)
    assert live.stat().st_size == size


@pytest.mark.sqlite_only("a backup of SQLite is a SQLite file (PostgreSQL writes JSON)")
def test_backup_replaces_an_existing_file_whole(sqlite_engine: Engine, tmp_path: Path) -> None:
    _fill(sqlite_engine, EXAMPLE)
    target = tmp_path / "saved.db"
    target.write_bytes(b"an old, unrelated file")

    backup(sqlite_engine, target)

    assert target.read_bytes().startswith(b"SQLite format 3\x00")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".saved.db")] == []
    assert os.access(target, os.R_OK)
