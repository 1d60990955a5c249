"""A large deterministic workspace for tests and benchmarks: the demo's teams, metrics and
outcomes repeated to any size, with readings bulk-loaded through the database driver."""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from core.access import Actor
from core.errors import Problem, ValidationError
from db.audit import record_audit
from db.engine import WRITE_OPTION, is_sqlite, make_engine, write_session
from db.migrate import upgrade
from db.models import PI, Reading, Train
from seed.demo import (
    CURRENT,
    DESIGN_LEAD_DAYS,
    READING_LAG_DAYS,
    SEED,
    TEAMS,
    TRAIN,
    WEEKS_OF_READINGS,
    DemoSummary,
    MetricSpec,
    OutcomeContext,
    SeedCounts,
    TeamRecords,
    TeamSpec,
    Timeline,
    add_metrics,
    add_pi_outcomes,
    add_releases,
    add_team,
    history_values,
    metric_rng,
    pi_calendar,
    release_schedule,
    require_empty,
    round_to,
    trend_value,
)

CHUNK_ROWS = 5_000  # rows per statement: short enough that other writers barely wait
REGIONS = ("", " (EU)", " (UK)", " (US)", " (APAC)", " (LATAM)", " (Nordics)", " (DACH)")
READING_COLUMNS = ("metric_id", "date", "value", "note", "source", "entered_by", "entered_at")
QUICK = {"teams": 5, "pis": 8, "metrics": 50, "readings": 200_000}  # a tenth


@dataclass(frozen=True)
class MetricLoad:
    """One metric's readings still to load."""

    metric_id: int
    team_key: str
    name: str
    spec: MetricSpec
    count: int


def team_names(count: int) -> list[tuple[TeamSpec, str, str]]:
    """(vocabulary, name, key) for `count` teams: the demo's five, then numbered copies
    ("Checkout 2", "CHK2")."""
    names = []
    for index in range(count):
        spec = TEAMS[index % len(TEAMS)]
        copy = index // len(TEAMS)
        if copy == 0:
            names.append((spec, spec.name, spec.key))
        else:
            names.append((spec, f"{spec.name} {copy + 1}", f"{spec.key}{copy + 1}"))
    return names


def metric_names(spec: TeamSpec, count: int) -> list[tuple[str, MetricSpec]]:
    """`count` metrics of a team: its six, then regional variants of them."""
    names = []
    for index in range(count):
        metric = spec.metrics[index % len(spec.metrics)]
        round_ = index // len(spec.metrics)
        suffix = REGIONS[round_] if round_ < len(REGIONS) else f" #{round_ + 1}"
        names.append((f"{metric.name}{suffix}", metric))
    return names


def shares(total: int, parts: int) -> list[int]:
    """`total` split into `parts` near-equal whole shares, larger ones first."""
    base, extra = divmod(total, parts)
    return [base + (1 if index < extra else 0) for index in range(parts)]


def reading_dates(today: dt.date, count: int) -> list[dt.date]:
    """`count` dates oldest first ending three days before today: weekly while that fits
    two years, daily beyond (2,000,000 readings over 500 metrics is 4,000 each)."""
    step = 7 if count <= WEEKS_OF_READINGS else 1
    latest = today - dt.timedelta(days=READING_LAG_DAYS)
    return [latest - dt.timedelta(days=step * k) for k in reversed(range(count))]


def _check_sizes(teams: int, pis: int, metrics: int, readings: int) -> None:
    problems = []
    if teams < 1:
        problems.append(Problem("teams", "at least 1"))
    if pis < 1:
        problems.append(Problem("pis", "at least 1"))
    if metrics < teams:
        problems.append(Problem("metrics", "at least one per team"))
    if readings < 0:
        problems.append(Problem("readings", "cannot be negative"))
    if problems:
        raise ValidationError(problems)


def build_scaled(
    engine: Engine,
    *,
    teams: int = 50,
    pis: int = 8,
    metrics: int = 500,
    readings: int = 2_000_000,
    today: dt.date | None = None,
) -> DemoSummary:
    """Write a scaled workspace into an empty, migrated database.

    Teams, PIs, metrics, releases and outcomes are written through the ORM in one
    transaction with its audit event, like the demo; readings follow in chunks through
    the driver (a failure part-way keeps the chunks loaded so far: start again from an
    empty database). Deterministic for given sizes and `today`."""
    _check_sizes(teams, pis, metrics, readings)
    today = today or dt.date.today()
    rng = random.Random(SEED)
    calendar = pi_calendar(today, past=max(0, pis - 2), upcoming=1 if pis >= 2 else 0)
    current = next(p for p in calendar if p.role == CURRENT)
    anchor = current.start - dt.timedelta(days=DESIGN_LEAD_DAYS)
    span_days = max(728, (today - calendar[0].start).days + 28)

    def value_on(_team_key: str, spec: MetricSpec, day: dt.date) -> float:
        # Baselines come from the smooth trend: readings are not written yet.
        return round_to(trend_value(spec, day, anchor), spec.decimals)

    loads: list[MetricLoad] = []
    counts = SeedCounts()
    with write_session(engine) as session:
        require_empty(session)
        train = Train(name=TRAIN.name)
        session.add(train)
        records: list[TeamRecords] = []
        metric_counts = shares(metrics, teams)
        for (spec, name, key), metric_count in zip(team_names(teams), metric_counts, strict=True):
            team = add_team(session, spec, train=train, name=name, key=key)
            add_metrics(session, team, metric_names(spec, metric_count))
            schedule = release_schedule(
                rng,
                today,
                first_version=spec.first_version,
                planned=spec.releases,
                span_days=span_days,
            )
            add_releases(session, team, schedule)
            records.append(team)
        pi_records = {
            plan.name: PI(name=plan.name, train=train, start_date=plan.start, end_date=plan.end)
            for plan in calendar
        }
        session.add_all(pi_records.values())
        session.flush()

        by_key = {team.team.key: team for team in records}
        for plan in calendar:
            ctx = OutcomeContext(
                pi=pi_records[plan.name],
                plan=plan,
                teams=by_key,
                today=today,
                value_on=value_on,
                rng=rng,
                counts=counts,
            )
            add_pi_outcomes(session, ctx, train=TRAIN, teams=records)

        reading_counts = iter(shares(readings, metrics))
        for team in records:
            for name, metric in team.metrics.items():
                spec = team.metric_specs[name]
                loads.append(MetricLoad(metric.id, team.team.key, name, spec, next(reading_counts)))
        record_audit(
            session,
            actor=Actor.system("seed"),
            action="import",
            entity="workspace",
            entity_id=None,
            summary=f"scaled workspace: {teams} teams, {len(calendar)} PIs, {metrics} metrics, "
            f"{readings} readings",
        )
        release_count = sum(len(team.releases) for team in records)

    loaded = load_readings(engine, loads, today=today, anchor=anchor)
    return DemoSummary(
        train=TRAIN.name,
        teams=teams,
        pis=tuple(p.name for p in calendar),
        current_pi=current.name,
        metrics=metrics,
        readings=loaded,
        releases=release_count,
        outcomes=counts.outcomes,
        targets=counts.targets,
        hypotheses=counts.hypotheses,
        checkins=counts.checkins,
    )


def reading_rows(
    loads: Sequence[MetricLoad],
    *,
    today: dt.date,
    anchor: dt.date,
    adapt: Callable[[dt.date], tuple[object, object]],
) -> Iterator[list[tuple[object, ...]]]:
    """Each metric's readings as tuples in READING_COLUMNS order, oldest first, metric by
    metric (the order the unique index on (metric, date) takes fastest). `adapt` turns a
    date into the driver's (date, entered_at) parameters."""
    timelines: dict[int, tuple[Timeline, list[tuple[object, object]]]] = {}
    for load in loads:
        if load.count not in timelines:
            dates = reading_dates(today, load.count)
            timelines[load.count] = (Timeline.of(dates, anchor), [adapt(day) for day in dates])
        timeline, params = timelines[load.count]
        values = history_values(metric_rng(load.team_key, load.name), load.spec, timeline)
        decimals, metric_id = load.spec.decimals, load.metric_id
        yield [
            (metric_id, day, round(value, decimals), "", "import", "", entered_at)
            for (day, entered_at), value in zip(params, values, strict=True)
        ]


def load_readings(
    engine: Engine, loads: Sequence[MetricLoad], *, today: dt.date, anchor: dt.date
) -> int:
    """Bulk-load the readings, CHUNK_ROWS to a statement and a transaction: on SQLite an
    `executemany` of tuples, on PostgreSQL a COPY. Returns the number loaded."""
    writer = engine.execution_options(**{WRITE_OPTION: True})
    sqlite = is_sqlite(engine)
    loaded = 0
    with writer.connect() as connection:
        adapt = _sqlite_params(connection) if sqlite else _plain_params
        pending: list[tuple[object, ...]] = []
        for rows in reading_rows(loads, today=today, anchor=anchor, adapt=adapt):
            pending.extend(rows)
            while len(pending) >= CHUNK_ROWS:
                loaded += _write_chunk(connection, pending[:CHUNK_ROWS], sqlite=sqlite)
                del pending[:CHUNK_ROWS]
        if pending:
            loaded += _write_chunk(connection, pending, sqlite=sqlite)
    return loaded


def _plain_params(day: dt.date) -> tuple[object, object]:
    return day, dt.datetime.combine(day, dt.time(16, 30))


def _sqlite_params(connection: Connection) -> Callable[[dt.date], tuple[object, object]]:
    """Dates as SQLAlchemy stores them on SQLite (its bind processors), so the ORM reads
    bulk-loaded rows back exactly like its own."""
    dialect = connection.dialect
    table = Reading.__table__
    to_date = table.c.date.type.dialect_impl(dialect).bind_processor(dialect)
    to_datetime = table.c.entered_at.type.dialect_impl(dialect).bind_processor(dialect)
    assert to_date is not None and to_datetime is not None

    def adapt(day: dt.date) -> tuple[object, object]:
        day_param, at_param = _plain_params(day)
        return to_date(day_param), to_datetime(at_param)

    return adapt


def _write_chunk(connection: Connection, chunk: list[tuple[object, ...]], *, sqlite: bool) -> int:
    columns = ", ".join(READING_COLUMNS)
    with connection.begin():
        if sqlite:
            marks = ", ".join("?" for _ in READING_COLUMNS)
            connection.exec_driver_sql(f"INSERT INTO readings ({columns}) VALUES ({marks})", chunk)
        else:
            raw = connection.connection.driver_connection
            assert raw is not None
            with (
                raw.cursor() as cursor,  # type: ignore[attr-defined]
                cursor.copy(f"COPY readings ({columns}) FROM STDIN") as copy,
            ):
                for row in chunk:
                    copy.write_row(row)
    return len(chunk)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m seed.scaled [--quick] [--teams N] ...`: fill the configured database."""
    parser = argparse.ArgumentParser(
        prog="python -m seed.scaled",
        description="Fill an empty database with a large deterministic workspace "
        "(OUTCOMES_DATABASE_URL, default data/outcomes.db) for benchmarks.",
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the full size")
    parser.add_argument("--teams", type=int, help="default 50 (5 with --quick)")
    parser.add_argument("--pis", type=int, help="default 8")
    parser.add_argument("--metrics", type=int, help="default 500 (50 with --quick)")
    parser.add_argument("--readings", type=int, help="default 2000000 (200000 with --quick)")
    parser.add_argument("--today", type=dt.date.fromisoformat, help="YYYY-MM-DD, default today")
    parser.add_argument("--url", help="database URL (default: OUTCOMES_DATABASE_URL)")
    args = parser.parse_args(argv)

    sizes = {"teams": 50, "pis": 8, "metrics": 500, "readings": 2_000_000}
    if args.quick:
        sizes.update(QUICK)
    for name in sizes:
        if getattr(args, name) is not None:
            sizes[name] = getattr(args, name)

    engine = make_engine(args.url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        summary = build_scaled(engine, today=args.today, **sizes)
    except ValidationError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    seconds = time.perf_counter() - started
    print(
        f"{summary.teams} teams, {len(summary.pis)} PIs (current {summary.current_pi}), "
        f"{summary.metrics} metrics, {summary.readings} readings, {summary.releases} releases, "
        f"{summary.outcomes} outcomes in {seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
