"""Where a target stands: current value, progress, expected progress and forecast."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from core.errors import Problem, ValidationError
from core.model import ReadingPoint

MIN_FORECAST_READINGS = 3


def infer_kind(baseline: float | None, target: float | None) -> str | None:
    """`increase` or `decrease` from baseline vs target; None when either is unknown or
    they are equal (which is invalid for both kinds)."""
    if baseline is None or target is None or baseline == target:
        return None
    return "increase" if target > baseline else "decrease"


def readings_since(
    readings: Sequence[ReadingPoint], *, baseline_date: dt.date | None, as_of: dt.date
) -> list[ReadingPoint]:
    """The readings a target looks at: on or after its baseline date (any, when the
    baseline date is unknown) and on or before the as-of date, sorted by date."""
    return sorted(
        (
            r
            for r in readings
            if r.date <= as_of and (baseline_date is None or r.date >= baseline_date)
        ),
        key=lambda r: r.date,
    )


def current_reading(
    readings: Sequence[ReadingPoint], *, baseline_date: dt.date | None, as_of: dt.date
) -> ReadingPoint | None:
    """The latest reading on or before `as_of` and on or after the baseline date; None
    means no data."""
    window = readings_since(readings, baseline_date=baseline_date, as_of=as_of)
    return window[-1] if window else None


def check_target_values(kind: str, baseline: float | None, target: float | None) -> None:
    """Target equal to baseline is invalid for increase/decrease (no way to measure the
    way from one to the other)."""
    if (
        kind in ("increase", "decrease")
        and baseline is not None
        and target is not None
        and baseline == target
    ):
        raise ValidationError(
            Problem("target", f"target equals baseline ({baseline}): nothing to move")
        )


def progress(
    *,
    kind: str,
    baseline: float | None,
    target: float | None,
    current: float | None,
    band_low: float | None = None,
    band_high: float | None = None,
) -> float | None:
    """Raw progress: `(current - baseline) / (target - baseline)` for increase and
    decrease alike (it can be negative or above 1); for `maintain`, 1.0 inside the band
    (inclusive) and 0.0 outside. None without a current value, or when the baseline or
    target is unknown (the target is then incomplete).

    Raises ValidationError when an increase/decrease target equals its baseline."""
    check_target_values(kind, baseline, target)
    if current is None:
        return None
    if kind == "maintain":
        if band_low is None or band_high is None:
            return None
        return 1.0 if band_low <= current <= band_high else 0.0
    if baseline is None or target is None:
        return None
    return (current - baseline) / (target - baseline)


def clamp01(value: float | None) -> float | None:
    """Bars and averages clamp each target's progress to 0..1."""
    if value is None:
        return None
    return min(1.0, max(0.0, value))


def expected_progress(
    *, baseline_date: dt.date | None, target_date: dt.date | None, as_of: dt.date
) -> float | None:
    """The share of the straight path from baseline date to target date covered by
    `as_of`, clamped to 0..1; None without a baseline date. A target date on or before
    the baseline date expects everything at once (0 before it, 1 from it on)."""
    if baseline_date is None or target_date is None:
        return None
    span = (target_date - baseline_date).days
    if span <= 0:
        return 1.0 if as_of >= target_date else 0.0
    return min(1.0, max(0.0, (as_of - baseline_date).days / span))


def least_squares_at(points: Sequence[tuple[float, float]], x: float) -> float | None:
    """The least-squares line through (x, y) points evaluated at `x`; None with fewer than
    two distinct x values (no line)."""
    n = len(points)
    if n < 2:
        return None
    mean_x = sum(p[0] for p in points) / n
    mean_y = sum(p[1] for p in points) / n
    sxx = sum((p[0] - mean_x) ** 2 for p in points)
    if sxx == 0:
        return None
    sxy = sum((p[0] - mean_x) * (p[1] - mean_y) for p in points)
    slope = sxy / sxx
    return mean_y + slope * (x - mean_x)


def forecast_progress(
    readings: Sequence[ReadingPoint],
    *,
    kind: str,
    baseline: float | None,
    target: float | None,
    baseline_date: dt.date | None,
    target_date: dt.date | None,
    as_of: dt.date,
) -> float | None:
    """The least-squares line (x in days) through the readings from the baseline date up
    to `as_of`, evaluated at the target date and expressed as progress. None for
    `maintain`, with fewer than 3 readings, or when the target is incomplete."""
    if kind == "maintain" or baseline is None or target is None or baseline == target:
        return None
    if baseline_date is None or target_date is None:
        return None
    window = readings_since(readings, baseline_date=baseline_date, as_of=as_of)
    if len(window) < MIN_FORECAST_READINGS:
        return None
    points = [(float((r.date - baseline_date).days), r.value) for r in window]
    value = least_squares_at(points, float((target_date - baseline_date).days))
    if value is None or not math.isfinite(value):
        return None
    return (value - baseline) / (target - baseline)
