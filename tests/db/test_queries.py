"""Read queries on a small hand-built PI, on SQLite and PostgreSQL: the snapshot holds
what the rules need as of a date, in a number of statements that does not grow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, event, select, update

from core.errors import ValidationError
from db.engine import read_session, write_session
from db.history import team_metrics
from db.models import PI, Hypothesis, Metric, Outcome, Target, Team
from db.queries import (
    current_pi,
    latest_readings,
    list_pis,
    list_teams,
    load_pi_snapshot,
    metric_readings,
    outcome_by_key,
    recent_releases,
    stale_metrics,
    team_by_key,
)
from tests import workspace
from tests.workspace import SMALL_PI_AS_OF as AS_OF
from tests.workspace import SMALL_PI_END as PI_END
from tests.workspace import SMALL_PI_NAME as PI_NAME
from tests.workspace import SMALL_PI_START as PI_START
from tests.workspace import Builder

D = dt.date


@pytest.fixture
def small_pi(engine: Engine) -> Engine:
    with write_session(engine) as session:
        workspace.small_pi(Builder(session))
    return engine


def metric_id(engine: Engine, team_key: str, name: str) -> int:
    with read_session(engine) as session:
        return session.scalar(
            select(Metric.id).join(Team).where(Team.key == team_key, Metric.name == name)
        )


def test_snapshot_has_the_pis_teams_and_outcomes_without_archived(small_pi: Engine) -> None:
    with read_session(small_pi) as session:
        snapshot = load_pi_snapshot(session, pi_name=PI_NAME, as_of=AS_OF)
    assert (snapshot.pi.name, snapshot.pi.start_date, snapshot.pi.end_date) == (
        PI_NAME,
        PI_START,
        PI_END,
    )
    assert snapshot.pi.train_name == "Payments"
    assert [t.key for t in snapshot.teams] == ["CHK", "T2"]
    keys = sorted(o.key for o in snapshot.outcomes)
    assert keys == ["CHK-1", "CHK-2", "PAY-1", "T2-1", "T2-2"]  # PAY-0 is archived
    chk1 = next(o for o in snapshot.outcomes if o.key == "CHK-1")
    assert [t.kind for t in chk1.targets] == ["increase", "decrease"]
    assert [h.release_name for h in chk1.hypotheses] == ["v2.3", "v2.4"]
    assert chk1.hypotheses[0].release_date == D(2026, 10, 20)
    assert (chk1.planned_bv, chk1.actual_bv) == (8, 7)
    assert [o.key for o in snapshot.team_outcomes(None)] == ["PAY-1"]


def test_snapshot_readings_are_as_of_and_cover_baselines_and_hypothesis_windows(
    small_pi: Engine,
) -> None:
    conversion = metric_id(small_pi, "CHK", "Checkout conversion")
    load = metric_id(small_pi, "CHK", "Page load")
    idle = metric_id(small_pi, "CHK", "Support tickets")
    with read_session(small_pi) as session:
        snapshot = load_pi_snapshot(session, pi_name=PI_NAME, as_of=AS_OF)
    # conversion: from the hypothesis window (20 Oct - 28 days = 22 Sep) to 2 Nov
    assert [r.date for r in snapshot.readings[conversion]] == [
        D(2026, 9, 28),
        D(2026, 10, 5),
        D(2026, 10, 12),
        D(2026, 10, 19),
        D(2026, 10, 26),
        D(2026, 11, 2),
    ]
    # page load: from its baseline date (its hypothesis' release is after the as-of date)
    assert snapshot.readings[load][0].date == PI_START
    assert snapshot.readings[load][-1].date == AS_OF
    # a metric no target names: only its latest reading
    assert [(r.date, r.value) for r in snapshot.readings[idle]] == [(D(2026, 9, 1), 40.0)]
    assert snapshot.latest_reading(idle).value == 40.0
    assert all(r.date <= AS_OF for series in snapshot.readings.values() for r in series)


def test_snapshot_releases_and_checkins_are_those_on_or_before_the_as_of_date(
    small_pi: Engine,
) -> None:
    with read_session(small_pi) as session:
        snapshot = load_pi_snapshot(session, pi_name=PI_NAME, as_of=AS_OF)
        later = load_pi_snapshot(session, pi_name=PI_NAME, as_of=D(2026, 12, 1))
    assert {r.name for r in snapshot.releases} == {"v2.3"}
    assert {r.name for r in later.releases} == {"v2.3", "v2.4"}
    assert {c.comment for c in snapshot.checkins} == {"going well"}
    assert {c.comment for c in later.checkins} == {"going well", "after as-of"}


def test_snapshot_values_agree_with_the_one_record_lookups_field_by_field(
    small_pi: Engine,
) -> None:
    """The snapshot builds its values from rows by column name; a lookup of one outcome,
    team or metric builds them from ORM records attribute by attribute. Both must give
    the same value, every field, targets and hypotheses (release name and date) included."""
    with read_session(small_pi) as session:
        snapshot = load_pi_snapshot(session, pi_name=PI_NAME, as_of=AS_OF)
        for outcome in snapshot.outcomes:
            assert outcome == outcome_by_key(session, pi_name=PI_NAME, key=outcome.key)
        for team in snapshot.teams:
            assert team == team_by_key(session, key=team.key)
        metrics = [m for t in snapshot.teams for m in team_metrics(session, team_key=t.key)]
    assert metrics, "the small PI has metrics"
    for metric in metrics:
        if not metric.archived:
            assert snapshot.metrics[metric.id] == metric
    assert any(h.release_date for o in snapshot.outcomes for h in o.hypotheses)
    assert any(m.unit for m in metrics), "text that is not the default is compared too"


def test_snapshot_for_one_team(small_pi: Engine) -> None:
    with read_session(small_pi) as session:
        snapshot = load_pi_snapshot(session, pi_name=PI_NAME, as_of=AS_OF, team_key="T2")
    assert [t.key for t in snapshot.teams] == ["T2"]
    assert sorted(o.key for o in snapshot.outcomes) == ["T2-1", "T2-2"]
    assert {m.team_id for m in snapshot.metrics.values()} == {snapshot.teams[0].id}


def test_snapshot_leaves_out_archived_targets_and_hypotheses(small_pi: Engine) -> None:
    with write_session(small_pi) as session:
        chk1 = session.scalar(select(Outcome.id).where(Outcome.key == "CHK-1"))
        session.execute(
            update(Target)
            .where(Target.outcome_id == chk1, Target.position == 1)
            .values(archived=True)
        )
        session.execute(
            update(Hypothesis).where(Hypothesis.outcome_id == chk1).values(archived=True)
        )
    with read_session(small_pi) as session:
        snapshot = load_pi_snapshot(session, pi_name=PI_NAME, as_of=AS_OF)
    outcome = next(o for o in snapshot.outcomes if o.key == "CHK-1")
    assert [t.kind for t in outcome.targets] == ["increase"]
    assert outcome.hypotheses == ()


@pytest.mark.parametrize(
    ("arguments", "field"),
    [({"pi_name": "PI 99.9"}, "pi"), ({"pi_name": PI_NAME, "team_key": "NOPE"}, "team")],
)
def test_snapshot_of_an_unknown_pi_or_team_names_the_field(
    small_pi: Engine, arguments: dict, field: str
) -> None:
    with read_session(small_pi) as session, pytest.raises(ValidationError) as error:
        load_pi_snapshot(session, as_of=AS_OF, **arguments)
    assert error.value.fields() == {field}


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, _parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("BEGIN", "ROLLBACK", "COMMIT")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def snapshot_statements(engine: Engine) -> list[str]:
    with read_session(engine) as session:
        # warm up: the first run may look up things once per connection
        load_pi_snapshot(session, pi_name=PI_NAME, as_of=AS_OF)
        with counting_statements(engine) as statements:
            load_pi_snapshot(session, pi_name=PI_NAME, as_of=AS_OF)
    return statements


def test_snapshot_statement_count_does_not_grow_with_outcomes_and_targets(
    engine: Engine,
) -> None:
    with write_session(engine) as session:
        workspace.small_pi(Builder(session), teams=1, outcomes_per_team=1)
    small = snapshot_statements(engine)
    with write_session(engine) as session:
        pi = session.scalar(select(PI).where(PI.name == PI_NAME))
        for index in range(1, 5):  # four more teams with six outcomes each
            workspace.small_pi_team(Builder(session), pi, index=index, outcomes_per_team=6)
    with read_session(engine) as session:
        grown = load_pi_snapshot(session, pi_name=PI_NAME, as_of=AS_OF)
    assert len(grown.outcomes) == 1 + 1 + 4 * 6 and len(grown.teams) == 5
    assert len(snapshot_statements(engine)) == len(small)
    assert len(small) <= 10


def test_list_pis_and_current_pi(small_pi: Engine) -> None:
    with read_session(small_pi) as session:
        assert [p.name for p in list_pis(session)] == ["PI 26.3", PI_NAME]
        assert [p.name for p in list_pis(session, train_name="Nope")] == []
        assert current_pi(session, today=AS_OF).name == PI_NAME
        assert current_pi(session, today=D(2026, 10, 3)).name == PI_NAME  # next to start
        assert current_pi(session, today=D(2027, 3, 1)).name == PI_NAME  # last that ended
        assert current_pi(session, today=D(2026, 8, 1)).name == "PI 26.3"


def test_teams_and_outcome_lookups(small_pi: Engine) -> None:
    with read_session(small_pi) as session:
        assert [t.key for t in list_teams(session)] == ["CHK", "T2"]
        assert [t.key for t in list_teams(session, train_name="Payments")] == ["CHK", "T2"]
        assert team_by_key(session, key="CHK").name == "Checkout"
        assert team_by_key(session, key="NOPE") is None
        outcome = outcome_by_key(session, pi_name=PI_NAME, key="CHK-1")
        assert outcome is not None and len(outcome.targets) == 2 and len(outcome.hypotheses) == 2
        assert outcome_by_key(session, pi_name=PI_NAME, key="NOPE-1") is None


def test_latest_readings_and_stale_metrics(small_pi: Engine) -> None:
    with read_session(small_pi) as session:
        chk = team_by_key(session, key="CHK")
        latest = latest_readings(session, as_of=AS_OF, team_ids=[chk.id])
        stale = stale_metrics(session, as_of=AS_OF)
    rows = {r.metric: r for r in latest.itertuples()}
    assert set(rows) == {"Checkout conversion", "Page load", "Support tickets"}
    assert rows["Page load"].last_date == AS_OF and rows["Page load"].days_since == 0
    assert not rows["Page load"].stale
    assert rows["Support tickets"].days_since == 62 and rows["Support tickets"].stale
    assert list(stale["metric"]) == ["Support tickets", "Support tickets"]


def test_recent_releases_and_metric_readings(small_pi: Engine) -> None:
    conversion = metric_id(small_pi, "CHK", "Checkout conversion")
    with read_session(small_pi) as session:
        releases = recent_releases(session, as_of=D(2026, 12, 1), limit=3)
        series = metric_readings(
            session, metric_ids=[conversion], start=D(2026, 10, 1), end=D(2026, 10, 31)
        )
    assert list(releases["name"]) == ["v2.4", "v2.4", "v2.3"]
    assert releases["date"].iloc[0] == D(2026, 11, 20)
    assert list(series["date"]) == [D(2026, 10, d) for d in (5, 12, 19, 26)]
