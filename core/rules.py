"""Every rule applied to a PI snapshot: the one entry point pages, the CLI and the report
share (`evaluate_pi`), plus the single rules re-exported for callers that need one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from core.alignment import contributors_of, rolled_up_train_outcome
from core.checks import is_task_phrased, outcome_checks, rewrite_suggestion, team_checks
from core.health import evaluate_target, outcome_health, outcome_progress, target_health
from core.model import (
    CheckInInfo,
    MetricInfo,
    OutcomeSpec,
    OutcomeStatus,
    PISnapshot,
    PIStatus,
    TeamStatus,
)
from core.predictability import (
    actual_actual_flag,
    predictability_band,
    team_predictability,
    train_predictability,
)
from core.progress import (
    clamp01,
    current_reading,
    expected_progress,
    forecast_progress,
    infer_kind,
    progress,
)
from core.verdicts import hypothesis_verdict

__all__ = [
    "actual_actual_flag",
    "clamp01",
    "current_reading",
    "evaluate_outcome",
    "evaluate_pi",
    "evaluate_target",
    "expected_progress",
    "forecast_progress",
    "hypothesis_verdict",
    "infer_kind",
    "is_task_phrased",
    "latest_checkins",
    "outcome_checks",
    "outcome_health",
    "outcome_progress",
    "predictability_band",
    "progress",
    "rewrite_suggestion",
    "target_health",
    "team_checks",
    "team_predictability",
    "train_predictability",
]


def _unknown_metric(metric_id: int) -> MetricInfo:
    return MetricInfo(id=metric_id, team_id=0, name=f"metric {metric_id}")


def evaluate_outcome(
    outcome: OutcomeSpec,
    snapshot: PISnapshot,
    *,
    last_checkin: CheckInInfo | None = None,
) -> OutcomeStatus:
    """Targets, hypotheses, health, progress, checks and the actual-actual flag of one
    outcome, as of the snapshot's date."""
    as_of, pi_end = snapshot.as_of, snapshot.pi.end_date
    metrics: Mapping[int, MetricInfo] = snapshot.metrics
    targets = tuple(
        evaluate_target(
            spec,
            metrics.get(spec.metric_id) or _unknown_metric(spec.metric_id),
            snapshot.readings.get(spec.metric_id, ()),
            as_of=as_of,
            pi_end=pi_end,
        )
        for spec in outcome.targets
    )
    hypotheses = []
    for spec in outcome.hypotheses:
        metric = metrics.get(spec.metric_id) or _unknown_metric(spec.metric_id)
        hypotheses.append(
            hypothesis_verdict(
                spec,
                snapshot.readings.get(spec.metric_id, ()),
                as_of=as_of,
                decimals=metric.decimals,
                unit=metric.unit,
            )
        )
    health, reason = outcome_health(targets)
    return OutcomeStatus(
        outcome_id=outcome.id,
        key=outcome.key,
        title=outcome.title,
        team_id=outcome.team_id,
        committed=outcome.committed,
        planned_bv=outcome.planned_bv,
        actual_bv=outcome.actual_bv,
        health=health,
        reason=reason,
        progress=outcome_progress(targets),
        targets=targets,
        hypotheses=tuple(hypotheses),
        checks=outcome_checks(outcome, metrics, pi_end=pi_end),
        flag=actual_actual_flag(outcome.actual_bv, health),
        last_checkin=last_checkin,
    )


def latest_checkins(checkins: Sequence[CheckInInfo], *, as_of: dt.date) -> dict[int, CheckInInfo]:
    """The latest check-in of each outcome on or before `as_of`, by outcome id."""
    latest: dict[int, CheckInInfo] = {}
    for checkin in checkins:
        if checkin.date > as_of:
            continue
        seen = latest.get(checkin.outcome_id)
        if seen is None or (checkin.date, checkin.id) > (seen.date, seen.id):
            latest[checkin.outcome_id] = checkin
    return latest


def evaluate_pi(snapshot: PISnapshot) -> PIStatus:
    """Every computed number of the PI as of the snapshot's date."""
    as_of, pi_end = snapshot.as_of, snapshot.pi.end_date
    checkins = latest_checkins(snapshot.checkins, as_of=as_of)
    teams: list[TeamStatus] = []
    for team in snapshot.teams:
        outcomes = snapshot.team_outcomes(team.id)
        teams.append(
            TeamStatus(
                team=team,
                outcomes=tuple(
                    evaluate_outcome(o, snapshot, last_checkin=checkins.get(o.id)) for o in outcomes
                ),
                checks=team_checks(outcomes, snapshot.metrics),
                predictability=team_predictability(
                    outcomes, team_id=team.id, as_of=as_of, pi_end=pi_end
                ),
            )
        )
    team_outcomes = [o for t in teams for o in t.outcomes]
    train_outcomes = tuple(
        rolled_up_train_outcome(
            evaluate_outcome(o, snapshot, last_checkin=checkins.get(o.id)),
            o,
            contributors_of(o.id, team_outcomes, snapshot.outcomes),
        )
        for o in snapshot.team_outcomes(None)
    )
    return PIStatus(
        pi=snapshot.pi,
        as_of=as_of,
        teams=tuple(teams),
        train_outcomes=train_outcomes,
        train_predictability=train_predictability(
            [t.predictability for t in teams], as_of=as_of, pi_end=pi_end
        ),
    )
