"""Issue 15: restore trusts nothing in the file. A SQLite backup must have exactly the
schema the migrations make (no trigger, view, other table or other column); a JSON
backup's accounts follow create-user's rules."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select

from core.access import Actor
from core.errors import ValidationError
from db import users
from db.backup import backup, restore
from db.engine import read_session, write_session
from db.models import Team
from db.users import create_user

ADMIN = Actor.system("test-admin")


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def saved(sqlite_engine: Engine, tmp_path: Path) -> Path:
    with write_session(sqlite_engine) as session:
        session.add(Team(name="Checkout", key="CHK"))
        create_user(session, actor=ADMIN, username="vic", role="viewer", password="a password 1")
    return backup(sqlite_engine, tmp_path / "saved.db").path


def _teams(engine: Engine) -> int:
    with read_session(engine) as session:
        return session.scalars(select(func.count(Team.id))).one()


def _tamper(path: Path, sql: str) -> None:
    connection = sqlite3.connect(path)
    connection.executescript(sql)
    connection.close()


@pytest.mark.sqlite_only("a SQLite backup file with a foreign schema: SQLite file restore")
@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "CREATE TRIGGER promote AFTER INSERT ON audit_events BEGIN "
            "UPDATE users SET role='admin' WHERE username='vic'; END;",
            "holds a trigger (“promote”)",
        ),
        ("CREATE VIEW everything AS SELECT * FROM users;", "holds a view (“everything”)"),
        ("CREATE TABLE notes (x TEXT);", "has a table “notes” that Outcome Board never creates"),
        ("ALTER TABLE teams ADD COLUMN colour TEXT;", "has a table “teams” whose columns"),
        ("CREATE INDEX ix_extra ON teams (name);", "has a table “teams” whose columns"),
    ],
)
def test_sqlite_backup_with_foreign_schema_is_refused(
    sqlite_engine: Engine, saved: Path, sql: str, message: str
) -> None:
    _tamper(saved, sql)
    with write_session(sqlite_engine) as session:
        session.add(Team(name="Wallet", key="WAL"))  # the live database differs from the file

    with pytest.raises(ValidationError) as refused:
        restore(sqlite_engine, saved, actor=ADMIN)

    assert message in str(refused.value)
    assert _teams(sqlite_engine) == 2  # untouched


@pytest.mark.sqlite_only("restores a SQLite backup file")
def test_untampered_sqlite_backup_restores(sqlite_engine: Engine, saved: Path) -> None:
    with write_session(sqlite_engine) as session:
        session.add(Team(name="Wallet", key="WAL"))
    restore(sqlite_engine, saved, actor=ADMIN)
    assert _teams(sqlite_engine) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "sso:eve@example.com", "users[0] (sso:eve@example.com).username: use letters"),
        ("username", "ad\u202emin", "username: use letters"),
        ("password_hash", "garbage", "users[0] (ana).password_hash: must be an argon2 hash"),
        ("password_hash", "$2b$12$" + "x" * 53, "password_hash: must be an argon2 hash"),
        ("display_name", "a\x00b", "display_name: must not contain NUL characters"),
        ("email", "not an address", "users[0] (ana).email: is not an e-mail address"),
    ],
)
def test_json_backup_accounts_follow_create_user_rules(
    engine: Engine, tmp_path: Path, field: str, value: str, message: str
) -> None:
    # Setup: a valid JSON backup, then one account field made hostile.
    with write_session(engine) as session:
        session.add(Team(name="Checkout", key="CHK"))
        create_user(session, actor=ADMIN, username="ana", role="admin", password="a password 1")
    path = backup(engine, tmp_path / "saved.json").path
    document = json.loads(path.read_text("utf-8"))
    document["users"][0][field] = value
    path.write_text(json.dumps(document), "utf-8")
    with write_session(engine) as session:
        session.add(Team(name="Wallet", key="WAL"))
    # Exercise
    with pytest.raises(ValidationError) as refused:
        restore(engine, path, actor=ADMIN)
    # Verify: refused, naming the account and field; nothing changed.
    assert message in str(refused.value)
    assert _teams(engine) == 2
