"""Hypothesis verdicts: did the metric move more than it was already moving when the
release shipped? (PRODUCT.md's "Hypothesis verdict" rule, trend-adjusted.)"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import special

from core.explain import plural
from core.format import format_signed, format_value, short_day_text
from core.model import HypothesisEvidence, HypothesisSpec, HypothesisVerdict, ReadingPoint

MIN_READINGS_PER_SIDE = 2
MIN_READINGS_FOR_P_VALUE = 3
MIN_BEFORE_FOR_TREND = 3  # a line through 2 points has no residuals to judge noise by
MIN_AFTER_FOR_TREND = 2
ZERO_SE = 1e-12  # below this the data has no noise: the interval collapses, p is undefined
FLOAT_NOISE = 1e-12  # relative: an effect this small next to the values is rounding
CONFIDENCE = 0.975  # two-sided 95% interval


def min_effect_threshold(min_effect: float, unit: str, before_mean: float | None) -> float | None:
    """The minimum effect in metric units: as given for `absolute`; for `percent`, that
    percent of |mean(before)| (None while there is no before-mean)."""
    if unit == "percent":
        if before_mean is None:
            return None
        return abs(before_mean) * min_effect / 100.0
    return min_effect


def welch_p_value(before: Sequence[float], after: Sequence[float]) -> float | None:
    """Two-sided Welch t-test p-value of after vs before, only when each side has 3+
    readings; None when it is undefined (both sides constant and equal).

    The same number as `scipy.stats.ttest_ind(after, before, equal_var=False).pvalue`
    (a test holds them equal), computed directly with scipy's Student t distribution:
    `ttest_ind`'s array machinery costs about a millisecond a call, which a PI report
    with a hundred hypotheses should not pay."""
    n_after, n_before = len(after), len(before)
    if n_before < MIN_READINGS_FOR_P_VALUE or n_after < MIN_READINGS_FOR_P_VALUE:
        return None
    mean_after, mean_before = sum(after) / n_after, sum(before) / n_before
    var_after = sum((x - mean_after) ** 2 for x in after) / (n_after - 1)
    var_before = sum((x - mean_before) ** 2 for x in before) / (n_before - 1)
    share_after, share_before = var_after / n_after, var_before / n_before
    spread = share_after + share_before
    difference = mean_after - mean_before
    if spread == 0:
        # Both sides constant: certain when they differ, undefined when they are equal.
        return 0.0 if difference != 0 else None
    t = difference / math.sqrt(spread)
    freedom = spread**2 / (share_after**2 / (n_after - 1) + share_before**2 / (n_before - 1))
    p_value = float(2 * special.stdtr(freedom, -abs(t)))
    return p_value if math.isfinite(p_value) else None


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass(frozen=True, kw_only=True)
class TrendEffect:
    """The trend method's numbers. `raw_effect` is mean(after - projection) before the
    direction's sign is applied; `interval` and `p_value` are for the signed effect."""

    intercept: float
    slope: float
    raw_effect: float
    se: float
    df: int
    interval: tuple[float, float]
    p_value: float | None


def trend_effect(
    before: Sequence[tuple[float, float]], after: Sequence[tuple[float, float]], *, sign: int = 1
) -> TrendEffect:
    """Fit a + b t to the `before` (t, value) points, project it to each `after` point and
    measure how far above the line they landed. Needs 3+ before (with distinct t) and 2+
    after.

    se = s x sqrt(1/n_after + 1/n_before + (mean t_after - mean t_before)^2 / Sxx_before)
    with the pooled s^2 = (before residuals^2 + (d_i - mean d)^2) / (n_before + n_after - 3):
    the error of a mean of new observations around a fitted line's prediction, with the
    after side's own scatter added to the noise estimate. se below 1e-12 (noise-free data)
    gives the interval [effect, effect] and no p-value."""
    n_before, n_after = len(before), len(after)
    t_before_mean = sum(t for t, _ in before) / n_before
    v_before_mean = sum(v for _, v in before) / n_before
    sxx = sum((t - t_before_mean) ** 2 for t, _ in before)
    sxy = sum((t - t_before_mean) * (v - v_before_mean) for t, v in before)
    slope = sxy / sxx
    intercept = v_before_mean - slope * t_before_mean
    # Distances from the line written around the before-means, not via the intercept:
    # fewer cancelling terms, so a series that continues its line exactly lands on 0.
    residuals = [(v - v_before_mean) - slope * (t - t_before_mean) for t, v in before]
    differences = [(v - v_before_mean) - slope * (t - t_before_mean) for t, v in after]
    raw_effect = sum(differences) / n_after
    scale = max(abs(v) for _, v in (*before, *after))
    if abs(raw_effect) <= FLOAT_NOISE * max(1.0, scale):
        # Rounding left over from a release that changed nothing: call it 0, so it is
        # refuted, not "inconclusive" by a hair's breadth above zero.
        raw_effect = 0.0
    df = n_before + n_after - 3
    pooled = (sum(r * r for r in residuals) + sum((d - raw_effect) ** 2 for d in differences)) / df
    t_after_mean = sum(t for t, _ in after) / n_after
    se = math.sqrt(pooled) * math.sqrt(
        1 / n_after + 1 / n_before + (t_after_mean - t_before_mean) ** 2 / sxx
    )
    effect = sign * raw_effect
    if se < ZERO_SE:
        return TrendEffect(
            intercept=intercept,
            slope=slope,
            raw_effect=raw_effect,
            se=se,
            df=df,
            interval=(effect, effect),
            p_value=None,
        )
    quantile = float(special.stdtrit(df, CONFIDENCE))
    p_value = float(2 * special.stdtr(df, -abs(effect / se)))
    return TrendEffect(
        intercept=intercept,
        slope=slope,
        raw_effect=raw_effect,
        se=se,
        df=df,
        interval=(effect - quantile * se, effect + quantile * se),
        p_value=p_value if math.isfinite(p_value) else None,
    )


def hypothesis_verdict(
    spec: HypothesisSpec,
    readings: Sequence[ReadingPoint],
    *,
    as_of: dt.date,
    decimals: int = 1,
    unit: str = "",
) -> HypothesisVerdict:
    """The computed verdict as of `as_of`, with release date R, window W and minimum
    effect E (PRODUCT.md's rule):

    - untested: no release linked, or R after as_of;
    - before = readings in [R - W, R), after = readings in (R, min(R + W, as_of)];
      mean_difference = sign x (mean(after) - mean(before));
    - trend method (3+ before, 2+ after): effect = sign x mean of each after reading's
      distance above the before readings' least-squares line, with a 95% t interval and
      a two-sided p; means method otherwise: effect = mean_difference, Welch p when each
      side has 3+;
    - supported: 2+ readings each side and effect >= E (and > 0: a zero effect supports
      nothing, even with E = 0);
    - measuring: the window is still open (as_of < R + W) and not yet supported;
    - window closed: inconclusive with fewer than 2 readings on a side, else refuted if
      effect <= 0, inconclusive if 0 < effect < E.

    The override, if any, is carried beside the computed verdict, never instead of it."""

    def result(verdict: str, reason: str, evidence: HypothesisEvidence) -> HypothesisVerdict:
        return HypothesisVerdict(
            hypothesis_id=spec.id,
            outcome_id=spec.outcome_id,
            metric_id=spec.metric_id,
            verdict=verdict,
            reason=reason,
            evidence=evidence,
            override=spec.override,
            override_reason=spec.override_reason,
        )

    release = spec.release_date
    if release is None:
        return result("untested", "no release linked yet", _no_evidence(spec))
    window_end = release + dt.timedelta(days=spec.window_days)
    if release > as_of:
        name = spec.release_name or "the release"
        return result(
            "untested",
            f"{name} ships on {short_day_text(release, as_of)}, after {short_day_text(as_of)}",
            _no_evidence(spec, window_end),
        )

    window_start = release - dt.timedelta(days=spec.window_days)
    after_end = min(window_end, as_of)
    before_points = [
        (float((r.date - release).days), r.value)
        for r in readings
        if window_start <= r.date < release
    ]
    after_points = [
        (float((r.date - release).days), r.value) for r in readings if release < r.date <= after_end
    ]
    before = [v for _, v in before_points]
    after = [v for _, v in after_points]
    sign = -1 if spec.direction == "decrease" else 1
    before_mean, after_mean = _mean(before), _mean(after)
    mean_difference = None
    if before_mean is not None and after_mean is not None:
        mean_difference = sign * (after_mean - before_mean)
    trend = None
    if len(before_points) >= MIN_BEFORE_FOR_TREND and len(after_points) >= MIN_AFTER_FOR_TREND:
        trend = trend_effect(before_points, after_points, sign=sign)
    threshold = min_effect_threshold(spec.min_effect, spec.min_effect_unit, before_mean)
    common = {
        "release_name": spec.release_name,
        "release_date": release,
        "window_end": window_end,
        "before_mean": before_mean,
        "before_count": len(before),
        "after_mean": after_mean,
        "after_count": len(after),
        "min_effect": threshold,
        "mean_difference": mean_difference,
    }
    if trend is not None:
        evidence = HypothesisEvidence(
            **common,
            method="trend",
            effect=sign * trend.raw_effect,
            interval=trend.interval,
            p_value=trend.p_value,
            trend_intercept=trend.intercept,
            trend_slope=trend.slope,
        )
    else:
        evidence = HypothesisEvidence(
            **common, method="means", effect=mean_difference, p_value=welch_p_value(before, after)
        )
    effect = evidence.effect

    enough = len(before) >= MIN_READINGS_PER_SIDE and len(after) >= MIN_READINGS_PER_SIDE
    counts = f"{plural(len(before), 'reading')} before and {len(after)} after"
    name = spec.release_name or "the release"
    if enough and effect is not None and threshold is not None:
        moved = evidence_sentence(
            evidence, direction=spec.direction, decimals=decimals, unit=unit, as_of=as_of
        )
        if effect > 0 and effect >= threshold:
            return result("supported", moved, evidence)
        if as_of < window_end:
            return result(
                "measuring",
                f"window open until {short_day_text(window_end, as_of)}; {moved}",
                evidence,
            )
        if effect <= 0:
            return result("refuted", moved, evidence)
        return result("inconclusive", f"effect below the minimum: {moved}", evidence)
    if as_of < window_end:
        return result(
            "measuring",
            f"window open until {short_day_text(window_end, as_of)}: {counts} {name} so far",
            evidence,
        )
    return result(
        "inconclusive",
        f"window closed on {short_day_text(window_end, as_of)} with {counts} {name}; "
        f"{MIN_READINGS_PER_SIDE} on each side are needed",
        evidence,
    )


def evidence_sentence(
    evidence: HypothesisEvidence,
    *,
    direction: str = "increase",
    decimals: int = 1,
    unit: str = "",
    as_of: dt.date | None = None,
) -> str:
    """The evidence in words a team can read: method, effect with its interval, p, both
    means and counts, and the minimum effect. For the trend method: "3.6 points above
    where the pre-release trend was heading, 95% interval -5.9 to 13.1, p = 0.41;
    before/after means 31 and 33 (4 and 3 readings; minimum +2.0)"."""
    effect = evidence.effect
    if effect is None:
        return f"{plural(evidence.before_count, 'reading')} before and {evidence.after_count} after"

    def plain(value: float) -> str:
        return format_value(value, unit, decimals)

    means = (
        f"before/after means {plain(evidence.before_mean or 0.0)} and "
        f"{plain(evidence.after_mean or 0.0)} "
        f"({evidence.before_count} and {evidence.after_count} readings"
    )
    if evidence.min_effect is not None:
        means += f"; minimum {format_signed(evidence.min_effect, unit, decimals)}"
    means += ")"
    p_text = "" if evidence.p_value is None else f", p = {evidence.p_value:.2g}"
    if evidence.method == "trend":
        raw = effect if direction != "decrease" else -effect
        side = "above" if raw >= 0 else "below"
        text = f"{plain(abs(raw))} {side} where the pre-release trend was heading"
        if direction == "decrease":
            text += f" (effect {format_signed(effect, unit, decimals)} in the expected direction)"
        if evidence.interval is not None:
            low, high = evidence.interval
            text += f", 95% interval {format_value(low, decimals=decimals)} to {format_value(high, decimals=decimals)}"
        return f"{text}{p_text}; {means}"
    name = evidence.release_name or "the release"
    return (
        f"after {name} the mean moved {format_signed(effect, unit, decimals)} in the expected "
        f"direction (before/after means: a trend needs {MIN_BEFORE_FOR_TREND} readings "
        f"before and {MIN_AFTER_FOR_TREND} after){p_text}; {means}"
    )


def _no_evidence(spec: HypothesisSpec, window_end: dt.date | None = None) -> HypothesisEvidence:
    return HypothesisEvidence(
        release_name=spec.release_name,
        release_date=spec.release_date,
        window_end=window_end,
        before_mean=None,
        before_count=0,
        after_mean=None,
        after_count=0,
        effect=None,
        min_effect=spec.min_effect if spec.min_effect_unit == "absolute" else None,
        p_value=None,
    )
