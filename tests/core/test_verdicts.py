"""Hypothesis verdicts and their evidence: every branch of PRODUCT.md's rule."""

from __future__ import annotations

import datetime as dt
import math
import statistics
import warnings

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from core.model import HypothesisSpec, ReadingPoint
from core.verdicts import hypothesis_verdict, min_effect_threshold, welch_p_value

D = dt.date
RELEASE = D(2026, 10, 20)
WINDOW_END = D(2026, 11, 17)  # release + 28 days
BEFORE_DAYS = [D(2026, 9, 29), D(2026, 10, 6), D(2026, 10, 13)]
AFTER_DAYS = [D(2026, 10, 27), D(2026, 11, 3), D(2026, 11, 10)]


def spec(**overrides: object) -> HypothesisSpec:
    fields: dict = {
        "id": 1,
        "outcome_id": 1,
        "metric_id": 1,
        "if_text": "we offer one-click pay",
        "expect_text": "more buyers finish checkout",
        "direction": "increase",
        "min_effect": 1.0,
        "min_effect_unit": "absolute",
        "release_id": 7,
        "release_name": "v2.3",
        "release_date": RELEASE,
        "window_days": 28,
    }
    fields.update(overrides)
    return HypothesisSpec(**fields)


def readings(before: list[float], after: list[float]) -> list[ReadingPoint]:
    """`before` on the last days before the release, `after` on the first days after it."""
    days = BEFORE_DAYS[len(BEFORE_DAYS) - len(before) :]
    points = [ReadingPoint(day, v) for day, v in zip(days, before, strict=True)]
    return points + [ReadingPoint(day, v) for day, v in zip(AFTER_DAYS, after, strict=False)]


OPEN = D(2026, 11, 12)  # window still open
CLOSED = D(2026, 11, 20)


@pytest.mark.parametrize(
    ("case", "hypothesis", "before", "after", "as_of", "verdict"),
    [
        (
            "no release linked",
            spec(release_id=None, release_date=None, release_name=None),
            [10, 10],
            [20, 20],
            CLOSED,
            "untested",
        ),
        ("release after the as-of date", spec(), [10, 10], [], D(2026, 10, 19), "untested"),
        ("supported while the window is open", spec(), [10, 10], [12, 12], OPEN, "supported"),
        ("supported after it closed", spec(), [10, 10, 10], [12, 11, 12], CLOSED, "supported"),
        ("supported exactly at the minimum", spec(), [10, 10], [11, 11], CLOSED, "supported"),
        (
            "supported for a decrease",
            spec(direction="decrease"),
            [10, 10],
            [8, 8],
            CLOSED,
            "supported",
        ),
        (
            "measuring: effect still small",
            spec(min_effect=5.0),
            [10, 10],
            [12, 12],
            OPEN,
            "measuring",
        ),
        ("measuring: too few readings after", spec(), [10, 10], [12], OPEN, "measuring"),
        ("measuring: moving the wrong way", spec(), [10, 10], [8, 8], OPEN, "measuring"),
        ("inconclusive: one reading before", spec(), [10], [12, 12], CLOSED, "inconclusive"),
        ("inconclusive: one reading after", spec(), [10, 10], [12], CLOSED, "inconclusive"),
        ("inconclusive: none at all", spec(), [], [], CLOSED, "inconclusive"),
        ("refuted: wrong way", spec(), [10, 10], [9, 9], CLOSED, "refuted"),
        ("refuted: no change", spec(), [10, 10], [10, 10], CLOSED, "refuted"),
        (
            "refuted: no change even with no minimum",
            spec(min_effect=0.0),
            [10, 10],
            [10, 10],
            CLOSED,
            "refuted",
        ),
        (
            "refuted: decrease that rose",
            spec(direction="decrease"),
            [10, 10],
            [12, 12],
            CLOSED,
            "refuted",
        ),
        (
            "inconclusive: effect below the minimum",
            spec(min_effect=5.0),
            [10, 10],
            [12, 12],
            CLOSED,
            "inconclusive",
        ),
        (
            "closed exactly at release + window",
            spec(min_effect=5.0),
            [10, 10],
            [12, 12],
            WINDOW_END,
            "inconclusive",
        ),
        (
            "percent minimum met",
            spec(min_effect=10, min_effect_unit="percent"),
            [200, 200],
            [225, 225],
            CLOSED,
            "supported",
        ),
        (
            "percent minimum missed",
            spec(min_effect=10, min_effect_unit="percent"),
            [200, 200],
            [215, 215],
            CLOSED,
            "inconclusive",
        ),
        (
            "percent of |negative mean|",
            spec(min_effect=10, min_effect_unit="percent"),
            [-200, -200],
            [-175, -175],
            CLOSED,
            "supported",
        ),
    ],
)
def test_verdict(
    case: str,
    hypothesis: HypothesisSpec,
    before: list[float],
    after: list[float],
    as_of: D,
    verdict: str,
) -> None:
    result = hypothesis_verdict(hypothesis, readings(before, after), as_of=as_of)
    assert result.verdict == verdict, case
    assert result.reason, case


def test_evidence_has_means_counts_signed_effect_and_threshold() -> None:
    result = hypothesis_verdict(
        spec(direction="decrease", min_effect=10, min_effect_unit="percent"),
        readings([10, 12], [8, 9]),
        as_of=CLOSED,
    )
    evidence = result.evidence
    assert (evidence.before_mean, evidence.before_count) == (11.0, 2)
    assert (evidence.after_mean, evidence.after_count) == (8.5, 2)
    assert evidence.effect == pytest.approx(2.5)  # a fall is positive for "decrease"
    assert evidence.min_effect == pytest.approx(1.1)
    assert evidence.window_end == WINDOW_END


def test_windows_are_half_open_around_the_release() -> None:
    points = [
        ReadingPoint(D(2026, 9, 21), 999.0),  # before R - W: ignored
        ReadingPoint(D(2026, 9, 22), 10.0),  # R - W: in "before"
        ReadingPoint(D(2026, 10, 19), 10.0),
        ReadingPoint(RELEASE, 500.0),  # the release day: on neither side
        ReadingPoint(D(2026, 10, 21), 12.0),
        ReadingPoint(WINDOW_END, 12.0),  # R + W: in "after"
        ReadingPoint(D(2026, 11, 18), 999.0),  # after the window: ignored
    ]
    evidence = hypothesis_verdict(spec(), points, as_of=D(2026, 12, 1)).evidence
    assert (evidence.before_count, evidence.after_count) == (2, 2)
    assert evidence.effect == pytest.approx(2.0)


def test_after_side_stops_at_the_as_of_date() -> None:
    result = hypothesis_verdict(spec(), readings([10, 10], [12, 12, 12]), as_of=D(2026, 11, 5))
    assert result.evidence.after_count == 2


@pytest.mark.parametrize(
    ("before", "after", "has_p_value"),
    [
        ([10, 11, 10.5], [12, 13, 12.5], True),
        ([10, 11], [12, 13, 12.5], False),
        ([10, 11, 10.5], [12, 13], False),
        ([10, 11], [12, 13], False),
    ],
)
def test_p_value_only_with_three_readings_on_each_side(
    before: list[float], after: list[float], has_p_value: bool
) -> None:
    evidence = hypothesis_verdict(spec(), readings(before, after), as_of=CLOSED).evidence
    assert (evidence.p_value is not None) == has_p_value


def test_p_value_is_welchs_t_test() -> None:
    before, after = [10, 11, 10.5], [12, 14, 12.5]
    evidence = hypothesis_verdict(spec(), readings(before, after), as_of=CLOSED).evidence
    expected = stats.ttest_ind(after, before, equal_var=False).pvalue
    assert evidence.p_value == pytest.approx(expected)


def test_p_value_is_none_when_undefined() -> None:
    # Both sides constant and equal: t is 0/0.
    result = hypothesis_verdict(spec(), readings([10, 10, 10], [10, 10, 10]), as_of=CLOSED)
    assert result.evidence.p_value is None


def test_override_stands_beside_the_computed_verdict() -> None:
    result = hypothesis_verdict(
        spec(override="supported", override_reason="the survey says so"),
        readings([10, 10], [9, 9]),
        as_of=CLOSED,
    )
    assert (result.verdict, result.override) == ("refuted", "supported")
    assert result.override_reason == "the survey says so"
    assert result.shown_verdict == "supported"


@pytest.mark.parametrize(
    ("min_effect", "unit", "before_mean", "threshold"),
    [
        (0.2, "absolute", 2.1, 0.2),
        (20, "percent", 2.0, 0.4),
        (20, "percent", -2.0, 0.4),
        (20, "percent", None, None),
        (0, "percent", 5.0, 0.0),
    ],
)
def test_minimum_effect_in_units_or_percent_of_the_before_mean(
    min_effect: float, unit: str, before_mean: float | None, threshold: float | None
) -> None:
    value = min_effect_threshold(min_effect, unit, before_mean)
    assert value == (pytest.approx(threshold) if threshold is not None else None)


@pytest.mark.parametrize(
    ("before", "after", "as_of", "words"),
    [
        ([10, 10], [12, 12], CLOSED, "after v2.3 the mean went from 10.0 to 12.0, +2.0"),
        ([10, 10], [12], OPEN, "window open until 17 Nov"),
        ([10], [12, 12], CLOSED, "window closed on 17 Nov with 1 reading before and 2 after"),
    ],
)
def test_verdict_reason_in_plain_words(
    before: list[float], after: list[float], as_of: D, words: str
) -> None:
    assert words in hypothesis_verdict(spec(), readings(before, after), as_of=as_of).reason


SAMPLE = st.lists(
    st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False),
    min_size=3,
    max_size=12,
)


@settings(deadline=None)
@given(before=SAMPLE, after=SAMPLE)
def test_welch_p_value_equals_scipys_ttest_ind(before: list[float], after: list[float]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = float(stats.ttest_ind(after, before, equal_var=False).pvalue)
    assume(math.isfinite(expected))
    # scipy's own variance differs in the last bits on near-constant samples
    assume(statistics.pvariance(before) + statistics.pvariance(after) > 1e-6)
    assert welch_p_value(before, after) == pytest.approx(expected, rel=1e-7, abs=1e-12)
