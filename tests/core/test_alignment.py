"""Alignment rollup: PRODUCT.md's rule for train outcomes, as a table of cases."""

from __future__ import annotations

import pytest

from core.alignment import contributors_of, rolled_up_train_outcome, rollup
from core.model import OutcomeSpec, OutcomeStatus, TargetSpec


def status(key: str, health: str, progress: float | None, outcome_id: int = 0) -> OutcomeStatus:
    return OutcomeStatus(
        outcome_id=outcome_id,
        key=key,
        title=key,
        team_id=1,
        committed=True,
        planned_bv=None,
        actual_bv=None,
        health=health,
        reason="own",
        progress=progress,
    )


@pytest.mark.parametrize(
    ("case", "children", "health", "progress"),
    [
        ("no children: unmeasurable", [], "unmeasurable", None),
        ("one child", [("A", "on_track", 0.4)], "on_track", 0.4),
        (
            "worst health, mean progress",
            [("A", "on_track", 0.4), ("B", "at_risk", 0.2), ("C", "achieved", 1.0)],
            "at_risk",
            (0.4 + 0.2 + 1.0) / 3,
        ),
        (
            "missed is worse than off track",
            [("A", "off_track", 0.1), ("B", "missed", 0.5)],
            "missed",
            0.3,
        ),
        (
            "stale is worse than no data and on track",
            [("A", "no_data", None), ("B", "stale", 0.3), ("C", "on_track", 0.5)],
            "stale",
            0.4,  # the mean of those that have progress
        ),
        ("no child has progress: null", [("A", "no_data", None)], "no_data", None),
        (
            "an unmeasurable child says nothing beside measured ones",
            [("A", "unmeasurable", None), ("B", "achieved", 1.0)],
            "achieved",
            1.0,
        ),
        ("only unmeasurable children", [("A", "unmeasurable", None)], "unmeasurable", None),
    ],
)
def test_rollup(
    case: str,
    children: list[tuple[str, str, float | None]],
    health: str,
    progress: float | None,
) -> None:
    result = rollup([status(*child) for child in children])
    assert result.health == health, case
    assert result.progress == (None if progress is None else pytest.approx(progress)), case
    assert result.reason, case


def train_spec(*, targets: bool) -> OutcomeSpec:
    target = TargetSpec(id=9, outcome_id=10, metric_id=1, kind="increase")
    return OutcomeSpec(
        id=10, pi_id=1, key="PAY-1", title="Pay", team_id=None, targets=(target,) if targets else ()
    )


def test_train_outcome_with_targets_keeps_its_own_health_and_lists_contributors() -> None:
    own = status("PAY-1", "on_track", 0.7, outcome_id=10)
    child = status("CHK-1", "missed", 0.1, outcome_id=1)

    result = rolled_up_train_outcome(own, train_spec(targets=True), [child])

    assert (result.health, result.progress, result.rolled_up) == ("on_track", 0.7, False)
    assert result.contributors == (1,)


def test_train_outcome_without_targets_takes_its_contributors_health() -> None:
    own = status("PAY-1", "unmeasurable", None, outcome_id=10)
    children = [status("CHK-1", "at_risk", 0.3, 1), status("WAL-1", "on_track", 0.5, 2)]

    result = rolled_up_train_outcome(own, train_spec(targets=False), children)

    assert (result.health, result.progress, result.rolled_up) == ("at_risk", 0.4, True)
    assert result.contributors == (1, 2)
    assert "CHK-1" in result.reason


def test_contributors_are_team_outcomes_naming_the_parent() -> None:
    specs = [
        OutcomeSpec(id=1, pi_id=1, key="CHK-1", title="a", team_id=1, parent_id=10),
        OutcomeSpec(id=2, pi_id=1, key="CHK-2", title="b", team_id=1, parent_id=None),
        OutcomeSpec(id=3, pi_id=1, key="WAL-1", title="c", team_id=2, parent_id=10),
        OutcomeSpec(id=4, pi_id=1, key="PAY-2", title="d", team_id=None, parent_id=10),
    ]
    statuses = [status(s.key, "on_track", 0.5, s.id) for s in specs]

    found = contributors_of(10, statuses, specs)

    assert [c.key for c in found] == ["CHK-1", "WAL-1"]
