"""Sync: pull every source, and write each metric's points as an import of that metric
alone (PRODUCT.md "Sync"): one transaction per metric, the import's rules (identical
skipped, a different stored value a conflict unless `replace`), source "sync". A source
that fails writes nothing for its metric, keeps the error on the source, and the others
go on. Fetching happens outside any database transaction: a slow source holds no lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from core.access import Actor, can_edit_team
from core.errors import PermissionDenied, Problem, ValidationError
from core.reading_files import ReadingRow
from core.sources import (
    FAILED,
    MAX_POINTS,
    NOTHING_NEW,
    OK,
    TIMEOUT_SECONDS,
    Point,
    SourceError,
    SourceSpec,
    problems_text,
)
from db.engine import read_session, write_session
from db.readings import import_readings
from db.sources import SourceRow, list_sources, record_sync
from sources.fetch import fetch_points
from sources.sql import shared_engines

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class SyncResult:
    """What syncing one metric did (or, in a dry run, would do)."""

    team: str
    metric: str
    kind: str
    outcome: str  # ok, failed, nothing_new
    added: int = 0
    replaced: int = 0
    skipped: int = 0
    error: str = ""
    seconds: float = 0.0  # fetching only
    preview: list[Point] = field(default_factory=list)


def _rows(source: SourceRow, points: Sequence[Point]) -> list[ReadingRow]:
    # The rows name the source's own team and metric, whatever the source returned: a
    # source can only write its own metric.
    return [ReadingRow(p.number, source.team, source.metric, p.date, p.value, "") for p in points]


def _problem_message(problems: Sequence[Problem], points: Sequence[Point]) -> str:
    """Import problems name "row N" by the point's number: name the point as the source
    did ("row 3", "point 2", "2026-11-02")."""
    where = {f"row {p.number}": p.where for p in points}
    named = [Problem(where.get(p.where, p.where), p.message) for p in problems]
    return problems_text(named)


def sync_one(
    engine: Engine,
    source: SourceRow,
    *,
    actor: Actor,
    since: dt.date | None = None,
    dry_run: bool = False,
    replace: bool = False,
    today: dt.date | None = None,
    timeout: float = TIMEOUT_SECONDS,
    limit: int = MAX_POINTS,
) -> SyncResult:
    def failed(message: str, seconds: float = 0.0) -> SyncResult:
        if not dry_run:
            with write_session(engine) as session:
                record_sync(session, metric_id=source.metric_id, outcome=FAILED, error=message)
        return SyncResult(
            source.team, source.metric, source.spec.kind, FAILED, error=message, seconds=seconds
        )

    if not can_edit_team(actor, source.team_id):
        raise PermissionDenied(f"{actor.username} may not sync readings of {source.team}")
    try:
        fetched = fetch_points(source.spec, today=today, since=since, timeout=timeout, limit=limit)
    except SourceError as error:
        return failed(str(error))
    points = fetched.checked.points
    if fetched.checked.problems:
        return failed(problems_text(fetched.checked.problems), fetched.seconds)
    try:
        with write_session(engine) as session:
            result = import_readings(
                session,
                actor=actor,
                rows=_rows(source, points),
                replace=replace,
                source="sync",
                dry_run=dry_run,
            )
            if result.problems:  # a dry run lists them instead of raising
                raise ValidationError(result.problems)
            outcome = OK if result.added or result.replaced else NOTHING_NEW
            if not dry_run:
                record_sync(session, metric_id=source.metric_id, outcome=outcome)
    except ValidationError as error:
        return failed(_problem_message(error.problems, points), fetched.seconds)
    except PermissionDenied:
        raise
    return SyncResult(
        source.team,
        source.metric,
        source.spec.kind,
        outcome,
        result.added,
        result.replaced,
        result.skipped,
        seconds=fetched.seconds,
        preview=list(points[:10]),
    )


def sync_sources(
    engine: Engine,
    *,
    actor: Actor,
    team_key: str | None = None,
    metric_name: str | None = None,
    since: dt.date | None = None,
    dry_run: bool = False,
    replace: bool = False,
    today: dt.date | None = None,
    timeout: float = TIMEOUT_SECONDS,
    progress: Progress | None = None,
) -> list[SyncResult]:
    """Sync every metric with a source (narrowed by team and metric), one after another;
    `progress(done, total, metric)` after each. A metric the actor may not change raises
    PermissionDenied before anything is fetched."""
    with read_session(engine) as session:
        sources = list_sources(session, team_key=team_key, metric_name=metric_name)
    refused = sorted({s.team for s in sources if not can_edit_team(actor, s.team_id)})
    if refused:
        raise PermissionDenied(
            f"{actor.username} may not sync readings of {', '.join(refused)}; nothing was synced"
        )
    results = []
    with shared_engines():
        for done, source in enumerate(sources, start=1):
            results.append(
                sync_one(
                    engine,
                    source,
                    actor=actor,
                    since=since,
                    dry_run=dry_run,
                    replace=replace,
                    today=today,
                    timeout=timeout,
                )
            )
            if progress:
                progress(done, len(sources), f"{source.team} / {source.metric}")
    return results


@dataclass(frozen=True)
class SourceTest:
    """The Test button: the first rows a sync would write and any problem; nothing is
    written."""

    preview: list[Point]
    problems: list[str]
    total: int = 0
    added: int = 0
    skipped: int = 0
    seconds: float = 0.0


def try_source(
    engine: Engine,
    spec: SourceSpec,
    *,
    actor: Actor,
    team: str,
    metric: str,
    today: dt.date | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> SourceTest:
    """Fetch a (maybe unsaved) spec and check its points against the metric's stored
    readings as a dry run: what a sync would write, and why it would refuse."""
    try:
        fetched = fetch_points(spec, today=today, timeout=timeout)
    except SourceError as error:
        return SourceTest([], [str(error)])
    points = fetched.checked.points
    problems = [str(p) for p in fetched.checked.problems]
    added = skipped = 0
    if not problems and points:
        fake = SourceRow(0, 0, metric, 0, team, "", spec, None, None, "", None)
        with read_session(engine) as session:
            result = import_readings(
                session, actor=actor, rows=_rows(fake, points), source="sync", dry_run=True
            )
        added, skipped = result.added, result.skipped
        if result.problems:
            problems.append(_problem_message(result.problems, points))
    return SourceTest(points[:10], problems, len(points), added, skipped, fetched.seconds)
