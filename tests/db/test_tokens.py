"""API tokens: shown once, stored as a salted hash, checked in constant time, revocable at
once, and acting as an editor of their one team whose writes are audited by name."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from core.access import Actor
from core.errors import PermissionDenied, ValidationError
from core.reading_files import ReadingRow
from db import writes
from db.engine import read_session, write_session
from db.models import ApiToken, AuditEvent, Reading
from db.readings import import_readings
from db.tokens import (
    TokenRefused,
    authenticate,
    create_token,
    list_tokens,
    revoke_token,
)

DAY = dt.date(2026, 10, 5)


@pytest.fixture
def teams(engine: Engine, admin: Actor) -> Engine:
    with write_session(engine) as s:
        chk = writes.create_team(s, actor=admin, name="Checkout", key="CHK")
        src = writes.create_team(s, actor=admin, name="Search", key="SRC")
        writes.create_metric(s, actor=admin, team_id=chk.id, name="Conversion", unit="%")
        writes.create_metric(s, actor=admin, team_id=src.id, name="Latency", unit="ms")
    return engine


def make(engine: Engine, name: str = "pipeline", scope: str = "readings:write") -> str:
    with write_session(engine) as s:
        _, secret = create_token(s, actor=Actor.system(), name=name, team_key="chk", scope=scope)
    return secret


def test_secret_is_shown_once_and_stored_only_as_a_salted_hash(teams: Engine) -> None:
    first, second = make(teams, "one"), make(teams, "two")
    with read_session(teams) as s:
        rows = s.scalars(select(ApiToken).order_by(ApiToken.id)).all()
    assert first.startswith("obt_") and first != second
    for row, secret in zip(rows, (first, second), strict=True):
        stored = " ".join(str(getattr(row, c.key)) for c in ApiToken.__table__.columns)
        assert secret.split("_", 2)[2] not in stored
    assert rows[0].salt != rows[1].salt


def test_authenticate_accepts_the_token_and_names_its_team(teams: Engine) -> None:
    secret = make(teams)
    with write_session(teams) as s:
        info = authenticate(s, header=f"Bearer {secret}", scope="readings:write")
    assert (info.name, info.team_key, info.scope) == ("pipeline", "CHK", "readings:write")
    with read_session(teams) as s:
        assert list_tokens(s)[0].last_used_at is not None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character of the secret
        lambda t: "obt_ffffffffffff_" + t.split("_", 2)[2],  # another public id
        lambda t: t.replace("obt_", "xyz_"),
        lambda t: "",
    ],
)
def test_a_wrong_token_is_refused(teams: Engine, mangle) -> None:  # type: ignore[no-untyped-def]
    secret = make(teams)
    with pytest.raises(TokenRefused), read_session(teams) as s:
        authenticate(s, header=f"Bearer {mangle(secret)}", scope="readings:write", touch=False)


def test_a_revoked_token_is_refused_at_once(teams: Engine) -> None:
    secret = make(teams)
    with write_session(teams) as s:
        revoke_token(s, actor=Actor("edna", "editor", frozenset({1})), name="PIPELINE")
    with pytest.raises(TokenRefused, match="revoked"), read_session(teams) as s:
        authenticate(s, header=f"Bearer {secret}", scope="readings:write", touch=False)


def test_a_token_without_the_scope_is_forbidden(teams: Engine) -> None:
    secret = make(teams, scope="report:read")
    with pytest.raises(PermissionDenied), read_session(teams) as s:
        authenticate(s, header=f"Bearer {secret}", scope="readings:write", touch=False)


@pytest.mark.parametrize(
    ("name", "team", "scope", "field"),
    [
        ("", "CHK", "readings:write", "name"),
        ("x", "NOPE", "readings:write", "team"),
        ("x", "CHK", "admin", "scope"),
        ("pipeline", "CHK", "report:read", "name"),  # the name is taken
    ],
)
def test_bad_token_input_names_the_field(
    teams: Engine, name: str, team: str, scope: str, field: str
) -> None:
    make(teams)
    with pytest.raises(ValidationError) as error, write_session(teams) as s:
        create_token(s, actor=Actor.system(), name=name, team_key=team, scope=scope)
    assert field in error.value.fields()


def test_token_writes_its_own_team_audited_by_name_and_never_another(teams: Engine) -> None:
    secret = make(teams)
    with read_session(teams) as s:
        actor = authenticate(s, header=f"Bearer {secret}", scope="readings:write", touch=False)
    own = ReadingRow(0, "CHK", "Conversion", DAY, 2.5)
    other = ReadingRow(1, "SRC", "Latency", DAY, 120.0)
    with write_session(teams) as s:
        import_readings(s, actor=actor.actor, rows=[own], source="api")
    with pytest.raises(PermissionDenied), write_session(teams) as s:
        import_readings(s, actor=actor.actor, rows=[own, other], source="api")
    with read_session(teams) as s:
        sources = s.scalars(select(Reading.source)).all()
        actors = s.scalars(select(AuditEvent.actor).where(AuditEvent.entity == "reading")).all()
    assert sources == ["api"]
    assert actors == ["token:pipeline"]


def test_a_token_cannot_make_or_revoke_tokens_of_another_team(teams: Engine) -> None:
    secret = make(teams)
    with read_session(teams) as s:
        actor = authenticate(s, header=f"Bearer {secret}", scope="readings:write", touch=False)
    with pytest.raises(PermissionDenied), write_session(teams) as s:
        create_token(s, actor=actor.actor, name="sneaky", team_key="SRC", scope="readings:write")
