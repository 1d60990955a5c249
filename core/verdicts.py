"""Hypothesis verdicts: did the metric move the expected way after the release shipped?"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from scipy import special

from core.explain import fmt_date, fmt_signed, fmt_value, plural
from core.model import HypothesisEvidence, HypothesisSpec, HypothesisVerdict, ReadingPoint

MIN_READINGS_PER_SIDE = 2
MIN_READINGS_FOR_P_VALUE = 3


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


def hypothesis_verdict(
    spec: HypothesisSpec,
    readings: Sequence[ReadingPoint],
    *,
    as_of: dt.date,
    decimals: int = 1,
    unit: str = "",
) -> HypothesisVerdict:
    """The computed verdict as of `as_of`, with release date R, window W and minimum
    effect E:

    - untested: no release linked, or R after as_of;
    - before = readings in [R - W, R), after = readings in (R, min(R + W, as_of)];
      effect = mean(after) - mean(before), signed so positive is the expected direction;
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
            f"{name} ships on {fmt_date(release, as_of)}, after {fmt_date(as_of)}",
            _no_evidence(spec, window_end),
        )

    window_start = release - dt.timedelta(days=spec.window_days)
    after_end = min(window_end, as_of)
    before = [r.value for r in readings if window_start <= r.date < release]
    after = [r.value for r in readings if release < r.date <= after_end]
    before_mean, after_mean = _mean(before), _mean(after)
    effect = None
    if before_mean is not None and after_mean is not None:
        effect = after_mean - before_mean
        if spec.direction == "decrease":
            effect = -effect
    threshold = min_effect_threshold(spec.min_effect, spec.min_effect_unit, before_mean)
    evidence = HypothesisEvidence(
        release_name=spec.release_name,
        release_date=release,
        window_end=window_end,
        before_mean=before_mean,
        before_count=len(before),
        after_mean=after_mean,
        after_count=len(after),
        effect=effect,
        min_effect=threshold,
        p_value=welch_p_value(before, after),
    )

    enough = len(before) >= MIN_READINGS_PER_SIDE and len(after) >= MIN_READINGS_PER_SIDE
    counts = f"{plural(len(before), 'reading')} before and {len(after)} after"
    name = spec.release_name or "the release"
    if enough and effect is not None and threshold is not None:
        moved = (
            f"after {name} the mean went from {fmt_value(before_mean or 0.0, decimals, unit)} "
            f"to {fmt_value(after_mean or 0.0, decimals, unit)}, "
            f"{fmt_signed(effect, decimals, unit)} in the expected direction "
            f"(minimum {fmt_signed(threshold, decimals, unit)}); {counts}"
        )
        if evidence.p_value is not None:
            moved += f", p = {evidence.p_value:.3g}"
        if effect > 0 and effect >= threshold:
            return result("supported", moved, evidence)
        if as_of < window_end:
            return result(
                "measuring", f"window open until {fmt_date(window_end, as_of)}; {moved}", evidence
            )
        if effect <= 0:
            return result("refuted", moved, evidence)
        return result("inconclusive", f"effect below the minimum: {moved}", evidence)
    if as_of < window_end:
        return result(
            "measuring",
            f"window open until {fmt_date(window_end, as_of)}: {counts} {name} so far",
            evidence,
        )
    return result(
        "inconclusive",
        f"window closed on {fmt_date(window_end, as_of)} with {counts} {name}; "
        f"{MIN_READINGS_PER_SIDE} on each side are needed",
        evidence,
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
