"""Inspect & Adapt: every hypothesis of a PI grouped by decision, those whose window
closed without a decision first."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from core.inspect_adapt import (
    GROUP_ORDER,
    EvidenceFigures,
    InspectRow,
    effect_text,
    inspect_and_adapt,
)
from core.model import (
    HypothesisSpec,
    MetricInfo,
    OutcomeSpec,
    PIInfo,
    PISnapshot,
    ReadingPoint,
    TeamInfo,
)
from core.rules import evaluate_pi

START = dt.date(2026, 10, 5)
AS_OF = dt.date(2026, 12, 1)


def hypothesis(
    number: int, *, shipped: dt.date | None, decision: str | None = None, outcome_id: int = 1
) -> HypothesisSpec:
    return HypothesisSpec(
        id=number,
        outcome_id=outcome_id,
        metric_id=1,
        if_text=f"we build {number}",
        expect_text="more buyers finish",
        release_id=number if shipped else None,
        release_name=f"v{number}" if shipped else None,
        release_date=shipped,
        window_days=14,
        decision=decision,
        learning="it worked" if decision else "",
        min_effect=0.1,
    )


def snapshot() -> PISnapshot:
    pi = PIInfo(id=1, name="PI 26.4", start_date=START, end_date=dt.date(2026, 12, 18))
    readings = tuple(
        ReadingPoint(START + dt.timedelta(days=d), 2.0 + (0.5 if d > 30 else 0.0))
        for d in range(0, 57, 3)
    )
    return PISnapshot(
        pi=pi,
        as_of=AS_OF,
        teams=(TeamInfo(id=1, name="Checkout", key="CHK"),),
        outcomes=(
            OutcomeSpec(
                id=1,
                pi_id=1,
                key="CHK-1",
                title="Raise conversion",
                team_id=1,
                hypotheses=(
                    hypothesis(1, shipped=dt.date(2026, 11, 4), decision="pivot"),
                    hypothesis(2, shipped=dt.date(2026, 11, 4)),  # closed 18 Nov
                    hypothesis(3, shipped=dt.date(2026, 11, 25)),  # open until 9 Dec
                    hypothesis(4, shipped=None),  # untested
                    hypothesis(5, shipped=dt.date(2026, 11, 17)),  # closes on as_of: closed
                ),
            ),
            OutcomeSpec(
                id=2,
                pi_id=1,
                key="TR-1",
                title="Grow revenue",
                hypotheses=(hypothesis(6, shipped=None, decision="persevere", outcome_id=2),),
            ),
        ),
        metrics={1: MetricInfo(id=1, team_id=1, name="Conversion", unit="%")},
        readings={1: readings},
    )


def test_hypotheses_are_grouped_with_closed_windows_without_decision_first() -> None:
    data = snapshot()

    groups = inspect_and_adapt(evaluate_pi(data), data)

    assert [(g.code, [r.hypothesis_id for r in g.rows]) for g in groups] == [
        ("waiting", [2, 5]),
        ("persevere", [6]),
        ("pivot", [1]),
        ("open", [3, 4]),
    ]
    assert [g.code for g in groups] == [c for c in GROUP_ORDER if c != "stop"]
    assert groups[1].rows[0].team == "Train" and groups[1].rows[0].team_key is None
    assert groups[2].rows[0].learning == "it worked"


def test_each_row_carries_the_verdict_and_its_effect() -> None:
    data = snapshot()

    rows = {r.hypothesis_id: r for g in inspect_and_adapt(evaluate_pi(data), data) for r in g.rows}

    assert rows[2].verdict == "supported"
    assert rows[2].figures.effect == pytest.approx(0.5)
    assert rows[4].verdict == "untested" and rows[4].figures.effect is None


@pytest.mark.parametrize(
    ("figures", "expected"),
    [
        (EvidenceFigures(None, None, None), "—"),
        (EvidenceFigures(0.5, None, "means"), "+0.5%"),
        (EvidenceFigures(-0.25, (-0.9, 0.41), "trend"), "-0.2% (95% interval -0.9% to +0.4%)"),
    ],
)
def test_effect_text(figures: EvidenceFigures, expected: str) -> None:
    data = snapshot()
    row = next(r for g in inspect_and_adapt(evaluate_pi(data), data) for r in g.rows)

    assert effect_text(dataclasses.replace(row, figures=figures)) == expected
    assert isinstance(row, InspectRow)
