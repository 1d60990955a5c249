"""Issue 15: a signed-in session ends when its account's password, role or active flag
changes or a restore replaces the accounts; every write checks it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select

from core.access import Actor
from core.errors import PermissionDenied, SessionEnded
from db import users
from db.backup import backup, restore
from db.engine import read_session, write_session
from db.models import AuditEvent
from db.sessions import session_is_current, session_version_of
from db.users import authenticate, create_user, set_password, update_user

PASSWORD = "correct horse battery"
ADMIN = Actor.system("test-admin")


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def _signed_in(engine: Engine, username: str = "ana", role: str = "editor") -> Actor:
    with write_session(engine) as session:
        create_user(session, actor=ADMIN, username=username, role=role, password=PASSWORD)
    with write_session(engine) as session:
        result = authenticate(
            session, username=username, password=PASSWORD, now=dt.datetime(2026, 11, 2)
        )
    assert result.actor is not None and result.actor.session_version is not None
    return result.actor


def _audit_count(engine: Engine) -> int:
    with read_session(engine) as session:
        return session.scalars(select(func.count(AuditEvent.id))).one()


def _own_write(engine: Engine, actor: Actor) -> None:
    """A write the user may make on their own: changing their own password."""
    with write_session(engine) as session:
        set_password(session, actor=actor, username=actor.username, password="another one 123")


Change = Callable[[Engine], None]


def _reset_password(engine: Engine) -> None:
    with write_session(engine) as session:
        set_password(session, actor=ADMIN, username="ana", password="reset by admin 1")


def _disable(engine: Engine) -> None:
    with write_session(engine) as session:
        update_user(session, actor=ADMIN, username="ana", active=False)


def _demote(engine: Engine) -> None:
    with write_session(engine) as session:
        update_user(session, actor=ADMIN, username="ana", role="viewer")


@pytest.mark.parametrize("change", [_reset_password, _disable, _demote])
def test_write_in_a_session_that_ended_is_refused_and_writes_nothing(
    engine: Engine, change: Change
) -> None:
    actor = _signed_in(engine)
    change(engine)
    before = _audit_count(engine)

    with pytest.raises(SessionEnded, match="sign in again"):
        _own_write(engine, actor)

    assert _audit_count(engine) == before
    with read_session(engine) as session:
        assert not session_is_current(session, actor)


def test_session_survives_changes_that_do_not_end_it(engine: Engine) -> None:
    actor = _signed_in(engine)
    with write_session(engine) as session:
        update_user(session, actor=ADMIN, username="ana", display_name="Ana Lima")

    _own_write(engine, actor)  # no error: a new display name signs nobody out


def test_session_version_of_is_what_a_sign_in_carries(engine: Engine) -> None:
    actor = _signed_in(engine)
    with read_session(engine) as session:
        assert session_version_of(session, username="ANA") == actor.session_version
        assert session_version_of(session, username="nobody") is None
    _disable(engine)
    with read_session(engine) as session:
        assert session_version_of(session, username="ana") is None


@pytest.mark.sqlite_only("restores a SQLite backup file")
def test_restore_ends_every_session_even_of_restored_accounts(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    # Setup: ana signs in, a backup is taken, then the backup is restored.
    actor = _signed_in(sqlite_engine)
    saved = backup(sqlite_engine, tmp_path / "saved.db").path
    restore(sqlite_engine, saved, actor=ADMIN)
    # Exercise / Verify: ana's account is back, her open session is not.
    with pytest.raises(SessionEnded):
        _own_write(sqlite_engine, actor)


def test_restore_without_the_account_ends_its_session(engine: Engine, tmp_path: Path) -> None:
    saved = tmp_path / "before-ana.json"
    backup(engine, saved)
    actor = _signed_in(engine)
    restore(engine, saved, actor=ADMIN)
    with pytest.raises(PermissionDenied):  # SessionEnded or "no such user": nothing written
        _own_write(engine, actor)
    with read_session(engine) as session:  # no audit event names a user that is gone
        assert "ana" not in set(session.scalars(select(AuditEvent.actor)))
