"""The demo workspace is deterministic, loads on both databases with what it promises, and
the scaled builder writes the sizes it is asked for."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from core.checks import is_task_phrased
from core.errors import ValidationError
from db.engine import read_session, write_session
from db.models import PI, AuditEvent, Base, Metric, Outcome, Reading, Team, Train
from seed.demo import build_demo, load_demo
from seed.scaled import build_scaled
from tests.conftest import DEMO_TODAY

# Columns that differ between two runs by nature: when the audit event was written.
# The data version's token is random by design (a restore must always change it).
RUN_DEPENDENT = {("audit_events", "at"), ("data_version", "token")}


def _dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ids made relative to the table's first id (PostgreSQL
    sequences do not restart), so two runs compare equal when they wrote the same."""
    tables = Base.metadata.sorted_tables
    with read_session(engine) as session:
        first = {
            t.name: session.scalar(select(func.min(t.c.id))) or 0 for t in tables if "id" in t.c
        }
        dump = {}
        for table in tables:
            columns = [c for c in table.c if (table.name, c.name) not in RUN_DEPENDENT]
            rows = session.execute(select(*columns).order_by(*table.primary_key.columns))
            dump[table.name] = [
                tuple(
                    _relative(column, value, first)
                    for column, value in zip(columns, row, strict=True)
                )
                for row in rows
            ]
    return dump


def _relative(column: Any, value: Any, first: dict[str, int]) -> Any:
    if value is None:
        return None
    if column.primary_key and column.name == "id":
        return value - first[column.table.name]
    if column.foreign_keys:
        return value - first[next(iter(column.foreign_keys)).column.table.name]
    return value


def _empty_workspace(engine: Engine) -> None:
    with write_session(engine) as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


def _count(session: Session, model: type[Base], *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_demo_is_identical_on_two_runs(engine: Engine) -> None:
    first_summary = load_demo(engine, today=DEMO_TODAY)
    first = _dump(engine)
    _empty_workspace(engine)

    second_summary = load_demo(engine, today=DEMO_TODAY)
    second = _dump(engine)

    assert second_summary == first_summary
    assert len(first["readings"]) == first_summary.readings > 0
    assert second == first


def test_demo_loads_the_promised_workspace(engine: Engine) -> None:
    summary = load_demo(engine, today=DEMO_TODAY)

    with read_session(engine) as session:
        assert _count(session, Train) == 1
        assert _count(session, Team) == 5
        assert _count(session, PI) == 3
        current = session.scalars(
            select(PI).where(PI.start_date <= DEMO_TODAY, PI.end_date >= DEMO_TODAY)
        ).all()
        per_team = session.execute(select(Metric.team_id, func.count()).group_by(Metric.team_id))
        task_phrased = [t for t in session.scalars(select(Outcome.title)) if is_task_phrased(t)]
    assert [pi.name for pi in current] == [summary.current_pi]
    assert sorted(count for _, count in per_team) == [6] * 5
    assert task_phrased == ["Build the new export wizard"]


def test_demo_readings_are_two_years_weekly_with_one_stale_metric(engine: Engine) -> None:
    load_demo(engine, today=DEMO_TODAY)

    with read_session(engine) as session:
        spans = session.execute(
            select(
                Metric.name,
                Metric.update_interval_days,
                func.count(Reading.id),
                func.min(Reading.date),
                func.max(Reading.date),
            )
            .join(Reading, Reading.metric_id == Metric.id)
            .group_by(Metric.id, Metric.name, Metric.update_interval_days)
        ).all()
    assert len(spans) == 30
    for _name, _interval, count, first, last in spans:
        assert first <= DEMO_TODAY - dt.timedelta(days=700)
        assert last < DEMO_TODAY
        # Weekly, with a few gaps: never more readings than weeks, never many missing.
        weeks = (last - first).days // 7 + 1
        assert weeks * 0.85 <= count <= weeks
    stale = [name for name, interval, _, _, last in spans if (DEMO_TODAY - last).days > interval]
    assert stale == ["Manual review time"]


def test_demo_scores_the_past_pi_and_drafts_the_next(engine: Engine) -> None:
    summary = load_demo(engine, today=DEMO_TODAY)
    past, current, upcoming = summary.pis

    with read_session(engine) as session:
        outcomes = session.scalars(select(Outcome).join(PI).where(PI.name == past)).all()
        drafts = session.scalars(select(Outcome.status).join(PI).where(PI.name == upcoming))
        children = session.scalars(
            select(Outcome.key)
            .join(PI)
            .where(PI.name == current, Outcome.parent_id.is_not(None))
            .order_by(Outcome.key)
        ).all()
        train_level = session.scalars(
            select(Outcome.key).join(PI).where(PI.name == current, Outcome.team_id.is_(None))
        ).all()
    assert outcomes and all(o.actual_bv is not None for o in outcomes)
    assert set(drafts) == {"draft"}
    assert train_level == ["PAY-1"]
    assert children == ["CHK-1", "WAL-1"]


def test_demo_writes_one_audit_event(engine: Engine) -> None:
    load_demo(engine, today=DEMO_TODAY)

    with read_session(engine) as session:
        events = session.scalars(select(AuditEvent)).all()
    assert [(e.actor, e.action, e.entity, e.summary) for e in events] == [
        ("demo", "import", "workspace", "demo workspace")
    ]


def test_second_demo_is_refused_and_writes_nothing(engine: Engine) -> None:
    load_demo(engine, today=DEMO_TODAY)
    with read_session(engine) as session:
        before = _count(session, Reading), _count(session, AuditEvent)

    with pytest.raises(ValidationError) as error:
        load_demo(engine, today=DEMO_TODAY + dt.timedelta(days=30))

    assert error.value.fields() == {"workspace"}
    with read_session(engine) as session:
        assert (_count(session, Reading), _count(session, AuditEvent)) == before


def test_build_demo_writes_through_the_callers_session(engine: Engine) -> None:
    with pytest.raises(RuntimeError), write_session(engine) as session:
        build_demo(session, today=DEMO_TODAY)
        raise RuntimeError("roll back")

    with read_session(engine) as session:
        assert _count(session, Team) == 0


def test_small_scaled_workspace_has_the_asked_sizes(engine: Engine) -> None:
    summary = build_scaled(engine, teams=3, pis=4, metrics=12, readings=5000, today=DEMO_TODAY)

    with read_session(engine) as session:
        sizes = (
            _count(session, Team),
            _count(session, PI),
            _count(session, Metric),
            _count(session, Reading),
        )
        per_metric = session.scalars(
            select(func.count()).select_from(Reading).group_by(Reading.metric_id)
        ).all()
        current = session.scalars(
            select(PI.name).where(PI.start_date <= DEMO_TODAY, PI.end_date >= DEMO_TODAY)
        ).all()
        stored = session.scalars(select(Reading).order_by(Reading.id).limit(1)).one()
    assert sizes == (3, 4, 12, 5000)
    assert sorted(set(per_metric)) == [416, 417]
    assert current == [summary.current_pi]
    assert summary.readings == 5000 and summary.outcomes > 0
    # Bulk-loaded rows read back through the ORM like any other reading.
    assert isinstance(stored.date, dt.date) and isinstance(stored.entered_at, dt.datetime)
    assert stored.source == "import"


def test_scaled_workspace_is_deterministic(engine: Engine) -> None:
    build_scaled(engine, teams=2, pis=2, metrics=4, readings=400, today=DEMO_TODAY)
    first = _dump(engine)
    _empty_workspace(engine)

    build_scaled(engine, teams=2, pis=2, metrics=4, readings=400, today=DEMO_TODAY)

    assert _dump(engine) == first


@pytest.mark.parametrize(
    ("sizes", "field"),
    [
        ({"teams": 0}, "teams"),
        ({"pis": 0}, "pis"),
        ({"teams": 4, "metrics": 3}, "metrics"),
        ({"readings": -1}, "readings"),
    ],
)
def test_scaled_workspace_rejects_impossible_sizes(
    engine: Engine, sizes: dict[str, int], field: str
) -> None:
    with pytest.raises(ValidationError) as error:
        build_scaled(engine, today=DEMO_TODAY, **{"teams": 3, "metrics": 12, **sizes})

    assert error.value.fields() == {field}
