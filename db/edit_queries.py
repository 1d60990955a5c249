"""Read queries for the update pages: records as edit forms open them (with their version),
the choices those forms offer, the quality-check input of a team's plan, and the audit log."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from core import fields as declared
from core.model import HypothesisSpec, MetricInfo, OutcomeSpec, PIInfo, TargetSpec
from db.models import (
    PI,
    AuditEvent,
    Base,
    CheckIn,
    Hypothesis,
    Iteration,
    IterationGoal,
    Metric,
    Outcome,
    Release,
    Target,
    Team,
    Train,
)
from db.queries import _hypothesis_spec, _metric_info, _outcome_spec, _target_spec

# Field names as the write functions take them, declared once in core/fields.py.
TRAIN_FIELDS = declared.TRAIN.names
TEAM_FIELDS = declared.TEAM.names
PI_FIELDS = declared.PI.names
METRIC_FIELDS = declared.METRIC.names
OUTCOME_FIELDS = declared.OUTCOME.names
TARGET_FIELDS = declared.TARGET.names
HYPOTHESIS_FIELDS = declared.HYPOTHESIS.names

_MODELS: dict[str, type[Base]] = {
    "train": Train,
    "team": Team,
    "pi": PI,
    "metric": Metric,
    "release": Release,
    "outcome": Outcome,
    "target": Target,
    "hypothesis": Hypothesis,
    "iteration": Iteration,
    "iteration_goal": IterationGoal,
}


@dataclass(frozen=True)
class EditRecord:
    """One record as an edit form opens it: id, version, field values and a label."""

    id: int
    version: int
    values: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)


def _record(row: Any, fields: Sequence[str], label: str) -> EditRecord:
    return EditRecord(
        id=row.id,
        version=row.version,
        values={name: getattr(row, name) for name in fields},
        label=label,
    )


def current_version(session: Session, *, entity: str, record_id: int) -> int | None:
    """The stored version of one record (None when it is gone)."""
    model = _MODELS[entity]
    return session.scalar(select(model.version).where(model.id == record_id))  # type: ignore[attr-defined]


# ---------------------------------------------------------------- trains, teams, PIs


def all_trains(session: Session) -> list[EditRecord]:
    rows = session.scalars(select(Train).order_by(Train.archived, Train.name))
    return [_record(t, TRAIN_FIELDS, t.name) for t in rows]


def all_teams(session: Session) -> list[EditRecord]:
    """Every team, active or not, with its train's name in `values["train"]`."""
    rows = session.execute(
        select(Team, Train.name).outerjoin(Train, Team.train_id == Train.id).order_by(Team.name)
    )
    return [
        EditRecord(
            id=team.id,
            version=team.version,
            values={**{name: getattr(team, name) for name in TEAM_FIELDS}, "train": train},
            label=team.name,
        )
        for team, train in rows
    ]


def all_pis(session: Session) -> list[EditRecord]:
    rows = session.execute(
        select(PI, Train.name).outerjoin(Train, PI.train_id == Train.id).order_by(PI.start_date)
    )
    return [
        EditRecord(
            id=pi.id,
            version=pi.version,
            values={**{name: getattr(pi, name) for name in PI_FIELDS}, "train": train},
            label=pi.name,
        )
        for pi, train in rows
    ]


def later_pis(session: Session, *, pi_id: int) -> list[PIInfo]:
    """PIs that start after this one, soonest first: where unfinished work can be copied."""
    pi = session.get(PI, pi_id)
    if pi is None:
        return []
    rows = session.scalars(
        select(PI).where(PI.start_date > pi.start_date, PI.id != pi.id).order_by(PI.start_date)
    )
    return [
        PIInfo(
            id=p.id, name=p.name, start_date=p.start_date, end_date=p.end_date, train_id=p.train_id
        )
        for p in rows
    ]


# ---------------------------------------------------------------- metrics and releases


def team_metrics(
    session: Session, *, team_id: int, include_archived: bool = False
) -> list[EditRecord]:
    query = select(Metric).where(Metric.team_id == team_id)
    if not include_archived:
        query = query.where(Metric.archived == false())
    rows = session.scalars(query.order_by(Metric.archived, Metric.name))
    return [_record(m, METRIC_FIELDS, m.name) for m in rows]


def metric_choices(session: Session, *, team_id: int | None) -> list[EditRecord]:
    """The metrics a target or hypothesis may name: the team's active ones, or for a
    train-level outcome (`team_id` None) every team's, labelled with the team."""
    query = (
        select(Metric, Team.name)
        .join(Team, Metric.team_id == Team.id)
        .where(Metric.archived == false())
        .order_by(Team.name, Metric.name)
    )
    if team_id is not None:
        query = query.where(Metric.team_id == team_id)
    return [
        _record(m, METRIC_FIELDS, m.name if team_id is not None else f"{team}: {m.name}")
        for m, team in session.execute(query)
    ]


def team_releases(session: Session, *, team_id: int | None) -> list[EditRecord]:
    """A team's releases (every team's when `team_id` is None), newest first: a
    hypothesis names the one that shipped it."""
    query = (
        select(Release, Team.name)
        .join(Team, Release.team_id == Team.id)
        .where(Release.archived == false())
        .order_by(Release.date.desc(), Release.id.desc())
    )
    if team_id is not None:
        query = query.where(Release.team_id == team_id)
    return [
        _record(
            r,
            ("name", "date", "notes", "link", "team_id"),
            f"{r.name} ({r.date.isoformat()})" if team_id is not None else f"{team}: {r.name}",
        )
        for r, team in session.execute(query)
    ]


def open_hypotheses(
    session: Session, *, team_id: int, on: dt.date | None = None
) -> list[EditRecord]:
    """Hypotheses of a team that no release has shipped yet and nobody has decided on,
    in its draft or active outcomes: what a new release can ship. Newest PI first.
    With `on`, only those of the PI running on that day: a release today cannot ship the
    next PI's drafts (which Copy to next PI creates weeks ahead)."""
    query = (
        select(Hypothesis, Outcome.key, PI.name)
        .join(Outcome, Hypothesis.outcome_id == Outcome.id)
        .join(PI, Outcome.pi_id == PI.id)
        .where(
            Outcome.team_id == team_id,
            Outcome.status.in_(("draft", "active")),
            Hypothesis.archived == false(),
            Hypothesis.release_id.is_(None),
            Hypothesis.decision.is_(None),
        )
        .order_by(PI.start_date.desc(), Outcome.position, Outcome.key, Hypothesis.position)
    )
    if on is not None:
        query = query.where(PI.start_date <= on, PI.end_date >= on)
    rows = session.execute(query)
    return [
        _record(h, ("if_text", "expect_text", "outcome_id"), f"{key} ({pi}): if {h.if_text}")
        for h, key, pi in rows
    ]


# ---------------------------------------------------------------- outcomes


def pi_outcomes(session: Session, *, pi_id: int, team_id: int | None) -> list[EditRecord]:
    """A team's outcomes in a PI (`team_id` None: the train-level ones), archived last."""
    owner = Outcome.team_id.is_(None) if team_id is None else Outcome.team_id == team_id
    rows = session.scalars(
        select(Outcome)
        .where(Outcome.pi_id == pi_id, owner)
        .order_by(Outcome.status == "archived", Outcome.position, Outcome.key)
    )
    return [_record(o, OUTCOME_FIELDS, f"{o.key}: {o.title}") for o in rows]


def train_outcomes(session: Session, *, pi_id: int) -> list[EditRecord]:
    """Train-level outcomes of a PI that a team outcome may contribute to."""
    rows = session.scalars(
        select(Outcome)
        .where(Outcome.pi_id == pi_id, Outcome.team_id.is_(None), Outcome.status != "archived")
        .order_by(Outcome.position, Outcome.key)
    )
    return [_record(o, OUTCOME_FIELDS, f"{o.key}: {o.title}") for o in rows]


def outcome_targets(session: Session, *, outcome_id: int) -> list[EditRecord]:
    rows = session.execute(
        select(Target, Metric.name)
        .join(Metric, Target.metric_id == Metric.id)
        .where(Target.outcome_id == outcome_id, Target.archived == false())
        .order_by(Target.position, Target.id)
    )
    return [_record(t, TARGET_FIELDS, name) for t, name in rows]


def outcome_hypotheses(session: Session, *, outcome_id: int) -> list[EditRecord]:
    rows = session.execute(
        select(Hypothesis, Metric.name)
        .join(Metric, Hypothesis.metric_id == Metric.id)
        .where(Hypothesis.outcome_id == outcome_id, Hypothesis.archived == false())
        .order_by(Hypothesis.position, Hypothesis.id)
    )
    return [_record(h, HYPOTHESIS_FIELDS, name) for h, name in rows]


# What the learning log on the outcome page edits (update_hypothesis, override_verdict).
LEARNING_FIELDS = ("learning", "decision", "override", "override_reason")


def hypothesis_learning(session: Session, *, hypothesis_id: int) -> EditRecord | None:
    """A hypothesis's learning, decision and override as the learning log opens them
    (blank text as "", so an untouched form has no changes)."""
    row = session.get(Hypothesis, hypothesis_id)
    if row is None:
        return None
    record = _record(row, LEARNING_FIELDS, row.if_text)
    values = dict(record.values)
    values["learning"] = values["learning"] or ""
    values["override_reason"] = values["override_reason"] or ""
    return EditRecord(id=record.id, version=record.version, values=values, label=record.label)


@dataclass(frozen=True)
class PlanChecksInput:
    """What the quality checks read for one team's plan in a PI."""

    outcomes: tuple[OutcomeSpec, ...]
    metrics: Mapping[int, MetricInfo]
    pi_end: dt.date | None


def plan_checks_input(session: Session, *, pi_id: int, team_id: int | None) -> PlanChecksInput:
    """The team's live (not archived) outcomes with their targets and hypotheses, and the
    metrics they name, as the rules in core/checks.py take them."""
    pi = session.get(PI, pi_id)
    owner = Outcome.team_id.is_(None) if team_id is None else Outcome.team_id == team_id
    outcomes = session.scalars(
        select(Outcome)
        .where(Outcome.pi_id == pi_id, owner, Outcome.status != "archived")
        .order_by(Outcome.position, Outcome.key)
    ).all()
    ids = [o.id for o in outcomes]
    targets: dict[int, list[TargetSpec]] = {i: [] for i in ids}
    hypotheses: dict[int, list[HypothesisSpec]] = {i: [] for i in ids}
    metric_ids: set[int] = set()
    if ids:
        for t in session.scalars(
            select(Target)
            .where(Target.outcome_id.in_(ids), Target.archived == false())
            .order_by(Target.position, Target.id)
        ):
            metric_ids.add(t.metric_id)
            targets[t.outcome_id].append(_target_spec(t))
        for h in session.scalars(
            select(Hypothesis)
            .where(Hypothesis.outcome_id.in_(ids), Hypothesis.archived == false())
            .order_by(Hypothesis.position, Hypothesis.id)
        ):
            metric_ids.add(h.metric_id)
            # The checks need no release name or date.
            hypotheses[h.outcome_id].append(_hypothesis_spec(h, None, None))
    metric_query = select(Metric).where(Metric.id.in_(sorted(metric_ids)))
    if team_id is not None:
        metric_query = select(Metric).where(
            (Metric.team_id == team_id) | Metric.id.in_(sorted(metric_ids))
        )
    metrics = {m.id: _metric_info(m) for m in session.scalars(metric_query)}
    specs = tuple(_outcome_spec(o, targets[o.id], hypotheses[o.id]) for o in outcomes)
    return PlanChecksInput(specs, metrics, pi.end_date if pi else None)


# ---------------------------------------------------------------- audit log


AUDIT_COLUMNS = [
    "at",
    "actor",
    "action",
    "entity",
    "entity_id",
    "summary",
    "changed",
    "before",
    "after",
]


@dataclass(frozen=True)
class AuditFacets:
    """The values the audit log filters offer."""

    actors: tuple[str, ...]
    entities: tuple[str, ...]
    first: dt.date | None
    last: dt.date | None


def audit_facets(session: Session) -> AuditFacets:
    actors = session.scalars(select(AuditEvent.actor).distinct().order_by(AuditEvent.actor))
    entities = session.scalars(select(AuditEvent.entity).distinct().order_by(AuditEvent.entity))
    # Two statements: each is one lookup at an end of ix_audit_at, where min and max in
    # one statement scan the whole index.
    first = session.scalar(select(func.min(AuditEvent.at)))
    last = session.scalar(select(func.max(AuditEvent.at)))
    return AuditFacets(
        tuple(actors),
        tuple(entities),
        first.date() if first else None,
        last.date() if last else None,
    )


def audit_diff(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """The fields an event changed, and their values before and after. A create shows
    everything it set, a delete everything it removed; `version` is bookkeeping."""
    before = dict(before or {})
    after = dict(after or {})
    names = [
        name
        for name in dict.fromkeys([*before, *after])
        if name != "version" and before.get(name) != after.get(name)
    ]
    return (
        names,
        {n: before[n] for n in names if n in before},
        {n: after[n] for n in names if n in after},
    )


def _loads(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    value = json.loads(text)
    return value if isinstance(value, dict) else {"value": value}


def audit_events(
    session: Session,
    *,
    actors: Iterable[str] = (),
    actions: Iterable[str] = (),
    entities: Iterable[str] = (),
    start: dt.date | None = None,
    end: dt.date | None = None,
    limit: int = 500,
) -> pd.DataFrame:
    """Audit events, newest first, filtered by who, what, which entity and a date range
    (inclusive, UTC days); `before`/`after` hold only the changed fields, as JSON."""
    query = select(AuditEvent)
    if actors := sorted(set(actors)):
        query = query.where(AuditEvent.actor.in_(actors))
    if actions := sorted(set(actions)):
        query = query.where(AuditEvent.action.in_(actions))
    if entities := sorted(set(entities)):
        query = query.where(AuditEvent.entity.in_(entities))
    if start is not None:
        query = query.where(AuditEvent.at >= dt.datetime.combine(start, dt.time()))
    if end is not None:
        query = query.where(
            AuditEvent.at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
        )
    rows = []
    # By time, then id, so ix_audit_at yields the newest rows in order and the limit stops
    # the scan (ordering by id alone read and sorted the whole date range).
    newest_first = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    for event in session.scalars(newest_first):
        names, before, after = audit_diff(_loads(event.before), _loads(event.after))
        rows.append(
            (
                event.at,
                event.actor,
                event.action,
                event.entity,
                event.entity_id,
                event.summary,
                ", ".join(names),
                json.dumps(before, ensure_ascii=False, sort_keys=True) if before else "",
                json.dumps(after, ensure_ascii=False, sort_keys=True) if after else "",
            )
        )
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


HISTORY_COLUMNS = ["at", "actor", "action", "record", "summary", "fields"]


def outcome_history(session: Session, *, outcome_id: int, limit: int = 200) -> pd.DataFrame:
    """Audit events of one outcome, its targets, hypotheses and check-ins (archived ones
    too), newest first: columns at, actor, action, record, summary, fields (changed)."""
    parts = {
        "target": select(Target.id).where(Target.outcome_id == outcome_id),
        "hypothesis": select(Hypothesis.id).where(Hypothesis.outcome_id == outcome_id),
        "checkin": select(CheckIn.id).where(CheckIn.outcome_id == outcome_id),
    }
    query = (
        select(AuditEvent)
        .where(
            or_(
                and_(AuditEvent.entity == "outcome", AuditEvent.entity_id == outcome_id),
                *(
                    and_(AuditEvent.entity == entity, AuditEvent.entity_id.in_(ids))
                    for entity, ids in parts.items()
                ),
            )
        )
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    rows = []
    for event in session.scalars(query):
        names, _, _ = audit_diff(_loads(event.before), _loads(event.after))
        rows.append(
            (event.at, event.actor, event.action, event.entity, event.summary, ", ".join(names))
        )
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)
