"""Single sign-on mapping, the signed-in user's refresh, and the first-admin setup code."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select, text

import db.users
import ui.auth
import ui.setup
from core.access import Actor
from db.engine import read_session, write_session
from db.models import AuditEvent, Team, User
from db.users import create_user, update_user
from db.writes import create_team
from ui.auth import SSO_GUEST_PREFIX, public_read, sso_providers, sso_sign_in

NOW = dt.datetime(2026, 11, 2, 9, 0)
CODE_LINE = re.compile(
    r"Outcome Board setup code: ([A-Z0-9]{4}-[A-Z0-9]{4}) \(create the first admin at /admin\)"
)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    # argon2's defaults cost ~0.13 s per hash; the tests are about flow, not cost.
    monkeypatch.setattr(
        db.users, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture
def accounts(engine: Engine, admin: Actor) -> Engine:
    """Teams CHK and PAY; editor ed@corp.example on CHK, a disabled viewer, and a local
    account whose username looks like an e-mail address."""
    with write_session(engine) as session:
        create_team(session, actor=admin, name="Checkout", key="CHK")
        create_team(session, actor=admin, name="Payments", key="PAY")
        create_user(session, actor=admin, username="root", role="admin", password="root-password")
        create_user(
            session,
            actor=admin,
            username="ed",
            role="editor",
            team_keys=["CHK"],
            email="ed@corp.example",
            display_name="Ed Itor",
        )
        create_user(session, actor=admin, username="gone", role="viewer", email="gone@corp.example")
        create_user(
            session,
            actor=admin,
            username="boss@corp.example",
            role="admin",
            password="boss-password",
        )
        update_user(session, actor=admin, username="gone", active=False)
    return engine


def _team_id(engine: Engine, key: str) -> int:
    with read_session(engine) as session:
        return session.scalars(select(Team.id).where(Team.key == key)).one()


def _map(engine: Engine, claims: dict[str, Any], *, public: bool = True) -> ui.auth.SsoSignIn:
    with read_session(engine) as session:
        return sso_sign_in(session, claims=claims, public_read=public)


# ---------------------------------------------------------------- single sign-on mapping


@pytest.mark.parametrize("public", [True, False], ids=["public-read", "sign-in-required"])
@pytest.mark.parametrize(
    "claims",
    [
        {"email": "ed@corp.example", "email_verified": True},
        {"email": "ED@Corp.Example"},  # no email_verified claim (Microsoft): trusted
        {"email": " ed@corp.example ", "email_verified": "true"},
    ],
    ids=["verified", "no-verified-claim", "string-true"],
)
def test_known_email_gets_its_accounts_role_and_teams(
    accounts: Engine, claims: dict[str, Any], public: bool
) -> None:
    decision = _map(accounts, {"is_logged_in": True, **claims}, public=public)
    assert decision.actor is not None
    assert (decision.actor.username, decision.actor.role) == ("ed", "editor")
    assert decision.actor.team_ids == frozenset({_team_id(accounts, "CHK")})
    assert decision.actor.display_name == "Ed Itor"


@pytest.mark.parametrize(
    ("claims", "public", "expected_role", "message"),
    [
        (
            {"email": "stranger@else.example"},
            True,
            "viewer",
            "stranger@else.example has no account here",
        ),
        (
            {"email": "stranger@else.example"},
            False,
            None,
            "stranger@else.example has no account here",
        ),
        ({"email": "ed@corp.example", "email_verified": False}, True, "viewer", "has not verified"),
        ({"email": "ed@corp.example", "email_verified": "false"}, False, None, "has not verified"),
        ({"sub": "12345"}, True, "viewer", "sent no e-mail address"),
        ({"sub": "12345"}, False, None, "sent no e-mail address"),
        ({"email": "gone@corp.example"}, True, None, "is disabled"),
        ({"email": "gone@corp.example"}, False, None, "is disabled"),
    ],
    ids=[
        "unknown-public",
        "unknown-private",
        "unverified-public",
        "unverified-private",
        "no-email-public",
        "no-email-private",
        "disabled-public",
        "disabled-private",
    ],
)
def test_identity_without_usable_account_views_or_is_refused(
    accounts: Engine, claims: dict[str, Any], public: bool, expected_role: str | None, message: str
) -> None:
    decision = _map(accounts, {"is_logged_in": True, **claims}, public=public)
    assert (decision.actor.role if decision.actor else None) == expected_role
    assert message in decision.message
    if decision.actor is not None:
        assert decision.actor.username.startswith(SSO_GUEST_PREFIX)
        assert not decision.actor.team_ids


def test_sso_guest_never_becomes_the_local_account_of_the_same_name(accounts: Engine) -> None:
    # A local admin is called "boss@corp.example" but has no e-mail: an identity with that
    # address is a stranger, and the per-run refresh must not turn it into the admin.
    decision = _map(accounts, {"email": "boss@corp.example"})
    assert decision.actor is not None and decision.actor.role == "viewer"
    assert ui.auth._refreshed(accounts, decision.actor) == decision.actor


# ---------------------------------------------------------------- refresh of a session's user


def test_role_change_applies_on_the_next_run(accounts: Engine, admin: Actor) -> None:
    signed_in = Actor("ed", "editor", frozenset({_team_id(accounts, "CHK")}), "Ed Itor")
    with write_session(accounts) as session:
        update_user(session, actor=admin, username="ed", role="viewer", team_keys=[])
    fresh = ui.auth._refreshed(accounts, signed_in)
    assert fresh is not None and (fresh.role, fresh.team_ids) == ("viewer", frozenset())


def test_disabled_account_is_signed_out_on_the_next_run(accounts: Engine, admin: Actor) -> None:
    with write_session(accounts) as session:
        update_user(session, actor=admin, username="ed", active=False)
    assert ui.auth._refreshed(accounts, Actor("ed", "editor")) is None


def test_actor_without_account_row_is_kept(accounts: Engine) -> None:
    actor = Actor("test-editor", "editor", frozenset({1}))
    assert ui.auth._refreshed(accounts, actor) == actor


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, True),
        ("true", True),
        ("1", True),
        ("false", False),
        ("FALSE", False),
        ("0", False),
        ("no", False),
        ("off", False),
    ],
)
def test_public_read_setting(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool
) -> None:
    if value is None:
        monkeypatch.delenv("OUTCOMES_PUBLIC_READ", raising=False)
    else:
        monkeypatch.setenv("OUTCOMES_PUBLIC_READ", value)
    assert public_read() is expected


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ({}, []),
        ({"redirect_uri": "x", "client_id": "a"}, [(None, "Sign in with single sign-on")]),
        (
            {"redirect_uri": "x", "google": {"client_id": "a"}, "keycloak": {"client_id": "b"}},
            [("google", "Sign in with Google"), ("keycloak", "Sign in with Keycloak")],
        ),
    ],
    ids=["none", "default", "named"],
)
def test_sso_buttons_follow_the_auth_section(
    monkeypatch: pytest.MonkeyPatch, auth: dict[str, Any], expected: list[tuple[str | None, str]]
) -> None:
    monkeypatch.setattr(ui.auth.st, "secrets", {"auth": auth} if auth else {})
    assert sso_providers() == expected
    assert ui.auth.sso_configured() is bool(auth)


# ---------------------------------------------------------------- first-admin setup code


@pytest.fixture
def setup_code(engine: Engine, caplog: pytest.LogCaptureFixture) -> Iterator[str]:
    """The code this process prints for a fresh database (read back from the log)."""
    with caplog.at_level(logging.WARNING, logger="outcomes.setup"):
        assert ui.setup.setup_code_needed(engine)
    codes = [m.group(1) for r in caplog.records if (m := CODE_LINE.fullmatch(r.getMessage()))]
    assert len(codes) == 1
    yield codes[0]


def test_setup_code_is_printed_once_and_never_stored(
    engine: Engine, setup_code: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="outcomes.setup"):
        assert ui.setup.setup_code_needed(engine)
        ui.setup.first_admin_setup(engine)
    assert not [r for r in caplog.records if CODE_LINE.fullmatch(r.getMessage())]
    assert setup_code not in _database_text(engine)
    assert setup_code.replace("-", "") not in _database_text(engine)


def test_setup_code_creates_the_first_admin_and_then_stops_working(
    engine: Engine, setup_code: str
) -> None:
    result = ui.setup.redeem_setup_code(
        engine,
        code=setup_code.lower().replace("-", " "),
        username="first",
        password="a long passphrase",
        now=NOW,
    )
    assert result.ok and result.actor is not None and result.actor.role == "admin"
    with read_session(engine) as session:
        user = db.users.user_by_username(session, username="first")
        assert user is not None and user.role == "admin"
        audit = session.scalars(select(AuditEvent).where(AuditEvent.entity == "user")).one()
    assert audit.actor == "setup"
    again = ui.setup.redeem_setup_code(
        engine, code=setup_code, username="second", password="another passphrase", now=NOW
    )
    assert not again.ok and again.message == ui.setup.SETUP_CLOSED
    assert not ui.setup.setup_code_needed(engine)


def test_setup_code_stops_working_once_an_admin_exists_elsewhere(
    engine: Engine, setup_code: str, admin: Actor
) -> None:
    with write_session(engine) as session:  # e.g. `manage.py create-user --role admin`
        create_user(
            session, actor=admin, username="cli-admin", role="admin", password="cli password"
        )
    result = ui.setup.redeem_setup_code(
        engine, code=setup_code, username="late", password="a long passphrase", now=NOW
    )
    assert not result.ok and result.message == ui.setup.SETUP_CLOSED
    with read_session(engine) as session:
        assert db.users.user_by_username(session, username="late") is None


def test_bad_account_details_keep_the_code_for_another_try(engine: Engine, setup_code: str) -> None:
    short = ui.setup.redeem_setup_code(
        engine, code=setup_code, username="first", password="short", now=NOW
    )
    assert not short.ok and [p.where for p in short.problems] == ["password"]
    fixed = ui.setup.redeem_setup_code(
        engine, code=setup_code, username="first", password="long enough now", now=NOW
    )
    assert fixed.ok


def test_wrong_setup_codes_lock_setup_for_a_while(engine: Engine, setup_code: str) -> None:
    def attempt(code: str, at: dt.datetime) -> ui.setup.SetupResult:
        return ui.setup.redeem_setup_code(
            engine, code=code, username="first", password="a long passphrase", now=at
        )

    messages = [attempt("AAAA-AAAA", NOW).message for _ in range(5)]
    assert messages == [ui.setup.WRONG_CODE] * 4 + ["Too many attempts: try again in 60 s"]
    locked = attempt(setup_code, NOW + dt.timedelta(seconds=30))
    assert not locked.ok and locked.message == "Too many attempts: try again in 30 s"
    assert attempt(setup_code, NOW + dt.timedelta(seconds=61)).ok


def test_setup_codes_are_shaped_for_typing() -> None:
    codes = {ui.setup.new_setup_code() for _ in range(50)}
    assert len(codes) == 50
    assert all(re.fullmatch(r"[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}", c) for c in codes)


def test_password_from_setup_is_never_stored_or_logged(
    engine: Engine, setup_code: str, caplog: pytest.LogCaptureFixture
) -> None:
    password = "Setup-Secret-4711"
    with caplog.at_level(logging.DEBUG):
        assert ui.setup.redeem_setup_code(
            engine, code=setup_code, username="first", password=password, now=NOW
        ).ok
    assert password not in _database_text(engine)
    assert password not in caplog.text
    with read_session(engine) as session:
        stored = session.scalars(select(User.password_hash)).one()
    assert stored.startswith("$argon2")


def _database_text(engine: Engine) -> str:
    """Every text value in the users and audit tables, for "not in clear" checks."""
    with read_session(engine) as session:
        rows = [
            *session.execute(text("SELECT * FROM users")).all(),
            *session.execute(text("SELECT * FROM audit_events")).all(),
        ]
    return "\n".join(str(value) for row in rows for value in row)
