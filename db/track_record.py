"""A train's last PIs for the track-record chart: four statements whatever the number of
PIs, teams or readings (the PIs; their team outcomes; their targets with the one reading
each target is judged by; those metrics), then the rules in `core.track_record`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import Session, aliased

from core.model import PIInfo, ReadingPoint, TargetSpec
from core.track_record import PIRecordInput, PITrackRecord, judged_on, track_record
from db.models import PI, Metric, Outcome, Reading, Target
from db.queries import _metric_info, _outcome_spec, _pi_info, _target_spec, pi_by_name

TRACK_RECORD_PIS = 8


def train_pis(
    session: Session, *, pi_name: str, as_of: dt.date, count: int = TRACK_RECORD_PIS
) -> tuple[PIInfo, ...]:
    """The named PI and the PIs of its train before it, the last `count` of them that had
    started by `as_of`, oldest first. Unknown PI: ValidationError."""
    pi = pi_by_name(session, pi_name=pi_name)
    same_train = PI.train_id.is_(None) if pi.train_id is None else PI.train_id == pi.train_id
    rows = session.execute(
        select(PI.__table__)
        .where(same_train, PI.start_date <= min(as_of, pi.start_date))
        .order_by(PI.start_date.desc())
        .limit(count)
    ).all()
    return tuple(_pi_info(row, pi.train_name) for row in reversed(rows))


def train_track_record(
    session: Session, *, pi_name: str, as_of: dt.date, count: int = TRACK_RECORD_PIS
) -> tuple[PITrackRecord, ...]:
    """Predictability and share of outcomes achieved for each of the train's last `count`
    PIs, oldest first (`core.track_record`)."""
    pis = train_pis(session, pi_name=pi_name, as_of=as_of, count=count)
    if not pis:
        return ()
    pi_ids = [p.id for p in pis]
    outcome_rows = session.execute(
        select(Outcome.__table__)
        .where(
            Outcome.pi_id.in_(pi_ids),
            Outcome.team_id.is_not(None),
            Outcome.status != "archived",
        )
        .order_by(Outcome.pi_id, Outcome.team_id, Outcome.position, Outcome.key)
    ).all()

    # Each PI's judging day in SQL (a CASE over the few PIs), so one correlated subquery
    # picks every target's reading: the latest on or before that day and on or after the
    # target's baseline date, on the (metric_id, date) index.
    day_of = case({p.id: judged_on(p, as_of) for p in pis}, value=Outcome.pi_id)
    inner = aliased(Reading)
    current_id = (
        select(inner.id)
        .where(
            inner.metric_id == Target.metric_id,
            inner.date <= day_of,
            or_(Target.baseline_date.is_(None), inner.date >= Target.baseline_date),
        )
        .order_by(inner.date.desc())
        .limit(1)
        .correlate(Target, Outcome)
        .scalar_subquery()
    )
    target_rows = session.execute(
        select(Target.__table__, Reading.date.label("reading_date"), Reading.value)
        .join(Outcome, Outcome.id == Target.outcome_id)
        .outerjoin(Reading, Reading.id == current_id)
        .where(
            and_(
                Outcome.pi_id.in_(pi_ids),
                Outcome.team_id.is_not(None),
                Outcome.status != "archived",
                Target.archived.is_(False),
            )
        )
        .order_by(Target.outcome_id, Target.position, Target.id)
    ).all()
    metric_ids = {row.metric_id for row in target_rows}
    metrics = {
        row.id: _metric_info(row)
        for row in session.execute(
            select(Metric.__table__).where(Metric.id.in_(sorted(metric_ids)))
        ).all()
    }

    targets: dict[int, list[TargetSpec]] = defaultdict(list)
    current: dict[int, ReadingPoint] = {}
    for row in target_rows:
        targets[row.outcome_id].append(_target_spec(row))
        if row.reading_date is not None:
            current[row.id] = ReadingPoint(row.reading_date, row.value)
    outcomes = defaultdict(list)
    for row in outcome_rows:
        outcomes[row.pi_id].append(_outcome_spec(row, targets.get(row.id, ()), ()))
    return track_record(
        [
            PIRecordInput(
                pi=p,
                judged_on=judged_on(p, as_of),
                outcomes=tuple(outcomes.get(p.id, ())),
                metrics=metrics,
                current=current,
            )
            for p in pis
        ]
    )
