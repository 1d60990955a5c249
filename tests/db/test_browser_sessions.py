"""Issue 14: a sign-in that lasts in one browser (db/browser_sessions.py): valid while not
revoked, not expired, the account active and its sessions not ended; only a hash stored."""

from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select, text

from core.access import Actor
from db import users
from db.browser_sessions import (
    DEFAULT_HOURS,
    MAX_HOURS,
    browser_actor,
    id_hash,
    revoke_browser_session,
    session_hours,
    start_browser_session,
)
from db.engine import read_session, write_session
from db.models import BrowserSession, User
from db.sessions import end_sessions
from db.users import create_user, set_password, update_user

PASSWORD = "correct horse battery"
ADMIN = Actor.system("test-admin")
NOW = dt.datetime(2026, 11, 2, 9, 0)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


def _start(engine: Engine, username: str = "ana", hours: float = 12) -> str:
    with write_session(engine) as session:
        if session.scalars(select(User.id).where(User.username == username)).first() is None:
            create_user(
                session,
                actor=ADMIN,
                username=username,
                role="editor",
                password=PASSWORD,
                team_keys=[],
            )
    with write_session(engine) as session:
        return start_browser_session(session, username=username, now=NOW, hours=hours)


def _actor(engine: Engine, browser_id: str | None, now: dt.datetime = NOW) -> Actor | None:
    with read_session(engine) as session:
        return browser_actor(session, browser_id=browser_id, now=now)


def test_a_browser_id_signs_its_account_in_until_it_expires(engine: Engine) -> None:
    browser_id = _start(engine, hours=12)
    actor = _actor(engine, browser_id, NOW + dt.timedelta(hours=11, minutes=59))
    assert actor is not None and actor.username == "ana" and actor.role == "editor"
    assert actor.session_version is not None  # writes check the session like any sign-in
    assert _actor(engine, browser_id, NOW + dt.timedelta(hours=12)) is None


def test_only_a_hash_of_the_id_is_stored(engine: Engine) -> None:
    browser_id = _start(engine)
    with read_session(engine) as session:
        stored = "\n".join(
            str(value)
            for row in session.execute(text("SELECT * FROM browser_sessions")).all()
            for value in row
        )
    assert browser_id not in stored and id_hash(browser_id) in stored
    assert len(browser_id) >= 43  # 256 random bits


@pytest.mark.parametrize("browser_id", [None, "", "not-an-id", "x" * 500])
def test_unknown_ids_sign_nobody_in(engine: Engine, browser_id: str | None) -> None:
    _start(engine)
    assert _actor(engine, browser_id) is None


def test_revoking_signs_out_that_browser_only(engine: Engine) -> None:
    first, second = _start(engine), _start(engine)
    with write_session(engine) as session:
        assert revoke_browser_session(session, browser_id=first, now=NOW)
    with write_session(engine) as session:
        assert not revoke_browser_session(session, browser_id=first, now=NOW)  # already
    assert _actor(engine, first) is None
    assert _actor(engine, second) is not None
    with read_session(engine) as session:
        row = session.scalars(
            select(BrowserSession).where(BrowserSession.id_hash == id_hash(first))
        ).one()
    assert row.revoked_at == NOW


def _disable(engine: Engine) -> None:
    with write_session(engine) as session:
        update_user(session, actor=ADMIN, username="ana", active=False)


def _new_password(engine: Engine) -> None:
    with write_session(engine) as session:
        set_password(session, actor=ADMIN, username="ana", password="reset by admin 1")


def _end_everywhere(engine: Engine) -> None:
    with write_session(engine) as session:
        end_sessions(session.scalars(select(User).where(User.username == "ana")).one())


@pytest.mark.parametrize("change", [_disable, _new_password, _end_everywhere])
def test_account_changes_end_every_browser(engine: Engine, change) -> None:  # type: ignore[no-untyped-def]
    browsers = [_start(engine), _start(engine)]
    _start(engine, username="bo")
    bo = _start(engine, username="bo")
    change(engine)
    assert [_actor(engine, b) for b in browsers] == [None, None]
    assert _actor(engine, bo) is not None  # another account's browsers stay


def test_a_disabled_account_cannot_start_one(engine: Engine) -> None:
    _start(engine)
    _disable(engine)
    with write_session(engine) as session, pytest.raises(LookupError):
        start_browser_session(session, username="ana", now=NOW, hours=1)


@pytest.mark.parametrize(
    ("setting", "hours"),
    [
        (None, DEFAULT_HOURS),
        ("", DEFAULT_HOURS),
        ("8", 8.0),
        ("0.5", 0.5),
        ("0", DEFAULT_HOURS),
        ("-3", DEFAULT_HOURS),
        ("twelve", DEFAULT_HOURS),
        ("nan", DEFAULT_HOURS),
        ("100000", MAX_HOURS),
    ],
)
def test_session_hours_setting(
    monkeypatch: pytest.MonkeyPatch, setting: str | None, hours: float
) -> None:
    if setting is None:
        monkeypatch.delenv("OUTCOMES_SESSION_HOURS", raising=False)
    else:
        monkeypatch.setenv("OUTCOMES_SESSION_HOURS", setting)
    assert session_hours() == hours
