"""SAFe predictability of teams and the train, and the actual-actual flags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from core.model import (
    ActualActualFlag,
    OutcomeSpec,
    TeamPredictability,
    TrainPredictability,
)

HEALTHY_LOW = 80.0
HEALTHY_HIGH = 100.0
HIGH_SCORE = 8
LOW_SCORE = 3


def predictability_band(percent: float | None) -> str | None:
    """Below 80 over_committed, 80-100 (inclusive) healthy, above 100 under_committed."""
    if percent is None:
        return None
    if percent < HEALTHY_LOW:
        return "over_committed"
    if percent > HEALTHY_HIGH:
        return "under_committed"
    return "healthy"


def pi_has_ended(pi_end: dt.date, as_of: dt.date) -> bool:
    """The PI has ended when the as-of date is after its end date."""
    return as_of > pi_end


def team_predictability(
    outcomes: Sequence[OutcomeSpec], *, team_id: int, as_of: dt.date, pi_end: dt.date
) -> TeamPredictability:
    """Sum of actual business value of the team's outcomes (committed and uncommitted) /
    sum of planned business value of its committed outcomes x 100.

    Unscored outcomes (no actual value) count as 0 once the PI has ended; before that
    they are left out of both sums and counted in `not_yet_scored`. A committed outcome
    without planned value adds 0 to the planned sum. Outcomes of other teams and
    train-level outcomes are ignored."""
    ended = pi_has_ended(pi_end, as_of)
    planned = actual = not_yet_scored = 0
    for outcome in outcomes:
        if outcome.team_id != team_id:
            continue
        if outcome.actual_bv is None and not ended:
            not_yet_scored += 1
            continue
        actual += outcome.actual_bv or 0
        if outcome.committed:
            planned += outcome.planned_bv or 0
    percent = actual / planned * 100 if planned else None
    return TeamPredictability(
        team_id=team_id,
        planned_bv=planned,
        actual_bv=actual,
        percent=percent,
        band=predictability_band(percent),
        not_yet_scored=not_yet_scored,
        pi_ended=ended,
    )


def train_predictability(
    teams: Sequence[TeamPredictability], *, as_of: dt.date, pi_end: dt.date
) -> TrainPredictability:
    """Pooled (all teams' actual / all teams' committed planned) as the headline, and the
    mean of the team percents that exist (teams with nothing planned have none).
    Train-level outcomes are not among `teams`, so they enter neither figure."""
    planned = sum(t.planned_bv for t in teams)
    actual = sum(t.actual_bv for t in teams)
    pooled = actual / planned * 100 if planned else None
    percents = [t.percent for t in teams if t.percent is not None]
    mean = sum(percents) / len(percents) if percents else None
    return TrainPredictability(
        planned_bv=planned,
        actual_bv=actual,
        pooled=pooled,
        pooled_band=predictability_band(pooled),
        mean_of_teams=mean,
        mean_band=predictability_band(mean),
        teams_counted=len(percents),
        not_yet_scored=sum(t.not_yet_scored for t in teams),
        pi_ended=pi_has_ended(pi_end, as_of),
    )


def actual_actual_flag(actual_bv: int | None, outcome_health: str) -> ActualActualFlag | None:
    """Business value and metrics disagree: scored 8+ while the outcome's targets were
    missed (its health, the worst target's, is `missed`), or scored 3 or less while its
    targets were achieved (health `achieved`: every target achieved)."""
    if actual_bv is None:
        return None
    if actual_bv >= HIGH_SCORE and outcome_health == "missed":
        return ActualActualFlag(
            code="high_score_targets_missed",
            message=f"scored {actual_bv} for business value, but its targets were missed",
        )
    if actual_bv <= LOW_SCORE and outcome_health == "achieved":
        return ActualActualFlag(
            code="low_score_targets_achieved",
            message=f"scored {actual_bv} for business value, but its targets were achieved",
        )
    return None
