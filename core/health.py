"""Health of targets and outcomes as of a date, each with a one-sentence reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from core.explain import plural
from core.format import format_percent, format_value, short_day_text
from core.model import (
    HEALTH_ORDER,
    HEALTH_WORDS,
    UNMEASURABLE,
    MetricInfo,
    ReadingPoint,
    TargetSpec,
    TargetStatus,
)
from core.progress import (
    check_target_values,
    clamp01,
    current_reading,
    expected_progress,
    forecast_progress,
    progress,
)

ON_TRACK_SLACK = 0.15
AT_RISK_SLACK = 0.33
AT_RISK_FORECAST = 0.7
# Boundaries are inclusive: 0.30 of the way at 0.45 expected is on track, although
# 0.45 - 0.15 is 0.30000000000000004 in floating point.
EPSILON = 1e-9


def _pace_reason(
    health: str,
    progress_raw: float,
    expected: float | None,
    forecast: float | None,
    ref: dt.date,
    target_date: dt.date,
) -> str:
    """Why a pace-based health (on_track, at_risk, off_track) was given, naming the rule
    that decided it: a badge "On track" beside "forecast reaches 73%" read as a
    contradiction until the reason said the pace, not the forecast, made it on track."""
    pace = f"{format_percent(progress_raw)} of the way"
    outlook = (
        f"forecast reaches {format_percent(forecast)} by {short_day_text(target_date, ref)}"
        if forecast is not None
        else ""
    )
    if expected is None:  # no baseline date: no straight path to compare with
        return "; ".join(part for part in (pace, outlook) if part)
    pace += f" at {format_percent(expected)} of the time"
    short = expected - progress_raw
    by_pace = {
        "on_track": progress_raw >= expected - ON_TRACK_SLACK - EPSILON,
        "at_risk": progress_raw >= expected - AT_RISK_SLACK - EPSILON,
    }.get(health, True)
    if not by_pace:  # only the forecast lifted it (rules 5 and 6 take either)
        return f"{outlook}, though only {pace}"
    if health == "on_track":
        where = (
            "on pace: "
            if short <= EPSILON
            else f"on pace: within {_points(ON_TRACK_SLACK)} of the straight path, "
        )
    elif health == "at_risk":
        where = f"behind: {_points(short)} short of the straight path, "
    else:
        where = f"far behind: {_points(short)} short of the straight path, "
    return where + pace + (f"; {outlook}" if outlook else "")


def _points(share: float) -> str:
    """0.15 -> "15 points" (percentage points of progress)."""
    return f"{round(share * 100):.0f} points"


def target_health(
    *,
    kind: str,
    as_of: dt.date,
    target_date: dt.date,
    latest_date: dt.date | None,
    update_interval_days: int,
    progress_raw: float | None,
    expected: float | None = None,
    forecast: float | None = None,
    baseline_date: dt.date | None = None,
    band_text: str = "",
) -> tuple[str, str]:
    """(health, reason) of one target, first rule that matches:

    1. no reading since baseline: no_data; 2. progress >= 1: achieved; 3. as_of after the
    target date: missed; 4. latest reading older than the update interval: stale;
    5. progress >= expected - 0.15 or forecast >= 1: on_track; 6. progress >= expected -
    0.33 or forecast >= 0.7: at_risk; 7. off_track.
    `maintain` (progress 1.0 inside the band, 0.0 outside): rules 1 and 4 first, then
    on_track inside the band (achieved after the target date), off_track outside (missed
    after it). `latest_date` is the date of the current reading (None: no data).

    Staleness follows the spec's order: a reached target (rule 2) and a passed target
    date (rule 3) are results that stand over an old reading; every pace-based word
    (on_track, at_risk, off_track) gives way to `stale`."""
    if latest_date is None:
        if baseline_date is not None and as_of < baseline_date:
            return (
                "no_data",
                f"the baseline date {short_day_text(baseline_date, as_of)} is still ahead",
            )
        since = (
            f" since the baseline on {short_day_text(baseline_date, as_of)}"
            if baseline_date
            else ""
        )
        return "no_data", f"no reading{since} yet"
    if progress_raw is None:
        # A reading exists but the baseline or target is unknown: nothing to measure.
        return "no_data", "baseline or target unknown: progress cannot be measured yet"

    age = (as_of - latest_date).days
    stale_reason = (
        f"last reading on {short_day_text(latest_date, as_of)} is {plural(age, 'day')} old, "
        f"more than the {update_interval_days}-day update interval"
    )
    after_target = as_of > target_date

    if kind == "maintain":
        if age > update_interval_days:
            return "stale", stale_reason
        inside = progress_raw >= 1.0
        where = f"inside the band {band_text}" if inside else f"outside the band {band_text}"
        if after_target:
            if inside:
                return (
                    "achieved",
                    f"{where} after the target date {short_day_text(target_date, as_of)}",
                )
            return "missed", f"{where} after the target date {short_day_text(target_date, as_of)}"
        return ("on_track" if inside else "off_track"), where

    if progress_raw >= 1.0 - EPSILON:
        reached = f"target reached, {format_percent(progress_raw)} of the way"
        if age > update_interval_days:
            # The spec ranks a reached target above staleness; the reason still says so.
            reached += f" (last reading {plural(age, 'day')} old)"
        return "achieved", reached
    if after_target:
        return "missed", (
            f"{format_percent(progress_raw)} of the way when the target date "
            f"{short_day_text(target_date, as_of)} passed"
        )
    if age > update_interval_days:
        return "stale", stale_reason
    expected_value = expected if expected is not None else 0.0
    if progress_raw >= expected_value - ON_TRACK_SLACK - EPSILON or (
        forecast is not None and forecast >= 1 - EPSILON
    ):
        health = "on_track"
    elif progress_raw >= expected_value - AT_RISK_SLACK - EPSILON or (
        forecast is not None and forecast >= AT_RISK_FORECAST - EPSILON
    ):
        health = "at_risk"
    else:
        health = "off_track"
    return health, _pace_reason(health, progress_raw, expected, forecast, as_of, target_date)


def evaluate_target(
    spec: TargetSpec,
    metric: MetricInfo,
    readings: Sequence[ReadingPoint],
    *,
    as_of: dt.date,
    pi_end: dt.date,
) -> TargetStatus:
    """Every number of one target as of a date. `readings` are the metric's readings (any
    range; the rules pick those they need). The target date defaults to the PI end."""
    check_target_values(spec.kind, spec.baseline, spec.target)
    target_date = spec.target_date or pi_end
    reading = current_reading(readings, baseline_date=spec.baseline_date, as_of=as_of)
    current = reading.value if reading else None
    complete = spec.kind == "maintain" or spec.baseline_date is not None
    raw = (
        progress(
            kind=spec.kind,
            baseline=spec.baseline,
            target=spec.target,
            current=current,
            band_low=spec.band_low,
            band_high=spec.band_high,
        )
        if complete
        else None
    )
    expected = None
    forecast = None
    if spec.kind != "maintain":
        expected = expected_progress(
            baseline_date=spec.baseline_date, target_date=target_date, as_of=as_of
        )
        forecast = forecast_progress(
            readings,
            kind=spec.kind,
            baseline=spec.baseline,
            target=spec.target,
            baseline_date=spec.baseline_date,
            target_date=target_date,
            as_of=as_of,
        )
    band_text = ""
    if spec.band_low is not None and spec.band_high is not None:
        band_text = (
            f"{format_value(spec.band_low, decimals=metric.decimals)}–"
            f"{format_value(spec.band_high, metric.unit, metric.decimals)}"
        )
        if current is not None:
            band_text = f"{band_text} at {format_value(current, metric.unit, metric.decimals)}"
    health, reason = target_health(
        kind=spec.kind,
        as_of=as_of,
        target_date=target_date,
        latest_date=reading.date if reading else None,
        update_interval_days=metric.update_interval_days,
        progress_raw=raw,
        expected=expected,
        forecast=forecast,
        baseline_date=spec.baseline_date,
        band_text=band_text,
    )
    return TargetStatus(
        target_id=spec.id,
        outcome_id=spec.outcome_id,
        metric_id=spec.metric_id,
        metric=metric.name,
        kind=spec.kind,
        baseline=spec.baseline,
        target=spec.target,
        band_low=spec.band_low,
        band_high=spec.band_high,
        target_date=target_date,
        current=current,
        current_date=reading.date if reading else None,
        progress_raw=raw,
        progress=clamp01(raw),
        expected=expected,
        forecast=forecast,
        health=health,
        reason=reason,
    )


def health_rank(health: str) -> int:
    """0 is worst (missed); `unmeasurable` ranks after all target healths."""
    return HEALTH_ORDER.index(health) if health in HEALTH_ORDER else len(HEALTH_ORDER)


def outcome_health(targets: Sequence[TargetStatus]) -> tuple[str, str]:
    """An outcome's health is its worst target's (missed, off_track, at_risk, stale,
    no_data, on_track, achieved); `unmeasurable` without targets. Ties go to the first
    target in the outcome's order."""
    if not targets:
        return UNMEASURABLE, "no targets: nothing says what better means"
    worst = min(targets, key=lambda t: health_rank(t.health))
    word = HEALTH_WORDS[worst.health]
    if len(targets) == 1:
        return worst.health, f"{worst.metric} is {word}: {worst.reason}"
    return (
        worst.health,
        f"worst of {len(targets)} targets, {worst.metric} is {word}: {worst.reason}",
    )


def outcome_progress(targets: Sequence[TargetStatus]) -> float | None:
    """Mean of the clamped progress of the targets that have a current value (and so a
    progress); None when none has."""
    values = [t.progress for t in targets if t.current is not None and t.progress is not None]
    if not values:
        return None
    return sum(values) / len(values)
