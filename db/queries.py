"""Read queries: a PI's whole snapshot for the rules in a fixed number of statements, and
the lists and tables the dashboards show (dataclasses or DataFrames out)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import (
    Column,
    Date,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.engine import Result
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.functions import FunctionElement

from core.errors import Problem, ValidationError
from core.model import (
    CheckInInfo,
    HypothesisSpec,
    MetricInfo,
    OutcomeSpec,
    PIInfo,
    PISnapshot,
    ReadingPoint,
    ReleaseInfo,
    TargetSpec,
    TeamInfo,
    TrainInfo,
)
from core.reading_files import gc_paused
from db.models import (
    PI,
    CheckIn,
    Hypothesis,
    Metric,
    Outcome,
    Reading,
    Release,
    Target,
    Team,
    Train,
)

# ---------------------------------------------------------------- row -> value


def _pi_info(pi: Any, train_name: str | None) -> PIInfo:
    """From an ORM record or a row with the same column names (so are the others)."""
    return PIInfo(
        id=pi.id,
        name=pi.name,
        start_date=pi.start_date,
        end_date=pi.end_date,
        train_id=pi.train_id,
        train_name=train_name,
    )


def _team_info(team: Any) -> TeamInfo:
    return TeamInfo(
        id=team.id, name=team.name, key=team.key, train_id=team.train_id, active=team.active
    )


def _metric_info(metric: Any) -> MetricInfo:
    return MetricInfo(
        id=metric.id,
        team_id=metric.team_id,
        name=metric.name,
        unit=metric.unit or "",
        decimals=metric.decimals,
        update_interval_days=metric.update_interval_days,
        leading=metric.leading,
        description=metric.description or "",
        source=metric.source or "",
        archived=metric.archived,
    )


def _target_spec(target: Any) -> TargetSpec:
    return TargetSpec(
        id=target.id,
        outcome_id=target.outcome_id,
        metric_id=target.metric_id,
        kind=target.kind,
        baseline=target.baseline,
        baseline_date=target.baseline_date,
        target=target.target,
        target_date=target.target_date,
        band_low=target.band_low,
        band_high=target.band_high,
        position=target.position,
    )


def _hypothesis_spec(
    hypothesis: Any, release_name: str | None, release_date: dt.date | None
) -> HypothesisSpec:
    return HypothesisSpec(
        id=hypothesis.id,
        outcome_id=hypothesis.outcome_id,
        metric_id=hypothesis.metric_id,
        if_text=hypothesis.if_text,
        expect_text=hypothesis.expect_text,
        because_text=hypothesis.because_text or "",
        direction=hypothesis.direction,
        min_effect=hypothesis.min_effect,
        min_effect_unit=hypothesis.min_effect_unit,
        release_id=hypothesis.release_id,
        release_name=release_name,
        release_date=release_date,
        window_days=hypothesis.window_days,
        override=hypothesis.override,
        override_reason=hypothesis.override_reason,
        learning=hypothesis.learning or "",
        decision=hypothesis.decision,
        position=hypothesis.position,
    )


def _outcome_spec(
    outcome: Any, targets: Sequence[TargetSpec], hypotheses: Sequence[HypothesisSpec]
) -> OutcomeSpec:
    return OutcomeSpec(
        id=outcome.id,
        pi_id=outcome.pi_id,
        key=outcome.key,
        title=outcome.title,
        team_id=outcome.team_id,
        why=outcome.why or "",
        owner=outcome.owner or "",
        committed=outcome.committed,
        planned_bv=outcome.planned_bv,
        actual_bv=outcome.actual_bv,
        parent_id=outcome.parent_id,
        status=outcome.status,
        position=outcome.position,
        version=outcome.version,
        targets=tuple(targets),
        hypotheses=tuple(hypotheses),
    )


# ---------------------------------------------------------------- lookups


def list_trains(session: Session) -> list[TrainInfo]:
    rows = session.scalars(select(Train).where(Train.archived == false()).order_by(Train.name))
    return [TrainInfo(id=t.id, name=t.name) for t in rows]


def list_pis(session: Session, *, train_name: str | None = None) -> list[PIInfo]:
    """PIs by start date (of one train when named)."""
    query = select(PI, Train.name).outerjoin(Train, PI.train_id == Train.id)
    if train_name is not None:
        query = query.where(Train.name == train_name)
    return [_pi_info(pi, name) for pi, name in session.execute(query.order_by(PI.start_date))]


_PI_BY_NAME = (
    select(PI.__table__, Train.name.label("train_name"))
    .outerjoin(Train, PI.train_id == Train.id)
    .where(PI.name == bindparam("pi_name", type_=String))
)


def pi_by_name(session: Session, *, pi_name: str) -> PIInfo:
    """The PI of that name; ValidationError naming `pi` when there is none."""
    row = session.connection().execute(_PI_BY_NAME, {"pi_name": pi_name}).first()
    if row is None:
        raise ValidationError(Problem("pi", f"no PI named {pi_name!r}"))
    return _pi_info(row, row.train_name)


def current_pi(session: Session, *, today: dt.date, train_name: str | None = None) -> PIInfo | None:
    """The PI running on `today`; else the next one to start; else the last one that
    ended; None when there is no PI at all."""
    pis = list_pis(session, train_name=train_name)
    running = [p for p in pis if p.start_date <= today <= p.end_date]
    if running:
        return running[-1]
    upcoming = [p for p in pis if p.start_date > today]
    if upcoming:
        return upcoming[0]
    return pis[-1] if pis else None


def list_teams(
    session: Session, *, train_name: str | None = None, include_inactive: bool = False
) -> list[TeamInfo]:
    """Teams by name (of one train when named)."""
    query = select(Team)
    if train_name is not None:
        query = query.join(Train, Team.train_id == Train.id).where(Train.name == train_name)
    if not include_inactive:
        query = query.where(Team.active == true())
    return [_team_info(t) for t in session.scalars(query.order_by(Team.name))]


def team_by_key(session: Session, *, key: str) -> TeamInfo | None:
    team = session.scalars(select(Team).where(Team.key == key)).first()
    return _team_info(team) if team else None


def outcome_by_key(session: Session, *, pi_name: str, key: str) -> OutcomeSpec | None:
    """One outcome of a PI with its targets and hypotheses (three statements)."""
    outcome = session.scalars(
        select(Outcome)
        .join(PI, Outcome.pi_id == PI.id)
        .where(PI.name == pi_name, Outcome.key == key)
    ).first()
    if outcome is None:
        return None
    targets = [
        _target_spec(t)
        for t in session.scalars(
            select(Target)
            .where(Target.outcome_id == outcome.id, Target.archived == false())
            .order_by(Target.position, Target.id)
        )
    ]
    hypotheses = [
        _hypothesis_spec(h, name, date)
        for h, name, date in session.execute(
            select(Hypothesis, Release.name, Release.date)
            .outerjoin(Release, Hypothesis.release_id == Release.id)
            .where(Hypothesis.outcome_id == outcome.id, Hypothesis.archived == false())
            .order_by(Hypothesis.position, Hypothesis.id)
        )
    ]
    return _outcome_spec(outcome, targets, hypotheses)


# ---------------------------------------------------------------- readings


def _latest_reading_id(metric_id_column, as_of: dt.date):  # type: ignore[no-untyped-def]
    """Correlated subquery: the id of a metric's latest reading on or before `as_of`.
    FACTS.md: on the (metric_id, date) index this is the fastest shape by far."""
    inner = aliased(Reading)
    return (
        select(inner.id)
        .where(inner.metric_id == metric_id_column, inner.date <= as_of)
        .order_by(inner.date.desc())
        .limit(1)
        .scalar_subquery()
    )


def latest_readings_for(
    session: Session, *, metric_ids: Iterable[int], as_of: dt.date
) -> dict[int, ReadingPoint]:
    """The latest reading on or before `as_of` of each of these metrics (one statement)."""
    ids = sorted(set(metric_ids))
    if not ids:
        return {}
    query = (
        select(Metric.id, Reading.date, Reading.value)
        .join(Reading, Reading.id == _latest_reading_id(Metric.id, as_of))
        .where(Metric.id.in_(ids))
    )
    return {m: ReadingPoint(d, v) for m, d, v in session.execute(query)}


def metric_readings(
    session: Session, *, metric_ids: Iterable[int], start: dt.date | None, end: dt.date
) -> pd.DataFrame:
    """Readings of these metrics between two dates (inclusive; `start` None: from the
    first), for charts: columns metric_id, date, value, note, entered_by (the chart's
    tooltip shows the last two)."""
    ids = sorted(set(metric_ids))
    query = select(
        Reading.metric_id, Reading.date, Reading.value, Reading.note, Reading.entered_by
    ).where(Reading.metric_id.in_(ids), Reading.date <= end)
    if start is not None:
        query = query.where(Reading.date >= start)
    rows = session.execute(query.order_by(Reading.metric_id, Reading.date)).all() if ids else []
    return pd.DataFrame(rows, columns=["metric_id", "date", "value", "note", "entered_by"])


def latest_readings(
    session: Session, *, as_of: dt.date, team_ids: Iterable[int] | None = None
) -> pd.DataFrame:
    """Every active metric (of these teams) with its latest reading on or before `as_of`:
    columns metric_id, team_id, team, metric, unit, decimals, update_interval_days,
    leading, last_date, last_value, days_since, stale. A metric with no reading is stale
    (silence is never green)."""
    latest_id = _latest_reading_id(Metric.id, as_of)
    query = (
        select(
            Metric.id,
            Metric.team_id,
            Team.name,
            Metric.name,
            Metric.unit,
            Metric.decimals,
            Metric.update_interval_days,
            Metric.leading,
            Reading.date,
            Reading.value,
        )
        .join(Team, Metric.team_id == Team.id)
        .outerjoin(Reading, Reading.id == latest_id)
        .where(Metric.archived == false())
        .order_by(Team.name, Metric.name)
    )
    if team_ids is not None:
        query = query.where(Metric.team_id.in_(sorted(set(team_ids))))
    columns = [
        "metric_id",
        "team_id",
        "team",
        "metric",
        "unit",
        "decimals",
        "update_interval_days",
        "leading",
        "last_date",
        "last_value",
    ]
    frame = pd.DataFrame(session.execute(query).all(), columns=columns)
    frame["days_since"] = [
        (as_of - d).days if isinstance(d, dt.date) else None for d in frame["last_date"]
    ]
    frame["stale"] = [
        days is None or pd.isna(days) or days > interval
        for days, interval in zip(frame["days_since"], frame["update_interval_days"], strict=True)
    ]
    return frame


def stale_metrics(
    session: Session, *, as_of: dt.date, team_ids: Iterable[int] | None = None
) -> pd.DataFrame:
    """Active metrics whose latest reading is older than their update interval, or that
    have none, most overdue first (same columns as `latest_readings`)."""
    frame = latest_readings(session, as_of=as_of, team_ids=team_ids)
    stale = frame[frame["stale"]].copy()
    stale["_order"] = stale["days_since"].fillna(10**6)
    return (
        stale.sort_values(["_order", "team", "metric"], ascending=[False, True, True])
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def recent_releases(
    session: Session,
    *,
    as_of: dt.date,
    team_ids: Iterable[int] | None = None,
    limit: int = 10,
) -> pd.DataFrame:
    """The latest releases on or before `as_of`, newest first: columns release_id,
    team_id, team, name, date, notes, link."""
    query = (
        select(
            Release.id,
            Release.team_id,
            Team.name,
            Release.name,
            Release.date,
            Release.notes,
            Release.link,
        )
        .join(Team, Release.team_id == Team.id)
        .where(Release.date <= as_of, Release.archived == false())
        .order_by(Release.date.desc(), Release.id.desc())
        .limit(limit)
    )
    if team_ids is not None:
        query = query.where(Release.team_id.in_(sorted(set(team_ids))))
    return pd.DataFrame(
        session.execute(query).all(),
        columns=["release_id", "team_id", "team", "name", "date", "notes", "link"],
    )


# ---------------------------------------------------------------- the PI snapshot


class days_before(FunctionElement):
    """`day - n days` as a date, in each database's own words (SQLite has no date
    arithmetic operators; PostgreSQL subtracts an integer from a date)."""

    type = Date()
    inherit_cache = True


@compiles(days_before)
def _days_before_default(element: days_before, compiler: Any, **kw: Any) -> str:
    day, days = list(element.clauses)
    return f"({compiler.process(day, **kw)} - {compiler.process(days, **kw)})"


@compiles(days_before, "sqlite")
def _days_before_sqlite(element: days_before, compiler: Any, **kw: Any) -> str:
    day, days = list(element.clauses)
    return f"date({compiler.process(day, **kw)}, '-' || {compiler.process(days, **kw)} || ' days')"


def _readings_matter_from(
    pi_start: dt.date, outcomes: Sequence[OutcomeSpec], as_of: dt.date
) -> dt.date:
    """The earliest day any rule or chart of the PI looks at: the PI start, a target's
    baseline date, or the start of a hypothesis window before its release."""
    days = [pi_start]
    for outcome in outcomes:
        days += [t.baseline_date for t in outcome.targets if t.baseline_date is not None]
        days += [
            h.release_date - dt.timedelta(days=h.window_days)
            for h in outcome.hypotheses
            if h.release_date is not None and h.release_date <= as_of
        ]
    return min(days)


@dataclass(frozen=True)
class _SnapshotStatements:
    teams: Select
    outcomes: Select
    targets: Select
    hypotheses: Select
    metrics: Select
    latest: Select
    windows: Select
    releases: Select
    checkins: Select


T = TypeVar("T")


def _named_like(value_type: type, table: Table) -> list[Column[Any]]:
    """The columns of `table` that `value_type` has a field for, so that a row builds the
    value by name (`_values`) with no lookup per attribute: a Row's attribute costs about
    0.3 us, and a PI's snapshot would read tens of thousands of them."""
    names = {value_field.name for value_field in dataclasses.fields(value_type)}
    return [column for column in table.columns if column.name in names]


def _values(value_type: Callable[..., T], result: Result[Any]) -> list[T]:
    """One `value_type` per row of a statement selecting `_named_like` columns."""
    names = tuple(result.keys())
    return [value_type(**dict(zip(names, row, strict=True))) for row in result.all()]


@functools.cache
def _snapshot_statements(*, by_team: bool, train_known: bool) -> _SnapshotStatements:
    """The snapshot's statements, built once per shape with bound parameters (pi_id,
    train_id, team_key, team_id, as_of) so SQLAlchemy compiles each only once. Each is a
    plain column select: no ORM identity map for read-only values."""
    pi_id = bindparam("pi_id", type_=Integer)
    as_of = bindparam("as_of", type_=Date)
    outcome_criteria = [Outcome.pi_id == pi_id, Outcome.status != "archived"]
    if by_team:
        outcome_criteria.append(Outcome.team_id == bindparam("team_id", type_=Integer))
    outcome_ids = select(Outcome.id).where(*outcome_criteria)

    if by_team:
        team_criteria = Team.key == bindparam("team_key", type_=String)
    else:
        in_train = Team.train_id == bindparam("train_id", type_=Integer) if train_known else true()
        has_outcome = Team.id.in_(select(Outcome.team_id).where(*outcome_criteria))
        team_criteria = or_(and_(Team.active == true(), in_train), has_outcome)
    team_ids = select(Team.id).where(team_criteria)

    targets = Target.__table__
    hypotheses = Hypothesis.__table__
    named_metrics = (
        select(targets.c.metric_id)
        .where(targets.c.outcome_id.in_(outcome_ids))
        .union(select(hypotheses.c.metric_id).where(hypotheses.c.outcome_id.in_(outcome_ids)))
    )
    metric_criteria = or_(
        and_(Metric.team_id.in_(team_ids), Metric.archived == false()),
        Metric.id.in_(named_metrics),
    )

    # Where each metric's readings start to matter: its targets' baseline dates and its
    # hypotheses' windows before their releases, the earliest of them.
    starts = union_all(
        select(targets.c.metric_id.label("metric_id"), targets.c.baseline_date.label("start"))
        .join(Outcome, Outcome.id == targets.c.outcome_id)
        .where(
            *outcome_criteria,
            targets.c.archived == false(),
            targets.c.baseline_date.is_not(None),
            targets.c.baseline_date <= as_of,
        ),
        select(
            hypotheses.c.metric_id,
            days_before(Release.date, hypotheses.c.window_days),
        )
        .join(Outcome, Outcome.id == hypotheses.c.outcome_id)
        .join(Release, Release.id == hypotheses.c.release_id)
        .where(*outcome_criteria, hypotheses.c.archived == false(), Release.date <= as_of),
    ).subquery("starts")
    windows = (
        select(starts.c.metric_id, func.min(starts.c.start).label("start"))
        .group_by(starts.c.metric_id)
        .cte("windows")
    )

    return _SnapshotStatements(
        teams=select(*_named_like(TeamInfo, Team.__table__))
        .where(team_criteria)
        .order_by(Team.name),
        outcomes=select(*_named_like(OutcomeSpec, Outcome.__table__))
        .where(*outcome_criteria)
        .order_by(Outcome.position, Outcome.key),
        targets=select(*_named_like(TargetSpec, targets))
        .where(targets.c.outcome_id.in_(outcome_ids), targets.c.archived == false())
        .order_by(targets.c.outcome_id, targets.c.position, targets.c.id),
        hypotheses=select(
            *_named_like(HypothesisSpec, hypotheses),
            Release.name.label("release_name"),
            Release.date.label("release_date"),
        )
        .outerjoin(Release, Release.id == hypotheses.c.release_id)
        .where(hypotheses.c.outcome_id.in_(outcome_ids), hypotheses.c.archived == false())
        .order_by(hypotheses.c.outcome_id, hypotheses.c.position, hypotheses.c.id),
        metrics=select(*_named_like(MetricInfo, Metric.__table__))
        .where(metric_criteria)
        .order_by(Metric.id),
        latest=select(Metric.id, Reading.date, Reading.value)
        .join(Reading, Reading.id == _latest_reading_id(Metric.id, as_of))
        .where(metric_criteria),
        windows=select(Reading.metric_id, Reading.date, Reading.value)
        .join(
            windows,
            and_(Reading.metric_id == windows.c.metric_id, Reading.date >= windows.c.start),
        )
        .where(Reading.date <= as_of)
        .order_by(Reading.metric_id, Reading.date),
        releases=select(*_named_like(ReleaseInfo, Release.__table__))
        .where(
            Release.team_id.in_(team_ids),
            Release.date >= bindparam("since", type_=Date),
            Release.date <= as_of,
            Release.archived == false(),
        )
        .order_by(Release.date, Release.id),
        checkins=select(*_named_like(CheckInInfo, CheckIn.__table__))
        .where(CheckIn.outcome_id.in_(outcome_ids), CheckIn.date <= as_of)
        .order_by(CheckIn.date, CheckIn.id),
    )


def load_pi_snapshot(
    session: Session, *, pi_name: str, as_of: dt.date, team_key: str | None = None
) -> PISnapshot:
    """Everything one PI's rules need as of a date, in a fixed number of statements (ten,
    however many teams, outcomes or targets): readings, releases and check-ins on or
    before `as_of`; business value as currently recorded; archived outcomes, targets and
    hypotheses left out. The database does the aggregating: the latest reading of each
    metric (correlated subquery on the (metric_id, date) index) and each metric's reading
    window (from its earliest baseline date or hypothesis window start up to `as_of`).

    Teams: those of the PI's train that are active (every active team when the PI has no
    train), plus any team with an outcome in the PI. With `team_key`, only that team and
    its outcomes (no train-level outcomes). Unknown PI or team: ValidationError naming
    `pi` or `team`."""
    # Tens of thousands of small frozen objects, none in a cycle: with the collector on,
    # generation-2 collections re-scanned them mid-build and took about half the time
    # (bench/RESULTS.md, report queries: 131 ms with it on, 78 ms frozen, 43 ms by hand).
    with gc_paused():
        return _load_pi_snapshot(session, pi_name=pi_name, as_of=as_of, team_key=team_key)


def _load_pi_snapshot(
    session: Session, *, pi_name: str, as_of: dt.date, team_key: str | None
) -> PISnapshot:
    pi = pi_by_name(session, pi_name=pi_name)
    # Core execution on the session's connection: plain rows, no ORM bookkeeping.
    connection = session.connection()
    statements = _snapshot_statements(
        by_team=team_key is not None, train_known=pi.train_id is not None
    )
    params: dict[str, Any] = {"pi_id": pi.id, "train_id": pi.train_id, "as_of": as_of}
    if team_key is not None:
        params["team_key"] = team_key

    teams = _values(TeamInfo, connection.execute(statements.teams, params))
    if team_key is not None:
        if not teams:
            raise ValidationError(Problem("team", f"no team with key {team_key!r}"))
        params["team_id"] = teams[0].id

    outcome_result = connection.execute(statements.outcomes, params)
    outcome_names = tuple(outcome_result.keys())
    outcome_rows = outcome_result.all()
    targets: dict[int, list[TargetSpec]] = defaultdict(list)
    for target in _values(TargetSpec, connection.execute(statements.targets, params)):
        targets[target.outcome_id].append(target)
    hypotheses: dict[int, list[HypothesisSpec]] = defaultdict(list)
    for hypothesis in _values(HypothesisSpec, connection.execute(statements.hypotheses, params)):
        hypotheses[hypothesis.outcome_id].append(hypothesis)
    outcomes = []
    for row in outcome_rows:
        columns = dict(zip(outcome_names, row, strict=True))
        outcome_id = columns["id"]
        outcomes.append(
            OutcomeSpec(
                **columns,
                targets=tuple(targets[outcome_id]),
                hypotheses=tuple(hypotheses[outcome_id]),
            )
        )

    metrics = {
        metric.id: metric
        for metric in _values(MetricInfo, connection.execute(statements.metrics, params))
    }
    # Rows come ordered by metric and date: one tuple per metric, built in one pass.
    window = {
        metric_id: tuple(ReadingPoint(day, value) for _, day, value in rows)
        for metric_id, rows in groupby(
            connection.execute(statements.windows, params).all(), key=itemgetter(0)
        )
    }
    readings: dict[int, tuple[ReadingPoint, ...]] = {}
    for metric_id, day, value in connection.execute(statements.latest, params).all():
        # A window that holds any reading ends with the latest one; else the latest alone.
        readings[metric_id] = window.get(metric_id) or (ReadingPoint(day, value),)

    params["since"] = _readings_matter_from(pi.start_date, outcomes, as_of)
    releases = _values(ReleaseInfo, connection.execute(statements.releases, params))
    checkins = _values(CheckInInfo, connection.execute(statements.checkins, params))
    return PISnapshot(
        pi=pi,
        as_of=as_of,
        teams=tuple(teams),
        outcomes=tuple(outcomes),
        metrics=metrics,
        readings=readings,
        releases=tuple(releases),
        checkins=tuple(checkins),
    )
