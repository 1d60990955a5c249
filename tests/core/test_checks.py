"""Outcome and team quality checks: every code, firing and not firing."""

from __future__ import annotations

import datetime as dt

import pytest

from core.checks import (
    OUTPUT_VERBS,
    REWRITE_TEMPLATE,
    is_task_phrased,
    outcome_checks,
    team_checks,
)
from core.model import HypothesisSpec, MetricInfo, OutcomeSpec, TargetSpec

D = dt.date
LEADING = MetricInfo(id=1, team_id=1, name="Checkout conversion", unit="%", leading=True)
LAGGING = MetricInfo(id=2, team_id=1, name="Revenue", unit="EUR", decimals=0, leading=False)
METRICS = {1: LEADING, 2: LAGGING}


def target(metric_id: int = 1, **overrides: object) -> TargetSpec:
    fields: dict = {
        "id": metric_id,
        "outcome_id": 1,
        "metric_id": metric_id,
        "kind": "increase",
        "baseline": 2.1,
        "baseline_date": D(2026, 10, 5),
        "target": 2.6,
        "target_date": D(2026, 12, 18),
    }
    fields.update(overrides)
    return TargetSpec(**fields)


HYPOTHESIS = HypothesisSpec(
    id=1, outcome_id=1, metric_id=1, if_text="we offer one-click pay", expect_text="more buyers"
)


def good(**overrides: object) -> OutcomeSpec:
    """An outcome no check fires on."""
    fields: dict = {
        "id": 1,
        "pi_id": 1,
        "key": "CHK-1",
        "title": "Raise checkout conversion",
        "team_id": 1,
        "committed": True,
        "planned_bv": 8,
        "targets": (target(),),
        "hypotheses": (HYPOTHESIS,),
    }
    fields.update(overrides)
    return OutcomeSpec(**fields)


def codes(outcome: OutcomeSpec) -> list[str]:
    return [c.code for c in outcome_checks(outcome, METRICS)]


def test_a_well_formed_outcome_has_no_checks() -> None:
    assert codes(good()) == []


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("task_phrased", good(title="Build the one-click payment page")),
        ("no_target", good(targets=())),
        ("target_incomplete", good(targets=(target(baseline=None),))),
        ("target_incomplete", good(targets=(target(baseline_date=None),))),
        ("no_hypothesis", good(hypotheses=())),
        ("no_planned_bv", good(planned_bv=None)),
        ("too_many_targets", good(targets=tuple(target(m) for m in range(1, 5)))),
    ],
)
def test_outcome_check_fires(code: str, outcome: OutcomeSpec) -> None:
    assert code in codes(outcome)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("task_phrased", good(title="Address checkout drop-off")),  # "add" is not a word here
        ("task_phrased", good(title="Buyers finish checkout faster after we build X")),
        ("no_target", good()),
        ("target_incomplete", good(targets=(target(),))),
        # a maintain target needs only its band
        ("target_incomplete", good(targets=(target(kind="maintain", baseline=None,
                                                   baseline_date=None, target=None,
                                                   band_low=1.0, band_high=2.0),))),
        ("no_hypothesis", good()),
        ("no_planned_bv", good(planned_bv=None, committed=False)),
        ("too_many_targets", good(targets=tuple(target(m) for m in range(1, 4)))),
    ],
)  # fmt: skip
def test_outcome_check_does_not_fire(code: str, outcome: OutcomeSpec) -> None:
    assert code not in codes(outcome)


@pytest.mark.parametrize("verb", OUTPUT_VERBS)
def test_every_output_verb_reads_like_a_task(verb: str) -> None:
    assert is_task_phrased(f"{verb.capitalize()} the new checkout")


@pytest.mark.parametrize(
    ("title", "task"),
    [
        ("  build a thing", True),
        ("SET UP monitoring", True),
        ("Set-up monitoring", True),
        ("Roll  out dark mode", True),
        ("Make checkout faster", True),
        ("Builder satisfaction rises", False),
        ("Makers return weekly", False),
        ("Raise checkout conversion", False),
        ("Fewer abandoned payments", False),
    ],
)
def test_task_phrasing_matches_whole_leading_verbs(title: str, task: bool) -> None:
    assert is_task_phrased(title) is task


def test_task_phrased_carries_the_message_and_a_filled_rewrite() -> None:
    (check,) = [c for c in outcome_checks(good(title="Ship one-click pay"), METRICS)]
    assert check.message == "reads like a task: state the change you expect for users"
    assert check.rewrite == "Increase Checkout conversion from 2.1% to 2.6% by 18 Dec"


def test_rewrite_says_reduce_for_a_decrease_target() -> None:
    outcome = good(title="Ship faster pages", targets=(target(2, baseline=900, target=700),))
    (check,) = outcome_checks(outcome, METRICS)
    assert check.rewrite == "Reduce Revenue from 900 EUR to 700 EUR by 18 Dec"


def test_rewrite_falls_back_to_the_template_without_a_complete_target() -> None:
    (check, *_) = outcome_checks(good(title="Build it", targets=()), METRICS)
    assert check.rewrite == REWRITE_TEMPLATE
    assert REWRITE_TEMPLATE == "Increase/Reduce <metric> from <baseline> to <target> by <date>"


def team_codes(outcomes: list[OutcomeSpec]) -> list[str]:
    return [c.code for c in team_checks(outcomes, METRICS)]


@pytest.mark.parametrize(
    ("case", "outcomes", "expected"),
    [
        ("ten outcomes are fine", [good()] * 10, []),
        ("eleven are too many", [good()] * 11, ["too_many_outcomes"]),
        ("only lagging metrics", [good(targets=(target(2),))], ["no_leading_metric"]),
        ("one leading metric is enough", [good(targets=(target(2),)), good()], []),
        ("no targets at all: told per outcome", [good(targets=())], []),
        ("no outcomes", [], []),
    ],
)
def test_team_checks(case: str, outcomes: list[OutcomeSpec], expected: list[str]) -> None:
    assert team_codes(outcomes) == expected, case
