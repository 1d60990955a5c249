"""A train's track record across PIs: predictability and the share of outcomes achieved
in each of its recent PIs, so a train sees whether it keeps its promises better over time.

Each PI is judged as it stood on the first day after its end (its `judged_on`), or on the
as-of date while it still runs, with the same rules as its review page: SAFe
predictability (`core.predictability`) and outcome health (`core.health`); an outcome is
achieved when its health is `achieved` (every target achieved; one without targets is
not). Only team outcomes count, as for predictability."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from core.health import evaluate_target, outcome_health
from core.model import MetricInfo, OutcomeSpec, PIInfo, ReadingPoint
from core.predictability import team_predictability, train_predictability


@dataclass(frozen=True, kw_only=True)
class PIRecordInput:
    """One PI's team outcomes with their targets, and each target's current reading as of
    `judged_on` (the latest since its baseline date; absent: none)."""

    pi: PIInfo
    judged_on: dt.date
    outcomes: tuple[OutcomeSpec, ...] = ()
    metrics: Mapping[int, MetricInfo] = field(default_factory=dict)
    current: Mapping[int, ReadingPoint] = field(default_factory=dict)  # by target id


@dataclass(frozen=True, kw_only=True)
class PITrackRecord:
    pi: str
    start_date: dt.date
    end_date: dt.date
    ended: bool
    pooled: float | None  # train predictability, percent
    mean_of_teams: float | None
    outcomes: int  # team outcomes
    achieved: int
    share_achieved: float | None  # fraction; None without outcomes


def judged_on(pi: PIInfo, as_of: dt.date) -> dt.date:
    """The day a PI is judged: the first day after its end (it has then ended, so
    unscored outcomes count 0), or `as_of` while it still runs."""
    return min(pi.end_date + dt.timedelta(days=1), as_of)


def pi_track_record(record: PIRecordInput) -> PITrackRecord:
    """Predictability and share of outcomes achieved of one PI."""
    pi, day = record.pi, record.judged_on
    outcomes = [o for o in record.outcomes if o.team_id is not None]
    team_ids = sorted({o.team_id for o in outcomes if o.team_id is not None})
    teams = [
        team_predictability(outcomes, team_id=team_id, as_of=day, pi_end=pi.end_date)
        for team_id in team_ids
    ]
    train = train_predictability(teams, as_of=day, pi_end=pi.end_date)
    achieved = 0
    for outcome in outcomes:
        targets = []
        for target in outcome.targets:
            metric = record.metrics.get(target.metric_id) or MetricInfo(
                id=target.metric_id, team_id=0, name=""
            )
            reading = record.current.get(target.id)
            targets.append(
                evaluate_target(
                    target,
                    metric,
                    () if reading is None else (reading,),
                    as_of=day,
                    pi_end=pi.end_date,
                )
            )
        if outcome_health(targets)[0] == "achieved":
            achieved += 1
    return PITrackRecord(
        pi=pi.name,
        start_date=pi.start_date,
        end_date=pi.end_date,
        ended=train.pi_ended,
        pooled=train.pooled,
        mean_of_teams=train.mean_of_teams,
        outcomes=len(outcomes),
        achieved=achieved,
        share_achieved=achieved / len(outcomes) if outcomes else None,
    )


def track_record(records: Sequence[PIRecordInput]) -> tuple[PITrackRecord, ...]:
    return tuple(pi_track_record(r) for r in records)
