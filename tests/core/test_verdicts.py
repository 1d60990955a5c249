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
    ("before", "after", "method", "has_p_value"),
    [
        ([10, 11, 10.5], [12, 13, 12.5], "trend", True),
        ([10, 11, 10.5], [12, 13], "trend", True),
        ([10, 11], [12, 13, 12.5], "means", False),
        ([10, 11, 10.5], [12], "means", False),
        ([10, 11], [12, 13], "means", False),
    ],
)
def test_method_and_p_value_follow_the_reading_counts(
    before: list[float], after: list[float], method: str, has_p_value: bool
) -> None:
    """3+ before and 2+ after: the trend method with its t-based p. Otherwise the means
    method, whose Welch p needs 3+ on each side, which the trend method has then taken."""
    evidence = hypothesis_verdict(spec(), readings(before, after), as_of=CLOSED).evidence
    assert evidence.method == method
    assert (evidence.p_value is not None) == has_p_value
    assert (evidence.interval is not None) == (method == "trend")


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
        ([10, 10], [12, 12], CLOSED, "after v2.3 the mean moved +2.0 in the expected direction"),
        ([10, 10], [12, 12], CLOSED, "before/after means 10.0 and 12.0 (2 and 2 readings"),
        (
            [10, 10, 10],
            [12, 12],
            CLOSED,
            "2.0 above where the pre-release trend was heading, 95% interval 2.0 to 2.0",
        ),
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


# ---------------------------------------------------------------- the trend method


def at_days(before: dict[int, float], after: dict[int, float]) -> list[ReadingPoint]:
    """Readings at whole days from the release (negative before it)."""
    return [ReadingPoint(RELEASE + dt.timedelta(days=t), v) for t, v in (before | after).items()]


WEEKLY_BEFORE = (-21, -14, -7)
WEEKLY_AFTER = (7, 14, 21)


def weekly(before: list[float], after: list[float]) -> list[ReadingPoint]:
    return at_days(
        dict(zip(WEEKLY_BEFORE[-len(before) :], before, strict=True)),
        dict(zip(WEEKLY_AFTER, after, strict=False)),
    )


@pytest.mark.parametrize(
    (
        "case",
        "hypothesis",
        "before",
        "after",
        "verdict",
        "method",
        "effect",
        "mean_difference",
        "interval",
    ),
    [
        (
            # 1 point a week before, the same pace after: the means rise by 3.9 (supported
            # by the old rule), but the release added nothing to the trend.
            "a rising metric whose release did nothing",
            spec(),
            [10, 11, 12],
            [13.9, 15.1, 15.8],
            "refuted",
            "trend",
            -1 / 15,
            59 / 15,  # means 11 and 14.93
            "finite",
        ),
        (
            # Load time was climbing 1 s a week; after the release it fell a little:
            # half a second below the before-mean, 4.5 s below where it was heading.
            "a drop against a rising trend",
            spec(direction="decrease"),
            [10, 11, 12],
            [10.6, 10.4, 10.5],
            "supported",
            "trend",
            4.5,
            0.5,
            "finite",
        ),
        (
            "2 readings before: the means method",
            spec(),
            [10, 12],
            [14, 15],
            "supported",
            "means",
            3.5,
            3.5,
            None,
        ),
        (
            "1 reading after: the means method",
            spec(),
            [10, 11, 12],
            [14],
            "inconclusive",
            "means",
            3.0,
            3.0,
            None,
        ),
        (
            "se = 0: the interval collapses onto the effect",
            spec(),
            [10, 10, 10],
            [12, 12],
            "supported",
            "trend",
            2.0,
            2.0,
            (2.0, 2.0),
        ),
        (
            # 10, 10.5, 10 at -21, -14, -7 fit a line of slope 0 through their mean.
            "a level trend: the trend effect is the mean difference",
            spec(min_effect=0.8),
            [10, 10.5, 10],
            [10.4, 10.9, 10.7],
            "inconclusive",
            "trend",
            0.5,
            0.5,
            "finite",
        ),
    ],
)
def test_trend_adjusted_verdict(
    case: str,
    hypothesis: HypothesisSpec,
    before: list[float],
    after: list[float],
    verdict: str,
    method: str,
    effect: float,
    mean_difference: float,
    interval: object,
) -> None:
    result = hypothesis_verdict(hypothesis, weekly(before, after), as_of=CLOSED)

    evidence = result.evidence
    assert (result.verdict, evidence.method) == (verdict, method), case
    assert evidence.mean_difference == pytest.approx(mean_difference), case
    if interval is None:
        assert evidence.interval is None and evidence.p_value is None, case
    elif interval == "finite":
        assert evidence.interval is not None and evidence.p_value is not None, case
        low, high = evidence.interval
        assert low < evidence.effect < high, case
        assert evidence.effect == pytest.approx((low + high) / 2), case
    else:
        assert evidence.interval == pytest.approx(interval), case
        assert evidence.p_value is None, case
    assert evidence.effect == pytest.approx(effect), case


def test_drop_against_a_rising_trend_is_larger_than_the_mean_difference() -> None:
    result = hypothesis_verdict(
        spec(direction="decrease"), weekly([10, 11, 12], [10.6, 10.4, 10.5]), as_of=CLOSED
    )
    evidence = result.evidence
    assert evidence.effect is not None and evidence.mean_difference is not None
    assert evidence.effect > evidence.mean_difference > 0
    assert evidence.trend_slope == pytest.approx(1 / 7)  # the line the chart projects
    assert evidence.trend_intercept == pytest.approx(13.0)


def test_worked_interval_and_p() -> None:
    """By hand: before 10, 11, 12 at t = -21, -14, -7 lie exactly on 13 + t/7 (residuals
    0); after 13.9, 15.1, 15.8 at 7, 14, 21 against 14, 15, 16: d = -0.1, 0.1, -0.2, mean
    -1/15. s^2 = sum (d - mean d)^2 / (3 + 3 - 3), (0.0011 + 0.0277 + 0.0177) / 3 ...
    computed exactly below; se = s sqrt(1/3 + 1/3 + 28^2 / 98); df = 3."""
    d = [-0.1, 0.1, -0.2]
    mean_d = sum(d) / 3
    s2 = sum((x - mean_d) ** 2 for x in d) / 3
    se = math.sqrt(s2) * math.sqrt(1 / 3 + 1 / 3 + 28**2 / 98)
    quantile = stats.t.ppf(0.975, 3)

    evidence = hypothesis_verdict(
        spec(), weekly([10, 11, 12], [13.9, 15.1, 15.8]), as_of=CLOSED
    ).evidence

    assert evidence.effect == pytest.approx(mean_d)
    assert evidence.interval == pytest.approx((mean_d - quantile * se, mean_d + quantile * se))
    assert evidence.p_value == pytest.approx(2 * stats.t.sf(abs(mean_d / se), 3))


# Property tests: readings on distinct days inside the window, values on a human scale.
VALUE = st.floats(min_value=-1000, max_value=1000, allow_nan=False, allow_infinity=False)
BEFORE_T = st.lists(st.integers(-28, -1), min_size=3, max_size=10, unique=True)
AFTER_T = st.lists(st.integers(1, 28), min_size=2, max_size=10, unique=True)


@st.composite
def trend_samples(draw: st.DrawFn) -> tuple[dict[int, float], dict[int, float]]:
    before_t, after_t = draw(BEFORE_T), draw(AFTER_T)
    before = {t: draw(VALUE) for t in before_t}
    after = {t: draw(VALUE) for t in after_t}
    return before, after


def independent_trend(
    before: dict[int, float], after: dict[int, float], sign: int
) -> tuple[float, float, float, float]:
    """The same model written another way: numpy's least squares for the line, the
    prediction error of the mean of new points from the coefficient covariance
    sigma^2 (X'X)^-1 (no Sxx shortcut), scipy.stats' t distribution. Returns effect,
    low, high, p."""
    import numpy as np

    t_before = np.array(list(before), dtype=float)
    v_before = np.array(list(before.values()))
    t_after = np.array(list(after), dtype=float)
    v_after = np.array(list(after.values()))
    design = np.column_stack([np.ones_like(t_before), t_before])
    coefficients, *_ = np.linalg.lstsq(design, v_before, rcond=None)
    residuals = v_before - design @ coefficients
    d = v_after - (coefficients[0] + coefficients[1] * t_after)
    df = len(before) + len(after) - 3
    variance = (residuals @ residuals + ((d - d.mean()) ** 2).sum()) / df
    centre = np.array([1.0, t_after.mean()])
    se = math.sqrt(variance * (1 / len(after) + centre @ np.linalg.inv(design.T @ design) @ centre))
    effect = sign * d.mean()
    quantile = stats.t.ppf(0.975, df)
    p = 2 * stats.t.sf(abs(effect) / se, df) if se > 0 else math.nan
    return effect, effect - quantile * se, effect + quantile * se, p


@settings(deadline=None, max_examples=200)
@given(sample=trend_samples(), direction=st.sampled_from(["increase", "decrease"]))
def test_trend_interval_and_p_match_an_independent_computation(
    sample: tuple[dict[int, float], dict[int, float]], direction: str
) -> None:
    before, after = sample
    sign = -1 if direction == "decrease" else 1
    effect, low, high, p = independent_trend(before, after, sign)
    assume(high - low > 1e-3)  # away from the noise-free case and its rounding

    evidence = hypothesis_verdict(
        spec(direction=direction), at_days(before, after), as_of=CLOSED
    ).evidence

    assert evidence.method == "trend"
    assert evidence.effect == pytest.approx(effect, rel=1e-6, abs=1e-6)
    assert evidence.interval == pytest.approx((low, high), rel=1e-6, abs=1e-6)
    assert evidence.p_value == pytest.approx(p, rel=1e-5, abs=1e-9)


@settings(deadline=None)
@given(
    level=VALUE,
    before_t=BEFORE_T,
    after=st.lists(VALUE, min_size=2, max_size=10),
    direction=st.sampled_from(["increase", "decrease"]),
)
def test_flat_before_trend_has_the_means_sign(
    level: float, before_t: list[int], after: list[float], direction: str
) -> None:
    before = dict.fromkeys(before_t, level)
    after_days = dict(zip(range(1, len(after) + 1), after, strict=True))

    evidence = hypothesis_verdict(
        spec(direction=direction), at_days(before, after_days), as_of=CLOSED
    ).evidence

    assert evidence.method == "trend"
    assert evidence.effect is not None and evidence.mean_difference is not None
    assert evidence.effect == pytest.approx(evidence.mean_difference, abs=1e-9)
    if abs(evidence.mean_difference) > 1e-9:
        assert math.copysign(1, evidence.effect) == math.copysign(1, evidence.mean_difference)


@settings(deadline=None)
@given(
    sample=trend_samples(),
    shift=st.floats(min_value=-1000, max_value=1000, allow_nan=False),
    min_effect=st.floats(min_value=0, max_value=50),
    as_of=st.sampled_from([OPEN, CLOSED]),
)
def test_adding_a_constant_to_every_value_changes_nothing(
    sample: tuple[dict[int, float], dict[int, float]],
    shift: float,
    min_effect: float,
    as_of: dt.date,
) -> None:
    before, after = sample
    moved = ({t: v + shift for t, v in before.items()}, {t: v + shift for t, v in after.items()})
    hypothesis = spec(min_effect=min_effect)

    plain = hypothesis_verdict(hypothesis, at_days(*sample), as_of=as_of)
    shifted = hypothesis_verdict(hypothesis, at_days(*moved), as_of=as_of)

    a, b = plain.evidence, shifted.evidence
    assert a.method == b.method
    if a.effect is None:  # no reading after the release yet (the window is open)
        assert b.effect is None and plain.verdict == shifted.verdict
        return
    assert b.effect is not None
    # Same verdict unless the effect sits within rounding of the minimum or of zero.
    if abs(a.effect - min_effect) > 1e-6 and abs(a.effect) > 1e-6:
        assert plain.verdict == shifted.verdict
    assert b.effect == pytest.approx(a.effect, abs=1e-7)
    assert b.mean_difference == pytest.approx(a.mean_difference, abs=1e-7)
    if a.interval is not None and a.interval[1] - a.interval[0] > 1e-3:
        assert b.interval == pytest.approx(a.interval, abs=1e-6)
        assert b.p_value == pytest.approx(a.p_value, abs=1e-6)


@settings(deadline=None)
@given(
    intercept=VALUE,
    slope=st.floats(min_value=-50, max_value=50, allow_nan=False),
    before_t=BEFORE_T,
    after_t=AFTER_T,
    direction=st.sampled_from(["increase", "decrease"]),
)
def test_a_line_continued_after_the_release_has_no_effect(
    intercept: float, slope: float, before_t: list[int], after_t: list[int], direction: str
) -> None:
    before = {t: intercept + slope * t for t in before_t}
    after = {t: intercept + slope * t for t in after_t}

    result = hypothesis_verdict(spec(direction=direction), at_days(before, after), as_of=CLOSED)

    assert result.evidence.effect == pytest.approx(0.0, abs=1e-9)
    assert result.verdict == "refuted"
