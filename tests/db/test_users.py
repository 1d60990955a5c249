"""Accounts: argon2 hashes only, sign-in throttling per account, roles and teams."""

from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select, text

from core.access import Actor
from core.errors import PermissionDenied, ValidationError
from db import users
from db.engine import read_session, write_session
from db.models import AuditEvent, Team, User
from db.users import (
    WRONG_CREDENTIALS,
    AuthResult,
    admin_exists,
    authenticate,
    create_user,
    list_users,
    set_password,
    update_user,
    user_by_email,
)

PASSWORD = "correct horse battery"
T0 = dt.datetime(2026, 11, 2, 9, 0, 0)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with tiny costs: the same code path, milliseconds instead of 0.13 s."""
    monkeypatch.setattr(users, "hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def teams(engine: Engine) -> dict[str, int]:
    with write_session(engine) as session:
        records = [Team(name="Checkout", key="CHK"), Team(name="Wallet", key="WAL")]
        session.add_all(records)
        session.flush()
        return {t.key: t.id for t in records}


def _create(engine: Engine, username: str = "ana", **fields: object) -> None:
    fields = {"role": "editor", "password": PASSWORD, **fields}
    with write_session(engine) as session:
        create_user(session, actor=Actor.system("test-admin"), username=username, **fields)  # type: ignore[arg-type]


def _sign_in(engine: Engine, password: str, at: dt.datetime, username: str = "ana") -> AuthResult:
    with write_session(engine) as session:
        return authenticate(session, username=username, password=password, now=at)


def _seconds(n: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=n)


def test_password_is_stored_as_an_argon2_hash(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(users, "hasher", PasswordHasher())  # the real parameters
    _create(engine)

    with read_session(engine) as session:
        stored = session.scalars(select(User.password_hash)).one()
    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert _sign_in(engine, PASSWORD, T0).ok


def test_right_password_signs_in_as_the_accounts_actor(
    engine: Engine, teams: dict[str, int]
) -> None:
    _create(engine, team_keys=["CHK"], display_name="Ana Lima")

    result = _sign_in(engine, PASSWORD, T0, username="ANA")  # usernames ignore case

    assert result.ok
    assert result.actor == Actor(
        username="ana",
        role="editor",
        team_ids=frozenset({teams["CHK"]}),
        display_name="Ana Lima",
        session_version=1,  # a new account's; db.sessions
    )


@pytest.mark.parametrize(
    ("username", "password"),
    [("ana", "wrong password"), ("nobody", PASSWORD), ("nobody", "wrong password"), ("", "")],
)
def test_unknown_user_and_wrong_password_get_the_same_message(
    engine: Engine, username: str, password: str
) -> None:
    _create(engine)
    result = _sign_in(engine, password, T0, username=username)
    assert result == AuthResult(False, None, WRONG_CREDENTIALS)


def test_five_failures_lock_the_account_for_60_seconds(engine: Engine) -> None:
    _create(engine)

    messages = [_sign_in(engine, "guess", _seconds(i)).message for i in range(5)]

    assert messages == [WRONG_CREDENTIALS] * 4 + ["Too many attempts: try again in 60 s"]


def test_right_password_is_refused_during_the_lock_and_accepted_after(engine: Engine) -> None:
    _create(engine)
    for _ in range(5):
        _sign_in(engine, "guess", T0)

    during = _sign_in(engine, PASSWORD, _seconds(20))
    just_before = _sign_in(engine, PASSWORD, _seconds(59.5))
    after = _sign_in(engine, PASSWORD, _seconds(60))

    assert during == AuthResult(False, None, "Too many attempts: try again in 40 s")
    assert just_before.message == "Too many attempts: try again in 1 s"
    assert after.ok


def test_each_further_lockout_doubles(engine: Engine) -> None:
    _create(engine)
    at = T0
    locks = []
    for _ in range(4):
        for _ in range(5):
            result = _sign_in(engine, "guess", at)
        locks.append(result.message)
        at += dt.timedelta(days=1)  # wait the lock out

    assert locks == [f"Too many attempts: try again in {s} s" for s in (60, 120, 240, 480)]


def test_a_successful_sign_in_resets_the_doubling(engine: Engine) -> None:
    _create(engine)
    for _ in range(5):
        _sign_in(engine, "guess", T0)
    assert _sign_in(engine, PASSWORD, _seconds(61)).ok

    for _ in range(4):
        assert _sign_in(engine, "guess", _seconds(62)).message == WRONG_CREDENTIALS
    assert _sign_in(engine, "guess", _seconds(62)).message.endswith("in 60 s")


def test_failures_of_one_account_do_not_lock_another(engine: Engine) -> None:
    _create(engine)
    _create(engine, "ben")
    for _ in range(5):
        _sign_in(engine, "guess", T0)

    assert _sign_in(engine, PASSWORD, T0, username="ben").ok


def test_a_lock_is_audited(engine: Engine) -> None:
    _create(engine)
    for _ in range(5):
        _sign_in(engine, "guess", T0)

    with read_session(engine) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.entity) for e in events] == [("create", "user"), ("update", "user")]
    assert "locked for 60 s" in events[1].summary


def test_timezone_aware_now_is_understood(engine: Engine) -> None:
    _create(engine)
    for _ in range(5):
        _sign_in(engine, "guess", T0)
    aware = (T0 + dt.timedelta(seconds=30)).replace(tzinfo=dt.UTC)
    assert _sign_in(engine, PASSWORD, aware).message.endswith("in 30 s")


def test_no_clear_password_in_the_tables(engine: Engine, teams: dict[str, int]) -> None:
    _create(engine, team_keys=["CHK"])
    with write_session(engine) as session:
        set_password(session, actor=Actor.system("t"), username="ana", password="second secret 2")
        update_user(session, actor=Actor.system("t"), username="ana", role="viewer")
    for _ in range(5):
        _sign_in(engine, "wrong guess 3", T0)  # ends in a lock, which is audited
    _sign_in(engine, "second secret 2", _seconds(61))

    stored_users, audit = _dump(engine, "users"), _dump(engine, "audit_events")

    for secret in (PASSWORD, "second secret 2", "wrong guess 3"):
        assert secret not in stored_users
        assert secret not in audit
    assert "$argon2" in stored_users  # the hash is there...
    assert "argon2" not in audit  # ...and never in the audit log


def _dump(engine: Engine, table: str) -> str:
    with read_session(engine) as session:
        return " ".join(
            str(value) for row in session.execute(text(f"SELECT * FROM {table}")) for value in row
        )


def test_inactive_account_cannot_sign_in(engine: Engine) -> None:
    _create(engine)
    _create(engine, "root", role="admin")
    with write_session(engine) as session:
        update_user(session, actor=Actor.system("t"), username="ana", active=False)
    assert _sign_in(engine, PASSWORD, T0).message == WRONG_CREDENTIALS


@pytest.mark.parametrize(
    ("fields", "wheres"),
    [
        ({"username": " "}, {"username"}),
        ({"username": "two words"}, {"username"}),
        ({"username": "ANA"}, {"username"}),  # taken, ignoring case
        ({"role": "owner"}, {"role"}),
        ({"team_keys": ["NOPE"]}, {"team"}),
        ({"password": "short"}, {"password"}),
        ({"email": "not-an-address"}, {"email"}),
        ({"email": "ANA@example.com"}, {"email"}),  # taken, ignoring case
        ({"role": "owner", "password": "short", "team_keys": ["X"]}, {"role", "password", "team"}),
    ],
)
def test_bad_account_is_refused_whole(
    engine: Engine, fields: dict[str, object], wheres: set[str]
) -> None:
    _create(engine, email="ana@example.com")
    values = {"username": "ben", **fields}
    with pytest.raises(ValidationError) as raised:
        _create(engine, **values)  # type: ignore[arg-type]
    assert raised.value.fields() == wheres
    with read_session(engine) as session:
        assert len(session.scalars(select(User)).all()) == 1


@pytest.mark.parametrize(
    "actor",
    [Actor.anonymous(), Actor("v", "viewer"), Actor("e", "editor", frozenset({1}))],
    ids=["anonymous", "viewer", "editor"],
)
def test_only_an_admin_creates_or_changes_accounts(engine: Engine, actor: Actor) -> None:
    _create(engine)
    with pytest.raises(PermissionDenied), write_session(engine) as session:
        create_user(session, actor=actor, username="mallory", role="admin", password=PASSWORD)
    with pytest.raises(PermissionDenied), write_session(engine) as session:
        update_user(session, actor=actor, username="ana", role="admin")
    with read_session(engine) as session:
        assert [(u.username, u.role) for u in list_users(session)] == [("ana", "editor")]


def test_a_user_may_set_their_own_password_but_not_anothers(engine: Engine) -> None:
    _create(engine)
    _create(engine, "ben")
    ana = Actor("ana", "editor")
    with write_session(engine) as session:
        set_password(session, actor=ana, username="ana", password="a new password")
    with pytest.raises(PermissionDenied), write_session(engine) as session:
        set_password(session, actor=ana, username="ben", password="a new password")
    assert _sign_in(engine, "a new password", T0).ok
    assert _sign_in(engine, PASSWORD, T0, username="ben").ok


def test_setting_a_password_lifts_a_lock(engine: Engine) -> None:
    _create(engine)
    for _ in range(5):
        _sign_in(engine, "guess", T0)
    with write_session(engine) as session:
        set_password(session, actor=Actor.system("t"), username="ana", password="fresh start 1")
    assert _sign_in(engine, "fresh start 1", _seconds(1)).ok


def test_the_last_active_admin_stays_one(engine: Engine) -> None:
    _create(engine, "root", role="admin")
    for change in ({"role": "viewer"}, {"active": False}):
        with pytest.raises(ValidationError), write_session(engine) as session:
            update_user(session, actor=Actor.system("t"), username="root", **change)  # type: ignore[arg-type]
    _create(engine, "second", role="admin")
    with write_session(engine) as session:
        update_user(session, actor=Actor.system("t"), username="root", role="viewer")
    with read_session(engine) as session:
        assert admin_exists(session)


def test_admin_exists_only_with_an_active_admin(engine: Engine) -> None:
    with read_session(engine) as session:
        assert not admin_exists(session)
    _create(engine, "ana", role="editor")
    with read_session(engine) as session:
        assert not admin_exists(session)
    _create(engine, "root", role="admin")
    with read_session(engine) as session:
        assert admin_exists(session)


def test_single_sign_on_maps_email_to_the_account(engine: Engine, teams: dict[str, int]) -> None:
    with write_session(engine) as session:
        create_user(
            session,
            actor=Actor.system("t"),
            username="cleo",
            role="editor",
            team_keys=["WAL"],
            email="Cleo@Example.com",
        )
    with read_session(engine) as session:
        user = user_by_email(session, email=" cleo@example.COM ")
        assert user is not None
        actor = users.actor_for(session, user)
        assert user_by_email(session, email="nobody@example.com") is None
    assert actor.team_ids == frozenset({teams["WAL"]})
    # No password: local sign-in is refused like any wrong password.
    assert _sign_in(engine, "", T0, username="cleo").message == WRONG_CREDENTIALS


def test_update_user_changes_role_and_teams_with_an_audit_event(
    engine: Engine, teams: dict[str, int]
) -> None:
    _create(engine, team_keys=["CHK"])
    with write_session(engine) as session:
        update_user(session, actor=Actor.system("t"), username="ana", team_keys=["WAL", "CHK"])
    with read_session(engine) as session:
        (info,) = list_users(session)
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert info.team_keys == ("CHK", "WAL")
    assert event is not None and event.action == "update" and '"WAL"' in (event.after or "")
