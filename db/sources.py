"""Metric sources in the database: configure (validated, permission-checked, audited,
idempotent), list with their last sync, and record a sync's outcome."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import Actor, can_edit_team
from core.errors import PermissionDenied, Problem, ValidationError
from core.sources import FAILED, FAILING_DAYS, SourceSpec, parse_spec, spec_from_json
from db.audit import record_audit, utcnow
from db.models import Metric, MetricSource, Team

MAX_ERROR_LENGTH = 2_000


@dataclass(frozen=True)
class SourceRow:
    """A metric with its source and last sync, for the pages, the CLI and the sync."""

    source_id: int
    metric_id: int
    metric: str
    team_id: int
    team: str
    team_key: str
    spec: SourceSpec
    last_sync_at: dt.datetime | None
    last_outcome: str | None
    last_error: str
    failing_since: dt.datetime | None


def _metric(session: Session, metric_id: int) -> Metric:
    metric = session.get(Metric, metric_id) if isinstance(metric_id, int) else None
    if metric is None:
        raise ValidationError(Problem("metric", f"no metric with id {metric_id}"))
    return metric


def _require_editor(actor: Actor, metric: Metric, what: str) -> None:
    if not can_edit_team(actor, metric.team_id):
        raise PermissionDenied(
            f"{actor.username} ({actor.role}) may not {what} of metrics of this team."
        )


def set_metric_source(
    session: Session,
    *,
    actor: Actor,
    metric_id: int,
    spec: SourceSpec | Mapping[str, Any] | None,
) -> MetricSource | None:
    """Connect a metric to a source, change it, or (spec None) disconnect it. Saving the
    same spec again changes nothing and writes no audit event, so a double click or a
    rerun writes once. The audit event carries the spec: names only, never a secret."""
    metric = _metric(session, metric_id)
    _require_editor(actor, metric, "change the sources")
    if spec is not None and not isinstance(spec, SourceSpec):
        spec = parse_spec(spec)
    current = session.scalar(select(MetricSource).where(MetricSource.metric_id == metric_id))
    before = spec_from_json(current.spec).to_json() if current else None
    if spec is None:
        if current is None:
            return None
        session.delete(current)
        record_audit(
            session,
            actor=actor,
            action="delete",
            entity="metric_source",
            entity_id=current.id,
            summary=f"source of metric {metric.name} removed",
            before=before,
        )
        return None
    after = spec.to_json()
    if current is not None and before == after:
        return current
    if current is None:
        current = MetricSource(
            metric_id=metric_id, kind=spec.kind, spec=spec.dumps(), last_error=""
        )
        session.add(current)
        action = "create"
    else:
        current.kind = spec.kind
        current.spec = spec.dumps()
        # A new spec starts a new record of failures.
        current.failing_since = None
        action = "update"
    session.flush()
    record_audit(
        session,
        actor=actor,
        action=action,
        entity="metric_source",
        entity_id=current.id,
        summary=f"source of metric {metric.name}: {spec.kind}",
        before=before,
        after=after,
    )
    return current


def metric_source(session: Session, metric_id: int) -> SourceSpec | None:
    text = session.scalar(select(MetricSource.spec).where(MetricSource.metric_id == metric_id))
    return spec_from_json(text) if text else None


def list_sources(
    session: Session,
    *,
    team_key: str | None = None,
    metric_name: str | None = None,
    failing_before: dt.datetime | None = None,
) -> list[SourceRow]:
    """Every active metric with a source, by team and metric name; `team_key` (key or
    name) and `metric_name` narrow it, case-insensitively (an unknown team raises), and
    `failing_before` keeps the sources failing since before that time."""
    query = (
        select(MetricSource, Metric.name, Team.id, Team.name, Team.key)
        .join(Metric, MetricSource.metric_id == Metric.id)
        .join(Team, Metric.team_id == Team.id)
        .where(Metric.archived.is_(False))
        .order_by(Team.name, Metric.name)
    )
    if team_key is not None:
        wanted = team_key.strip().lower()
        found = session.scalar(
            select(func.count())
            .select_from(Team)
            .where((func.lower(Team.key) == wanted) | (func.lower(Team.name) == wanted))
        )
        if not found:
            raise ValidationError(Problem("--team", f"no team has the key or name '{team_key}'"))
        query = query.where((func.lower(Team.key) == wanted) | (func.lower(Team.name) == wanted))
    if failing_before is not None:
        query = query.where(MetricSource.failing_since <= failing_before)
    if metric_name is not None:
        query = query.where(func.lower(Metric.name) == metric_name.strip().lower())
    return [
        SourceRow(
            source.id,
            source.metric_id,
            metric,
            team_id,
            team,
            key,
            spec_from_json(source.spec),
            source.last_sync_at,
            source.last_outcome,
            source.last_error or "",
            source.failing_since,
        )
        for source, metric, team_id, team, key in session.execute(query).all()
    ]


def record_sync(session: Session, *, metric_id: int, outcome: str, error: str = "") -> None:
    """Keep a sync's time, outcome and error on the metric's source. Bookkeeping, neither
    audited nor permission-checked here: the sync (sources.sync) refuses a metric its actor
    may not change before fetching, and the readings it writes are checked and audited by
    the import."""
    source = session.scalar(select(MetricSource).where(MetricSource.metric_id == metric_id))
    if source is None:
        return
    now = utcnow()
    source.last_sync_at = now
    source.last_outcome = outcome
    source.last_error = error[:MAX_ERROR_LENGTH]
    if outcome == FAILED:
        source.failing_since = source.failing_since or now
    else:
        source.failing_since = None


def failing_sources(session: Session, *, now: dt.datetime | None = None) -> list[SourceRow]:
    """Sources whose syncs have failed for FAILING_DAYS days and more (the overview)."""
    cutoff = (now or utcnow()) - dt.timedelta(days=FAILING_DAYS)
    return list_sources(session, failing_before=cutoff)
