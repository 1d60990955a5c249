"""The one reading writer: every way a reading enters the database (the Record grid,
`manage.py record`, `import-readings`, the file import on Record, the workspace import,
`sync` and the API) resolves its rows to metrics, then goes through the same
classification, the same bulk write and the same result type. Also the reading export.

Classification of a row against the stored reading of its metric and date:
- new: nothing is stored on that date;
- identical (skipped): the same value, and either the row gives no note or the same
  note. The note rule: a row that gives a note compares the note too; an empty note
  means "no note given" and never erases a stored one;
- replace: a different value, or a different non-empty note. Refused (a problem naming
  the row) unless the caller passes `replace=True`; a replaced reading takes the row's
  value and note (its stored note when the row gives none), and its old ones go into
  the audit event.
A row is bad when its metric is unknown or archived, its value not a finite number, its
note unstorable or too long, or when another row names the same metric and date. Any
bad row (or, without `replace`, any replace) writes nothing; a dry run reports instead.
"""

from __future__ import annotations

import datetime as dt
import math
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
    rows_text,
    same_value,
    sort_problems,
)
from core.validate import Checker, is_record_id, unstorable
from db.audit import record_audit, utcnow
from db.models import READING_SOURCES, Metric, Reading, Team
from db.submissions import claim_submission

NEW = "new"
IDENTICAL = "identical"  # same value, and the same note when the row gives one: skipped
REPLACE = "replace"  # a different value, or a different non-empty note, is stored
BAD = "bad"

NOTE_LENGTH = 20_000  # as a workspace document's free text
# Rows per INSERT/UPDATE statement, and metrics per look-up query: small enough for
# SQLite's and PostgreSQL's parameter limits, large enough to keep round trips few.
WRITE_CHUNK = 5_000
METRICS_PER_QUERY = 200

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class PlannedReading:
    """What writing one row would do. Names are the stored ones once resolved."""

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
    source: str | None = None  # the row's own source (a workspace document's); else the call's


@dataclass(frozen=True)
class ImportPlan:
    """Every row classified against the database, and what blocks writing it."""

    readings: list[PlannedReading]
    problems: list[Problem]
    replace: bool
    team_names: dict[int, str] = field(default_factory=dict)  # every team the rows name

    def count(self, status: str) -> int:
        return sum(1 for reading in self.readings if reading.status == status)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ImportResult:
    """What a reading write did (or, dry, would do): the one result of every entry point."""

    added: int
    replaced: int
    skipped: int  # identical to the stored reading
    problems: list[Problem] = field(default_factory=list)  # only ever filled by a dry run
    dry_run: bool = False
    replaced_readings: tuple[PlannedReading, ...] = ()  # with their old value and note

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ReadingEntry:
    """One reading to record from the Record grid: a metric (by id), a date, a value and
    an optional note."""

    metric_id: int
    date: dt.date
    value: float | str  # the Record form passes the text typed: checked as a number here
    note: str = ""


@dataclass(frozen=True)
class ReadingConflict:
    """A stored reading for the same metric and date with a different value or note."""

    metric_id: int
    metric: str
    date: dt.date
    stored: float
    new: float
    stored_note: str = ""
    new_note: str = ""


class ReplaceNeeded(ValidationError):
    """The only problems are stored readings that differ: replacing needs a yes. The
    Record grid asks for it; every other entry point reports the problems as they are."""

    def __init__(self, plan: ImportPlan) -> None:
        self.conflicts = [
            ReadingConflict(
                r.metric_id or 0,
                r.metric,
                r.date,
                r.old_value if r.old_value is not None else math.nan,
                r.value,
                r.old_note or "",
                r.note,
            )
            for r in plan.readings
            if r.status == REPLACE
        ]
        super().__init__(plan.problems)


# ---------------------------------------------------------------------------- checking


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A row resolved to its team and metric (None when it names none), before it is
    compared with the stored reading. `where` names the row in problems."""

    row: int
    where: str
    team: str
    metric: str
    date: dt.date
    value: float
    note: str
    team_id: int | None
    metric_id: int | None
    source: str | None = None


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
    """The stored readings for the (metric id, date) pairs of a write: one query per
    METRICS_PER_QUERY metrics, each metric limited to the rows' date span for it."""
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


def _archived(metric: str, team: str) -> str:
    return f"metric '{metric}' of team '{team}' is archived"


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
            why = _archived(metric[1], team_names[team_id])
        else:
            why = ""
        resolution[spelling] = (team_id, metric, why)

    problems: list[Problem] = []
    candidates: list[_Candidate] = []
    for row in rows:
        team_id, metric, why = resolution[(row.team, row.metric)]
        where = f"row {row.row}"
        if why:
            problems.append(Problem(where, why))
        # Rows that did not come through the file parser (the API, sync) get its check too:
        # PostgreSQL refuses a NUL, and the preview must not promise what Import cannot do.
        for name, text in (("team", row.team), ("metric", row.metric)):
            unfit = unstorable(text)
            if unfit:
                problems.append(Problem(where, f"{name} {unfit}"))
        candidates.append(
            _Candidate(
                row.row,
                where,
                team_names[team_id] if team_id is not None else row.team,
                metric[1] if metric is not None else row.metric,
                row.date,
                row.value,
                row.note,
                team_id,
                metric[0] if metric is not None else None,
            )
        )
    named = {team_id: team_names[team_id] for team_id in sorted(named_teams)}
    return _classify(session, candidates, problems, replace=replace, team_names=named)


def _classify(
    session: Session,
    candidates: Sequence[_Candidate],
    problems: list[Problem],
    *,
    replace: bool,
    team_names: dict[int, str],
) -> ImportPlan:
    """The one classification of resolved rows (see the module docstring): finite
    values, storable notes, one row per metric and date, and new / identical / replace
    against the stored readings. `problems` holds the resolution's problems already."""
    wanted: set[tuple[int, dt.date]] = set()
    rows_of_pair: dict[tuple[int, dt.date], list[_Candidate]] = defaultdict(list)
    for c in candidates:
        if not is_storable(c.value):
            problems.append(Problem(c.where, f"value '{c.value}' is not a finite number"))
        why = unstorable(c.note)
        if why:
            problems.append(Problem(c.where, f"note {why}"))
        elif len(c.note) > NOTE_LENGTH:
            problems.append(Problem(c.where, f"note is longer than {NOTE_LENGTH:,} characters"))
        if c.metric_id is not None:
            pair = (c.metric_id, c.date)
            wanted.add(pair)
            rows_of_pair[pair].append(c)

    # Two rows can name one metric differently (team name and team key) on the same date.
    for same in rows_of_pair.values():
        if len(same) > 1:
            for c in same:
                others = [o for o in same if o is not c]
                named = (
                    rows_text([o.row for o in others])
                    if c.where.startswith("row ")
                    else ", ".join(o.where for o in others)
                )
                problems.append(Problem(c.where, f"same metric and date as {named}: keep one"))

    stored = _load_stored(session, wanted)
    bad = {problem.where for problem in problems}
    readings: list[PlannedReading] = []
    for c in candidates:
        if c.where in bad or c.metric_id is None:
            readings.append(
                PlannedReading(
                    c.row, BAD, c.team, c.metric, c.date, c.value, c.note, c.team_id,
                    source=c.source,
                )
            )  # fmt: skip
            continue
        old = stored.get((c.metric_id, c.date))
        note = c.note
        if old is None:
            status = NEW
        elif same_value(old[1], c.value) and (not c.note or c.note.strip() == old[2].strip()):
            status = IDENTICAL
        else:
            status = REPLACE
            note = c.note or old[2]  # an empty note never erases the stored one
            if not replace:
                what = "note" if same_value(old[1], c.value) else f"value {exact_text(old[1])}"
                problems.append(
                    Problem(
                        c.where,
                        f"a different {what} is stored for {c.metric} on "
                        f"{c.date.isoformat()}; use replace",
                    )
                )
        readings.append(
            PlannedReading(
                c.row,
                status,
                c.team,
                c.metric,
                c.date,
                c.value,
                note,
                c.team_id,
                c.metric_id,
                old[0] if old else None,
                old[1] if old else None,
                old[2] if old else None,
                c.source,
            )
        )
    return ImportPlan(readings, sort_problems(problems), replace, team_names)


# ---------------------------------------------------------------------------- writing


def _check_permission(actor: Actor, plan: ImportPlan) -> None:
    refused = [
        name for team_id, name in plan.team_names.items() if not can_edit_team(actor, team_id)
    ]
    if refused:
        teams = ", ".join(f"'{name}'" for name in sorted(refused))
        noun = "team" if len(refused) == 1 else "teams"
        raise PermissionDenied(
            f"{actor.username} may not change readings of {noun} {teams}; nothing was written"
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


def _row_values(
    r: PlannedReading, *, source: str, entered_by: str, entered_at: dt.datetime
) -> dict[str, object]:
    return {
        "metric_id": r.metric_id,
        "date": r.date,
        "value": r.value,
        "note": r.note,
        "source": r.source or source,
        "entered_by": entered_by,
        "entered_at": entered_at,
    }


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
                (
                    r.metric_id,
                    r.date.isoformat(),
                    r.value,
                    r.note,
                    r.source or source,
                    entered_by,
                    stamp,
                )
                for r in readings
            ],
        )
    elif dialect.name == "postgresql" and dialect.driver == "psycopg":
        dbapi_connection = connection.connection.dbapi_connection
        with dbapi_connection.cursor() as cursor, cursor.copy(_POSTGRES_COPY) as copy:  # type: ignore[union-attr]
            for r in readings:
                row = _row_values(r, source=source, entered_by=entered_by, entered_at=entered_at)
                copy.write_row(tuple(row.values()))  # in _COLUMNS' order
    else:
        connection.execute(
            insert(Reading.__table__),
            [
                _row_values(r, source=source, entered_by=entered_by, entered_at=entered_at)
                for r in readings
            ],
        )


_UPDATED = ("value", "note", "source", "entered_by", "entered_at")


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
            [
                (r.value, r.note, r.source or source, entered_by, stamp, r.reading_id)
                for r in readings
            ],
        )
        return
    table = Reading.__table__
    # Bound names differ from the columns': SQLAlchemy reserves a column's own name.
    statement = (
        update(table)
        .where(table.c.id == bindparam("reading_id"))
        .values({name: bindparam(f"new_{name}") for name in _UPDATED})
    )
    rows = []
    for r in readings:
        values = _row_values(r, source=source, entered_by=entered_by, entered_at=entered_at)
        rows.append({"reading_id": r.reading_id} | {f"new_{n}": values[n] for n in _UPDATED})
    connection.execute(statement, rows)


def _write(
    session: Session,
    *,
    actor: Actor,
    plan: ImportPlan,
    source: str,
    progress: Progress | None,
    audit: bool,
    recorded: bool,
) -> tuple[list[PlannedReading], list[PlannedReading]]:
    new = [reading for reading in plan.readings if reading.status == NEW]
    replacements = [reading for reading in plan.readings if reading.status == REPLACE]
    total = len(new) + len(replacements)
    if total == 0:
        return new, replacements
    now = utcnow()
    done = 0
    if progress:
        progress(0, total)
    for writer, readings in ((_insert_readings, new), (_update_readings, replacements)):
        for start in range(0, len(readings), WRITE_CHUNK):
            chunk = readings[start : start + WRITE_CHUNK]
            writer(session, chunk, source=source, entered_by=actor.username, entered_at=now)
            done += len(chunk)
            if progress:
                progress(done, total)
    if not audit:
        return new, replacements
    skipped = plan.count(IDENTICAL)
    teams = ", ".join(plan.team_names.values())
    # A form's save reads as recorded (create, or update when it replaced); the rest as
    # an import. The event's content is the same either way.
    action = ("update" if replacements else "create") if recorded else "import"
    record_audit(
        session,
        actor=actor,
        action=action,
        entity="reading",
        entity_id=None,
        summary=(
            f"{'recorded' if recorded else 'imported'} readings ({source}): {len(new)} added, "
            f"{len(replacements)} replaced, {skipped} skipped; teams: {teams}"
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
        }
        # A form's save is small: its event lists what it wrote, as it always did.
        | (
            {
                "readings": [
                    {"metric_id": r.metric_id, "date": r.date.isoformat(), "value": r.value}
                    for r in (*new, *replacements)
                ]
            }
            if recorded
            else {}
        ),
    )
    return new, replacements


def write_plan(
    session: Session,
    *,
    actor: Actor,
    plan: ImportPlan,
    extra_problems: Sequence[Problem] = (),
    source: str,
    dry_run: bool = False,
    progress: Progress | None = None,
    submission_key: str | None = None,
    audit: bool = True,
    recorded: bool = False,
) -> ImportResult:
    """Write a classified plan in the caller's transaction: every entry point ends here.

    Problems raise ValidationError (ReplaceNeeded when the only ones are stored readings
    that differ), a team the actor may not edit raises PermissionDenied; nothing is
    written then. A dry run returns the counts with the problems instead (permission
    still raises). The submission key is claimed once the write is known to go ahead.
    `audit=False` is for a caller that writes its own event (the workspace import);
    `recorded=True` audits a form's save as create/update rather than import."""
    if source not in READING_SOURCES:  # a caller's mistake, not the user's input
        raise ValueError(f"unknown reading source {source!r}")
    problems = sort_problems([*extra_problems, *plan.problems])
    only_replaces = (
        bool(problems)
        and not extra_problems
        and all("; use replace" in problem.message for problem in problems)
    )
    if problems and not dry_run and not only_replaces:
        raise ValidationError(problems)
    _check_permission(actor, plan)
    skipped = plan.count(IDENTICAL)
    if dry_run:
        return ImportResult(plan.count(NEW), plan.count(REPLACE), skipped, problems, dry_run)
    # Claimed before asking for a replace: a form submitted twice says "already saved",
    # whatever the first submission stored. The claim rolls back with ReplaceNeeded.
    claim_submission(session, key=submission_key)
    if only_replaces:
        raise ReplaceNeeded(plan)
    with gc_paused():
        new, replaced = _write(
            session,
            actor=actor,
            plan=plan,
            source=source,
            progress=progress,
            audit=audit,
            recorded=recorded,
        )
    return ImportResult(len(new), len(replaced), skipped, replaced_readings=tuple(replaced))


def import_readings(
    session: Session,
    *,
    actor: Actor,
    rows: Sequence[ReadingRow],
    replace: bool = False,
    source: str = "import",
    dry_run: bool = False,
    progress: Progress | None = None,
    submission_key: str | None = None,
) -> ImportResult:
    """Import parsed rows (team and metric by name) in the caller's write transaction,
    all or nothing: `manage.py record`, `sync` and the API call this.

    The whole set is checked first: any bad row raises ValidationError listing every
    problem by row, and any team the actor may not edit raises PermissionDenied; either
    way nothing is written. Identical rows are skipped; a different value or note for a
    stored metric and date is replaced only with `replace=True`, its old value kept in
    the one audit event of the import. A dry run writes nothing and returns the counts
    the import would give, with the problems listed instead of raised (PermissionDenied
    still raises). `progress(done, total)` is called as rows are written."""
    plan = check_readings(session, rows=rows, replace=replace)
    return write_plan(
        session,
        actor=actor,
        plan=plan,
        source=source,
        dry_run=dry_run,
        progress=progress,
        submission_key=submission_key,
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
    submission_key: str | None = None,
) -> ImportResult:
    """Parse a CSV/XLSX reading file and import it as `import_readings` does, listing the
    file's problems and the database's together, by row."""
    parsed = parse_reading_file(data, filename)
    plan = check_readings(session, rows=parsed.rows, replace=replace)
    return write_plan(
        session,
        actor=actor,
        plan=plan,
        extra_problems=parsed.problems,
        source=source,
        dry_run=dry_run,
        progress=progress,
        submission_key=submission_key,
    )


def record_readings(
    session: Session,
    *,
    actor: Actor,
    entries: Sequence[ReadingEntry],
    replace: bool = False,
    source: str = "form",
    submission_key: str | None = None,
) -> ImportResult:
    """Record the Record grid's readings (metrics by id) in one transaction, by the same
    rules as an import. Problems are named by metric; a stored reading that differs in
    value or note raises ReplaceNeeded (listing old and new) unless `replace=True`; the
    same reading again is skipped, so repeating a save adds nothing."""
    check = Checker()
    if source not in READING_SOURCES:
        check.add("source", f"must be one of {', '.join(READING_SOURCES)}")
    metric_ids = {entry.metric_id for entry in entries if is_record_id(entry.metric_id)}
    metrics = {m.id: m for m in session.scalars(select(Metric).where(Metric.id.in_(metric_ids)))}
    teams: dict[int, str] = {
        team.id: team.name
        for team in session.execute(
            select(Team.id, Team.name).where(Team.id.in_({m.team_id for m in metrics.values()}))
        )
    }
    candidates: list[_Candidate] = []
    for index, entry in enumerate(entries):
        # The grid's input arrives as Python objects: check their types before the rules.
        metric = metrics.get(entry.metric_id) if is_record_id(entry.metric_id) else None
        where = metric.name if metric else f"readings[{index}]"
        if metric is None:
            check.add(where, "unknown metric")
            continue
        if metric.archived:
            check.add(where, _archived(metric.name, teams[metric.team_id]))
        value = check.number(f"{where}: value", entry.value)
        if entry.note is None or not isinstance(entry.note, str):
            check.add(f"{where}: note", "must be text")
            continue
        day = check.date(f"{where}: date", entry.date)
        if day is not None and type(entry.date) is not dt.date:
            check.add(f"{where}: date", "must be a date")  # stored and keyed as given
            continue
        if day is None or value is None:
            continue
        candidates.append(
            _Candidate(
                index + 1,
                where,
                teams[metric.team_id],
                metric.name,
                day,
                float(value),
                entry.note.strip(),
                metric.team_id,
                metric.id,
            )
        )
    check.raise_if_any()
    named = {team_id: teams[team_id] for team_id in sorted({m.team_id for m in metrics.values()})}
    plan = _classify(session, candidates, [], replace=replace, team_names=named)
    return write_plan(
        session,
        actor=actor,
        plan=plan,
        source=source,
        submission_key=submission_key,
        recorded=True,
    )


def plan_resolved(
    session: Session,
    *,
    rows: Sequence[tuple[str, int, str, int, dt.date, float, str, str | None]],
    replace: bool,
) -> ImportPlan:
    """Classify rows whose team and metric the caller resolved already (the workspace
    import, whose metrics may be created in the same transaction, and archived ones
    restored with their readings): (where, team id, team, metric id, date, value, note,
    source) each; the metric name is looked up for the messages."""
    metric_ids = sorted({row[3] for row in rows})
    names: dict[int, str] = {}
    for start in range(0, len(metric_ids), METRICS_PER_QUERY):
        chunk = metric_ids[start : start + METRICS_PER_QUERY]
        names.update(
            (metric.id, metric.name)
            for metric in session.execute(
                select(Metric.id, Metric.name).where(Metric.id.in_(chunk))
            )
        )
    candidates = [
        _Candidate(
            number, where, team, names[metric_id], day, value, note, team_id, metric_id, source
        )
        for number, (where, team_id, team, metric_id, day, value, note, source) in enumerate(
            rows, 1
        )
    ]
    team_names = {row[1]: row[2] for row in rows}
    return _classify(session, candidates, [], replace=replace, team_names=team_names)


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
