"""The digest's facts from the database, on both databases: new readings with old -> new,
stale metrics with their last date, and destinations that store names, never URLs."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from core.access import Actor
from core.digest import digest_markdown
from core.errors import PermissionDenied, ValidationError
from db import writes
from db.digest import build_digest, list_destinations, set_digest_destination
from db.engine import read_session, write_session
from db.sources import record_sync, set_metric_source

TODAY = dt.date(2026, 11, 2)
SINCE = TODAY - dt.timedelta(days=7)


@pytest.fixture
def team(engine: Engine, admin: Actor) -> int:
    with write_session(engine) as s:
        team = writes.create_team(s, actor=admin, name="Checkout", key="CHK")
        conversion = writes.create_metric(s, actor=admin, team_id=team.id, name="Conversion")
        writes.create_metric(s, actor=admin, team_id=team.id, name="Errors", update_interval_days=7)
        writes.record_readings(
            s,
            actor=admin,
            entries=[
                writes.ReadingEntry(conversion.id, SINCE - dt.timedelta(days=3), 2.0),
                writes.ReadingEntry(conversion.id, SINCE + dt.timedelta(days=2), 2.2),
                writes.ReadingEntry(conversion.id, TODAY, 2.4),
            ],
        )
        return team.id


def test_new_readings_old_to_new_and_stale_metrics(engine: Engine, team: int) -> None:
    with read_session(engine) as s:
        digest = build_digest(s, team_key="chk", since=SINCE, today=TODAY)
    ((change),) = digest.readings
    assert (change.metric, change.old, change.new, change.count) == ("Conversion", 2.0, 2.4, 2)
    assert [(m.metric, m.last_date) for m in digest.stale] == [("Errors", None)]
    assert digest.pi is None and not digest.empty


def test_unknown_team_is_named(engine: Engine, team: int) -> None:
    with pytest.raises(ValidationError) as error, read_session(engine) as s:
        build_digest(s, team_key="NOPE", today=TODAY)
    assert error.value.fields() == {"team"}


@pytest.mark.parametrize(
    ("kind", "target", "stored"),
    [
        ("webhook", "team-chat", "team-chat"),
        ("email", "a@example.com; b@example.com", "a@example.com, b@example.com"),
    ],
)
def test_destinations_store_names_and_addresses(
    engine: Engine, team: int, admin: Actor, kind: str, target: str, stored: str
) -> None:
    with write_session(engine) as s:
        set_digest_destination(s, actor=admin, team_id=team, kind=kind, target=target)
        set_digest_destination(s, actor=admin, team_id=team, kind=kind, target=target)
    with read_session(engine) as s:
        assert [(d.kind, d.target) for d in list_destinations(s)] == [(kind, stored)]


@pytest.mark.parametrize(
    ("kind", "target"),
    [("webhook", "https://hooks.slack.com/services/T/B/X"), ("email", "not-an-address")],
)
def test_a_url_or_a_bad_address_is_refused(
    engine: Engine, team: int, admin: Actor, kind: str, target: str
) -> None:
    with pytest.raises(ValidationError) as error, write_session(engine) as s:
        set_digest_destination(s, actor=admin, team_id=team, kind=kind, target=target)
    assert error.value.fields() == {"target"}


def test_only_admins_configure_digests(engine: Engine, team: int) -> None:
    editor = Actor("edna", "editor", frozenset({team}))
    with pytest.raises(PermissionDenied), write_session(engine) as s:
        set_digest_destination(s, actor=editor, team_id=team, kind="webhook", target="x")


def test_sources_that_failed_are_listed_with_their_error_and_only_the_scope_s(
    engine: Engine, team: int, admin: Actor
) -> None:
    spec = {"kind": "sql", "connection": "warehouse", "query": "SELECT 1 AS value"}
    with write_session(engine) as s:
        other = writes.create_team(s, actor=admin, name="Search", key="SRC")
        metrics = {
            name: writes.create_metric(s, actor=admin, team_id=team_id, name=name).id
            for name, team_id in (("Signups", team), ("Latency", team), ("Queries", other.id))
        }
        for metric_id in metrics.values():
            set_metric_source(s, actor=admin, metric_id=metric_id, spec=spec)
        record_sync(s, metric_id=metrics["Signups"], outcome="failed", error="HTTP 500")
        record_sync(s, metric_id=metrics["Latency"], outcome="ok")
        record_sync(s, metric_id=metrics["Queries"], outcome="failed", error="timeout")

    with read_session(engine) as s:
        digest = build_digest(s, team_key="CHK", since=SINCE, today=TODAY)

    ((line),) = digest.failed_sources
    assert line.startswith("Checkout / Signups (sql): failing since ")
    assert line.endswith(": HTTP 500")
    assert "## Sources that failed" in digest_markdown(digest)
