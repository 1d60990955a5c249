"""SAFe predictability of teams and train, bands, and the actual-actual flags."""

from __future__ import annotations

import datetime as dt

import pytest

from core.model import OutcomeSpec
from core.predictability import (
    actual_actual_flag,
    predictability_band,
    team_predictability,
    train_predictability,
)

PI_END = dt.date(2026, 12, 18)
DURING = dt.date(2026, 11, 2)
ON_LAST_DAY = PI_END
AFTER = dt.date(2026, 12, 19)


def outcome(
    planned: int | None, actual: int | None, *, committed: bool = True, team_id: int | None = 1
) -> OutcomeSpec:
    return OutcomeSpec(
        id=0,
        pi_id=1,
        key="X-1",
        title="Raise conversion",
        team_id=team_id,
        committed=committed,
        planned_bv=planned,
        actual_bv=actual,
    )


@pytest.mark.parametrize(
    ("case", "outcomes", "as_of", "planned", "actual", "percent", "not_yet_scored"),
    [
        ("all scored", [outcome(8, 7), outcome(5, 5)], DURING, 13, 12, 12 / 13 * 100, 0),
        (
            "uncommitted adds actual only",
            [outcome(8, 8), outcome(5, 4, committed=False)],
            DURING,
            8,
            12,
            150.0,
            0,
        ),
        (
            "unscored left out before the end",
            [outcome(8, 7), outcome(5, None)],
            DURING,
            8,
            7,
            87.5,
            1,
        ),
        (
            "unscored left out on the last day",
            [outcome(8, 7), outcome(5, None)],
            ON_LAST_DAY,
            8,
            7,
            87.5,
            1,
        ),
        (
            "unscored counts 0 after the end",
            [outcome(8, 7), outcome(5, None)],
            AFTER,
            13,
            7,
            7 / 13 * 100,
            0,
        ),
        ("nothing scored yet", [outcome(8, None)], DURING, 0, 0, None, 1),
        ("nothing planned", [], AFTER, 0, 0, None, 0),
        (
            "committed without planned value adds 0",
            [outcome(None, 3), outcome(6, 6)],
            DURING,
            6,
            9,
            150.0,
            0,
        ),
        (
            "other teams and train-level ignored",
            [outcome(8, 8), outcome(9, 1, team_id=2), outcome(10, 2, team_id=None)],
            DURING,
            8,
            8,
            100.0,
            0,
        ),
    ],
)
def test_team_predictability(
    case: str,
    outcomes: list[OutcomeSpec],
    as_of: dt.date,
    planned: int,
    actual: int,
    percent: float | None,
    not_yet_scored: int,
) -> None:
    result = team_predictability(outcomes, team_id=1, as_of=as_of, pi_end=PI_END)
    assert (result.planned_bv, result.actual_bv, result.not_yet_scored) == (
        planned,
        actual,
        not_yet_scored,
    ), case
    if percent is None:
        assert result.percent is None, case
    else:
        assert result.percent == pytest.approx(percent), case


@pytest.mark.parametrize(
    ("percent", "band"),
    [
        (None, None),
        (0.0, "over_committed"),
        (79.9, "over_committed"),
        (80.0, "healthy"),
        (92.3, "healthy"),
        (100.0, "healthy"),
        (100.1, "under_committed"),
        (150.0, "under_committed"),
    ],
)
def test_predictability_band(percent: float | None, band: str | None) -> None:
    assert predictability_band(percent) == band


def test_train_predictability_pools_and_averages_teams_differently() -> None:
    outcomes = [
        outcome(10, 10, team_id=1),  # team 1: 100%
        outcome(2, 1, team_id=2),  # team 2: 50%
    ]
    teams = [team_predictability(outcomes, team_id=t, as_of=DURING, pi_end=PI_END) for t in (1, 2)]
    train = train_predictability(teams, as_of=DURING, pi_end=PI_END)
    assert train.pooled == pytest.approx(11 / 12 * 100)  # 91.7: healthy
    assert train.mean_of_teams == pytest.approx(75.0)  # over-committed
    assert (train.pooled_band, train.mean_band) == ("healthy", "over_committed")
    assert train.teams_counted == 2


def test_train_level_outcomes_enter_neither_train_figure() -> None:
    team_outcomes = [outcome(10, 8, team_id=1)]
    train_level = [outcome(10, 0, team_id=None)]
    teams = [
        team_predictability(team_outcomes + train_level, team_id=1, as_of=DURING, pi_end=PI_END)
    ]
    train = train_predictability(teams, as_of=DURING, pi_end=PI_END)
    assert (train.pooled, train.mean_of_teams) == (80.0, 80.0)


def test_team_without_planned_value_is_left_out_of_the_mean() -> None:
    outcomes = [outcome(10, 9, team_id=1), outcome(None, 5, team_id=2, committed=False)]
    teams = [team_predictability(outcomes, team_id=t, as_of=DURING, pi_end=PI_END) for t in (1, 2)]
    train = train_predictability(teams, as_of=DURING, pi_end=PI_END)
    assert train.mean_of_teams == pytest.approx(90.0)
    assert train.pooled == pytest.approx(140.0)
    assert train.teams_counted == 1


def test_train_counts_not_yet_scored_outcomes_of_all_teams() -> None:
    outcomes = [outcome(3, None, team_id=1), outcome(4, None, team_id=2), outcome(4, 4, team_id=2)]
    teams = [team_predictability(outcomes, team_id=t, as_of=DURING, pi_end=PI_END) for t in (1, 2)]
    assert train_predictability(teams, as_of=DURING, pi_end=PI_END).not_yet_scored == 2


@pytest.mark.parametrize(
    ("actual", "health", "code"),
    [
        (8, "missed", "high_score_targets_missed"),
        (10, "missed", "high_score_targets_missed"),
        (7, "missed", None),
        (8, "off_track", None),
        (3, "achieved", "low_score_targets_achieved"),
        (0, "achieved", "low_score_targets_achieved"),
        (4, "achieved", None),
        (3, "on_track", None),
        (None, "missed", None),
        (None, "achieved", None),
    ],
)
def test_actual_actual_flag(actual: int | None, health: str, code: str | None) -> None:
    flag = actual_actual_flag(actual, health)
    assert (flag.code if flag else None) == code
