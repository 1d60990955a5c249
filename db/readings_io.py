"""Reading imports and exports: check a parsed file against the stored workspace, write it
all or nothing in bulk with one audit event, and read readings out in the file columns."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from core.access import Actor, can_edit_team
from core.errors import PermissionDenied, Problem, ValidationError
from core.reading_files import (
    COLUMNS,
    ReadingRow,
    exact_text,
    gc_paused,
    is_storable,
    parse_reading_file,
    problem_row,
    rows_text,
    same_value,
    sort_problems,
)
from core.validate import unstorable
from db.audit import record_audit, utcnow
from db.models import READING_SOURCES, Metric, Reading, Team

NEW = "new"
IDENTICAL = "identical"  # same value (and note, when the file gives one): skipped
REPLACE = "replace"  # a different value or note is stored for that metric and date
BAD = "bad"

# Rows per INSERT/UPDATE statement, and metrics per look-up query: small enough for
# SQLite's and PostgreSQL's parameter limits, large enough to keep round trips few.
WRITE_CHUNK = 5_000
METRICS_PER_QUERY = 200

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class PlannedReading:
    """What importing one row would do. Names are the stored ones once resolved."""

    row: int
    status: str  # new, identical, replace, bad
    team: str
    metric: str
    date: dt.date
    value: float
    note: str
    team_id: int | None = None
    metric_id: int | None = None
    reading_id: int | None = None  # the stored reading on that date, if any
    old_value: float | None = None
    old_note: str | None = None


@dataclass(frozen=True)
class ImportPlan:
    """Every row of a file classified against the database, and what blocks writing it."""

    readings: list[PlannedReading]
    problems: list[Problem]
    replace: bool
    team_names: dict[int, str] = field(default_factory=dict)  # every team the file names

    def count(self, status: str) -> int:
        return sum(1 for reading in self.readings if reading.status == status)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ImportResult:
    added: int
    replaced: int
    skipped: int
    problems: list[Problem] = field(default_factory=list)  # only ever filled by a dry run
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------------------- checking


def _casefold_index(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    index: dict[str, int] = {}
    for text, ident in pairs:
        index.setdefault(text.casefold(), ident)
    return index


def _load_teams(session: Session) -> tuple[dict[int, str], Callable[[str], int | None]]:
    """Team names by id and a resolver of a name or key (exact case first)."""
    teams = session.execute(select(Team.id, Team.name, Team.key).order_by(Team.id)).all()
    names = {team.id: team.name for team in teams}
    # A name wins over another team's identical key.
    exact = {team.key: team.id for team in teams} | {team.name: team.id for team in teams}
    by_name = _casefold_index((team.name, team.id) for team in teams)
    by_key = _casefold_index((team.key, team.id) for team in teams)

    def resolve(text: str) -> int | None:
        if text in exact:
            return exact[text]
        folded = text.casefold()
        return by_name.get(folded, by_key.get(folded))

    return names, resolve


def _load_metrics(
    session: Session, team_ids: set[int]
) -> dict[tuple[int, str], tuple[int, str, bool]]:
    """(team id, folded metric name) -> (metric id, stored name, archived)."""
    metrics: dict[tuple[int, str], tuple[int, str, bool]] = {}
    if not team_ids:
        return metrics
    ordered = sorted(team_ids)
    for start in range(0, len(ordered), METRICS_PER_QUERY):
        chunk = ordered[start : start + METRICS_PER_QUERY]
        query = (
            select(Metric.id, Metric.team_id, Metric.name, Metric.archived)
            .where(Metric.team_id.in_(chunk))
            .order_by(Metric.id)
        )
        for metric in session.execute(query):
            metrics.setdefault(
                (metric.team_id, metric.name.casefold()),
                (metric.id, metric.name, metric.archived),
            )
    return metrics


def _load_stored(
    session: Session, wanted: set[tuple[int, dt.date]]
) -> dict[tuple[int, dt.date], tuple[int, float, str]]:
    """The stored readings for the (metric id, date) pairs of a file: one query per
    METRICS_PER_QUERY metrics, each metric limited to the file's date span for it."""
    spans: dict[int, list[dt.date]] = {}
    for metric_id, date in wanted:
        span = spans.setdefault(metric_id, [date, date])
        if date < span[0]:
            span[0] = date
        elif date > span[1]:
            span[1] = date
    stored: dict[tuple[int, dt.date], tuple[int, float, str]] = {}
    ordered = sorted(spans)
    for start in range(0, len(ordered), METRICS_PER_QUERY):
        chunk = ordered[start : start + METRICS_PER_QUERY]
        ranges = [
            and_(Reading.metric_id == metric_id, Reading.date.between(*spans[metric_id]))
            for metric_id in chunk
        ]
        query = select(
            Reading.id, Reading.metric_id, Reading.date, Reading.value, Reading.note
        ).where(or_(*ranges))
        for reading in session.execute(query):
            key = (reading.metric_id, reading.date)
            if key in wanted:
                stored[key] = (reading.id, reading.value, reading.note or "")
    return stored


def check_readings(session: Session, *, rows: Sequence[ReadingRow], replace: bool) -> ImportPlan:
    """Resolve each row's team (name or key) and metric (name within the team), both
    case-insensitively, and classify it: new, identical (skipped), replace (refused
    unless `replace`), or bad. Reads in a fixed number of queries whatever the file size."""
    with gc_paused():
        return _check(session, rows, replace)


def _check(session: Session, rows: Sequence[ReadingRow], replace: bool) -> ImportPlan:
    team_names, resolve_team = _load_teams(session)
    # Files repeat a few team and metric spellings over many rows: resolve each once.
    spellings = {(row.team, row.metric) for row in rows}
    team_of = {spelling: resolve_team(spelling[0]) for spelling in spellings}
    named_teams = {team_id for team_id in team_of.values() if team_id is not None}
    metrics = _load_metrics(session, named_teams)

    resolution: dict[tuple[str, str], tuple[int | None, tuple[int, str, bool] | None, str]] = {}
    for spelling, team_id in team_of.items():
        team_text, metric_text = spelling
        if team_id is None:
            resolution[spelling] = (
                None,
                None,
                f"unknown team '{team_text}' (no team has this name or key)",
            )
            continue
        metric = metrics.get((team_id, metric_text.casefold()))
        if metric is None:
            why = f"team '{team_names[team_id]}' has no metric '{metric_text}'"
        elif metric[2]:
            why = f"metric '{metric[1]}' of team '{team_names[team_id]}' is archived"
        else:
            why = ""
        resolution[spelling] = (team_id, metric, why)

    problems: list[Problem] = []
    resolved: list[tuple[ReadingRow, int | None, tuple[int, str, bool] | None]] = []
    wanted: set[tuple[int, dt.date]] = set()
    rows_of_pair: dict[tuple[int, dt.date], list[int]] = defaultdict(list)
    for row in rows:
        team_id, metric, why = resolution[(row.team, row.metric)]
        if why:
            problems.append(Problem(f"row {row.row}", why))
        if not is_storable(row.value):
            problems.append(
                Problem(f"row {row.row}", f"value '{row.value}' is not a finite number")
            )
        # Rows that did not come through the file parser (the API, sync) get its check too:
        # PostgreSQL refuses a NUL, and the preview must not promise what Import cannot do.
        for name, text in (("team", row.team), ("metric", row.metric), ("note", row.note)):
            unfit = unstorable(text)
            if unfit:
                problems.append(Problem(f"row {row.row}", f"{name} {unfit}"))
        if metric is not None:
            pair = (metric[0], row.date)
            wanted.add(pair)
            rows_of_pair[pair].append(row.row)
        resolved.append((row, team_id, metric))

    # Two rows can name one metric differently (team name and team key) on the same date.
    duplicated: set[int] = set()
    for numbers in rows_of_pair.values():
        if len(numbers) > 1:
            duplicated.update(numbers)
            for number in numbers:
                others = rows_text([n for n in numbers if n != number])
                problems.append(
                    Problem(f"row {number}", f"same metric and date as {others}: keep one")
                )

    stored = _load_stored(session, wanted)
    bad_rows = {problem_row(problem) for problem in problems}
    readings: list[PlannedReading] = []
    for row, team_id, metric in resolved:
        team = team_names.get(team_id, row.team) if team_id is not None else row.team
        if row.row in bad_rows or metric is None:
            readings.append(
                PlannedReading(
                    row.row, BAD, team, row.metric, row.date, row.value, row.note, team_id
                )
            )
            continue
        metric_id, metric_name = metric[0], metric[1]
        old = stored.get((metric_id, row.date))
        if old is None:
            status = NEW
        elif same_value(old[1], row.value) and (not row.note or row.note.strip() == old[2].strip()):
            status = IDENTICAL
        else:
            status = REPLACE
            if not replace:
                what = "note" if same_value(old[1], row.value) else f"value {exact_text(old[1])}"
                problems.append(
                    Problem(
                        f"row {row.row}",
                        f"a different {what} is stored for {metric_name} on "
                        f"{row.date.isoformat()}; use replace",
                    )
                )
        readings.append(
            PlannedReading(
                row.row,
                status,
                team,
                metric_name,
                row.date,
                row.value,
                row.note,
                team_id,
                metric_id,
                old[0] if old else None,
                old[1] if old else None,
                old[2] if old else None,
            )
        )
    named = {team_id: team_names[team_id] for team_id in sorted(named_teams)}
    return ImportPlan(readings, sort_problems(problems), replace, named)


# ---------------------------------------------------------------------------- writing


def _check_permission(actor: Actor, plan: ImportPlan) -> None:
    refused = [
        name for team_id, name in plan.team_names.items() if not can_edit_team(actor, team_id)
    ]
    if refused:
        teams = ", ".join(f"'{name}'" for name in sorted(refused))
        noun = "team" if len(refused) == 1 else "teams"
        raise PermissionDenied(
            f"{actor.username} may not change readings of {noun} {teams}; nothing was imported"
        )


def _reading_record(reading: PlannedReading, value: float, note: str) -> dict[str, object]:
    return {
        "team": reading.team,
        "metric": reading.metric,
        "date": reading.date.isoformat(),
        "value": value,
        "note": note,
    }


# Bulk statements below the ORM: FACTS.md measured per-object ORM inserts an order of
# magnitude slower than the driver's executemany. SQLite gets the driver's executemany with
# values already in SQLAlchemy's storage format (skipping its per-value processors, about
# 2x faster on 100k rows); PostgreSQL through psycopg gets COPY (4x faster than
# executemany there); any other driver gets Core executemany.
_COLUMNS = "metric_id, date, value, note, source, entered_by, entered_at"
_SQLITE_INSERT = f"INSERT INTO readings ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
_SQLITE_UPDATE = (
    "UPDATE readings SET value = ?, note = ?, source = ?, entered_by = ?, entered_at = ? "
    "WHERE id = ?"
)
_POSTGRES_COPY = f"COPY readings ({_COLUMNS}) FROM STDIN"
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # the format SQLAlchemy's SQLite DateTime stores


def _insert_readings(
    session: Session,
    readings: Sequence[PlannedReading],
    *,
    source: str,
    entered_by: str,
    entered_at: dt.datetime,
) -> None:
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "sqlite":
        stamp = entered_at.strftime(_SQLITE_DATETIME)
        connection.exec_driver_sql(
            _SQLITE_INSERT,
            [
                (r.metric_id, r.date.isoformat(), r.value, r.note, source, entered_by, stamp)
                for r in readings
            ],
        )
    elif dialect.name == "postgresql" and dialect.driver == "psycopg":
        dbapi_connection = connection.connection.dbapi_connection
        with dbapi_connection.cursor() as cursor, cursor.copy(_POSTGRES_COPY) as copy:  # type: ignore[union-attr]
            for r in readings:
                copy.write_row(
                    (r.metric_id, r.date, r.value, r.note, source, entered_by, entered_at)
                )
    else:
        connection.execute(
            insert(Reading.__table__),
            [
                {
                    "metric_id": r.metric_id,
                    "date": r.date,
                    "value": r.value,
                    "note": r.note,
                    "source": source,
                    "entered_by": entered_by,
                    "entered_at": entered_at,
                }
                for r in readings
            ],
        )


def _update_readings(
    session: Session,
    readings: Sequence[PlannedReading],
    *,
    source: str,
    entered_by: str,
    entered_at: dt.datetime,
) -> None:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        stamp = entered_at.strftime(_SQLITE_DATETIME)
        connection.exec_driver_sql(
            _SQLITE_UPDATE,
            [(r.value, r.note, source, entered_by, stamp, r.reading_id) for r in readings],
        )
        return
    table = Reading.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("reading_id"))
        .values(
            value=bindparam("new_value"),
            note=bindparam("new_note"),
            source=bindparam("new_source"),
            entered_by=bindparam("new_entered_by"),
            entered_at=bindparam("new_entered_at"),
        )
    )
    connection.execute(
        statement,
        [
            {
                "reading_id": r.reading_id,
                "new_value": r.value,
                "new_note": r.note,
                "new_source": source,
                "new_entered_by": entered_by,
                "new_entered_at": entered_at,
            }
            for r in readings
        ],
    )


def _write(
    session: Session,
    *,
    actor: Actor,
    plan: ImportPlan,
    source: str,
    progress: Progress | None,
) -> tuple[int, int]:
    new = [reading for reading in plan.readings if reading.status == NEW]
    replacements = [reading for reading in plan.readings if reading.status == REPLACE]
    total = len(new) + len(replacements)
    if total == 0:
        return 0, 0
    now = utcnow()
    done = 0
    if progress:
        progress(0, total)
    for start in range(0, len(new), WRITE_CHUNK):
        chunk = new[start : start + WRITE_CHUNK]
        _insert_readings(
            session,
            chunk,
            source=source,
            entered_by=actor.username,
            entered_at=now,
        )
        done += len(chunk)
        if progress:
            progress(done, total)
    for start in range(0, len(replacements), WRITE_CHUNK):
        chunk = replacements[start : start + WRITE_CHUNK]
        _update_readings(
            session,
            chunk,
            source=source,
            entered_by=actor.username,
            entered_at=now,
        )
        done += len(chunk)
        if progress:
            progress(done, total)

    skipped = plan.count(IDENTICAL)
    teams = ", ".join(plan.team_names.values())
    record_audit(
        session,
        actor=actor,
        action="import",
        entity="reading",
        entity_id=None,
        summary=(
            f"imported readings ({source}): {len(new)} added, {len(replacements)} replaced, "
            f"{skipped} skipped; teams: {teams}"
        ),
        before={
            "replaced": [
                _reading_record(r, r.old_value, r.old_note or "")  # type: ignore[arg-type]
                for r in replacements
            ]
        }
        if replacements
        else None,
        after={
            "source": source,
            "added": len(new),
            "replaced": [_reading_record(r, r.value, r.note) for r in replacements],
            "skipped": skipped,
        },
    )
    return len(new), len(replacements)


def _apply(
    session: Session,
    *,
    actor: Actor,
    plan: ImportPlan,
    extra_problems: Sequence[Problem],
    source: str,
    dry_run: bool,
    progress: Progress | None,
) -> ImportResult:
    if source not in READING_SOURCES:
        raise ValueError(f"unknown reading source {source!r}")
    problems = sort_problems([*extra_problems, *plan.problems])
    if problems and not dry_run:
        raise ValidationError(problems)
    _check_permission(actor, plan)
    skipped = plan.count(IDENTICAL)
    if dry_run or problems:
        return ImportResult(plan.count(NEW), plan.count(REPLACE), skipped, problems, dry_run)
    with gc_paused():
        added, replaced = _write(session, actor=actor, plan=plan, source=source, progress=progress)
    return ImportResult(added, replaced, skipped)


def import_readings(
    session: Session,
    *,
    actor: Actor,
    rows: Sequence[ReadingRow],
    replace: bool = False,
    source: str = "import",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import parsed rows in the caller's write transaction, all or nothing.

    The whole set is checked first: any bad row raises ValidationError listing every
    problem by row, and any team the actor may not edit raises PermissionDenied; either
    way nothing is written. Identical rows are skipped; a different value for a stored
    metric and date is replaced only with `replace=True`, its old value kept in the one
    audit event of the import. A dry run writes nothing and returns the counts the import
    would give, with the problems listed instead of raised (PermissionDenied still raises).
    `progress(done, total)` is called as rows are written."""
    plan = check_readings(session, rows=rows, replace=replace)
    return _apply(
        session,
        actor=actor,
        plan=plan,
        extra_problems=(),
        source=source,
        dry_run=dry_run,
        progress=progress,
    )


def import_reading_file(
    session: Session,
    *,
    actor: Actor,
    data: bytes,
    filename: str,
    replace: bool = False,
    source: str = "import",
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Parse a CSV/XLSX reading file and import it as `import_readings` does, listing the
    file's problems and the database's together, by row."""
    parsed = parse_reading_file(data, filename)
    plan = check_readings(session, rows=parsed.rows, replace=replace)
    return _apply(
        session,
        actor=actor,
        plan=plan,
        extra_problems=parsed.problems,
        source=source,
        dry_run=dry_run,
        progress=progress,
    )


# ---------------------------------------------------------------------------- export


def export_readings(
    session: Session, *, team_key: str | None = None, metric_ids: Iterable[int] | None = None
) -> pd.DataFrame:
    """Readings in the import's columns (team name, metric, date, value, note), ordered by
    team, metric and date. Archived metrics are left out, as the import refuses them.
    An unknown `team_key` (matched case-insensitively) raises ValidationError."""
    query = (
        select(Team.name, Metric.name, Reading.date, Reading.value, Reading.note)
        .join(Metric, Reading.metric_id == Metric.id)
        .join(Team, Metric.team_id == Team.id)
        .where(Metric.archived.is_(False))
        .order_by(Team.name, Metric.name, Reading.date)
    )
    if team_key is not None:
        team_id = session.scalar(
            select(Team.id).where(func.lower(Team.key) == team_key.strip().lower())
        )
        if team_id is None:
            raise ValidationError(Problem("team", f"no team has the key '{team_key}'"))
        query = query.where(Metric.team_id == team_id)
    if metric_ids is not None:
        query = query.where(Reading.metric_id.in_(sorted(set(metric_ids))))
    with gc_paused():
        records = [
            (team, metric, date, value, note or "")
            for team, metric, date, value, note in session.execute(query)
        ]
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    frame["value"] = frame["value"].astype(float)
    return frame
