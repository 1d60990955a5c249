"""Properties of the rules that must hold for any input (hypothesis)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from core.health import evaluate_target, health_rank
from core.model import MetricInfo, OutcomeSpec, ReadingPoint, TargetSpec
from core.predictability import team_predictability, train_predictability
from core.progress import progress

VALUES = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
START = dt.date(2026, 10, 5)
PI_END = dt.date(2026, 12, 18)


GAPS = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(baseline=VALUES, gap=GAPS, low=VALUES, rise=GAPS)
def test_progress_rises_with_the_current_value_for_increase_targets(
    baseline: float, gap: float, low: float, rise: float
) -> None:
    target = baseline + gap
    lower = progress(kind="increase", baseline=baseline, target=target, current=low)
    upper = progress(kind="increase", baseline=baseline, target=target, current=low + rise)
    assert lower is not None and upper is not None
    assert lower <= upper


@given(baseline=VALUES, gap=GAPS, low=VALUES, rise=GAPS)
def test_progress_falls_with_the_current_value_for_decrease_targets(
    baseline: float, gap: float, low: float, rise: float
) -> None:
    target = baseline - gap
    lower = progress(kind="decrease", baseline=baseline, target=target, current=low)
    upper = progress(kind="decrease", baseline=baseline, target=target, current=low + rise)
    assert lower is not None and upper is not None
    assert lower >= upper


@given(
    baseline=st.integers(-1000, 1000),
    step=st.integers(1, 1000),
    current=st.integers(-5000, 5000),
    direction=st.sampled_from([1, -1]),
)
def test_progress_strictly_monotone_on_whole_numbers(
    baseline: int, step: int, current: int, direction: int
) -> None:
    target = baseline + direction * step
    kind = "increase" if direction > 0 else "decrease"
    here = progress(kind=kind, baseline=baseline, target=target, current=current)
    above = progress(kind=kind, baseline=baseline, target=target, current=current + 1)
    assert here is not None and above is not None
    assert (above > here) if kind == "increase" else (above < here)


readings_strategy = st.lists(
    st.tuples(st.integers(-30, 120), VALUES), min_size=0, max_size=12, unique_by=lambda p: p[0]
).map(lambda pairs: [ReadingPoint(START + dt.timedelta(days=d), v) for d, v in pairs])

targets_strategy = st.one_of(
    st.tuples(VALUES, VALUES)
    .filter(lambda bt: bt[0] != bt[1])
    .map(
        lambda bt: TargetSpec(
            id=1,
            outcome_id=1,
            metric_id=1,
            kind="increase" if bt[1] > bt[0] else "decrease",
            baseline=bt[0],
            baseline_date=START,
            target=bt[1],
            target_date=PI_END,
        )
    ),
    st.tuples(VALUES, VALUES).map(
        lambda band: TargetSpec(
            id=1,
            outcome_id=1,
            metric_id=1,
            kind="maintain",
            baseline_date=START,
            band_low=min(band),
            band_high=max(band),
            target_date=PI_END,
        )
    ),
)


@given(
    spec=targets_strategy,
    readings=readings_strategy,
    as_of_offset=st.integers(-10, 150),
    interval=st.integers(1, 60),
)
def test_clamped_progress_stays_between_zero_and_one(
    spec: TargetSpec, readings: list[ReadingPoint], as_of_offset: int, interval: int
) -> None:
    metric = MetricInfo(id=1, team_id=1, name="m", update_interval_days=interval)
    as_of = START + dt.timedelta(days=as_of_offset)
    status = evaluate_target(spec, metric, readings, as_of=as_of, pi_end=PI_END)
    assert status.progress is None or 0.0 <= status.progress <= 1.0


@st.composite
def silent_metric(draw: st.DrawFn) -> tuple[int, dt.date, list[ReadingPoint]]:
    """An update interval, an as-of date and readings that all stop more than the
    interval before it (some may fall before the baseline date)."""
    interval = draw(st.integers(1, 60))
    as_of_offset = draw(st.integers(interval + 1, 150))
    days = draw(
        st.lists(
            st.integers(-30, as_of_offset - interval - 1), min_size=1, max_size=10, unique=True
        )
    )
    values = draw(st.lists(VALUES, min_size=len(days), max_size=len(days)))
    readings = [
        ReadingPoint(START + dt.timedelta(days=d), v) for d, v in zip(days, values, strict=True)
    ]
    return interval, START + dt.timedelta(days=as_of_offset), readings


@given(spec=targets_strategy, silence=silent_metric())
def test_health_is_never_better_than_stale_when_the_latest_reading_is_too_old(
    spec: TargetSpec, silence: tuple[int, dt.date, list[ReadingPoint]]
) -> None:
    """Silence is never green: with the latest reading older than the interval, no
    pace-based word (on_track, at_risk, off_track) is shown. The only words that can
    stand over `stale` are the results the spec's rules 2 and 3 put before it for
    increase/decrease targets: `missed` (worse than stale) and `achieved` (the target
    was reached: progress >= 1). With no reading since the baseline it is `no_data`."""
    interval, as_of, readings = silence
    metric = MetricInfo(id=1, team_id=1, name="m", update_interval_days=interval)
    status = evaluate_target(spec, metric, readings, as_of=as_of, pi_end=PI_END)
    if status.current_date is None:
        assert status.health == "no_data"
    elif spec.kind == "maintain":
        assert status.health == "stale"
    elif status.health == "achieved":
        assert status.progress_raw is not None and status.progress_raw >= 1 - 1e-9
    else:
        assert health_rank(status.health) <= health_rank("stale")
        assert status.health not in ("on_track", "at_risk", "off_track")


outcome_strategy = st.builds(
    lambda team, committed, planned, actual: OutcomeSpec(
        id=0,
        pi_id=1,
        key="K-1",
        title="t",
        team_id=team,
        committed=committed,
        planned_bv=planned,
        actual_bv=actual,
    ),
    st.sampled_from([1, 2, None]),
    st.booleans(),
    st.one_of(st.none(), st.integers(1, 10)),
    st.one_of(st.none(), st.integers(0, 10)),
)


@given(
    outcomes=st.lists(outcome_strategy, max_size=15),
    extra_team=st.sampled_from([1, 2, None]),
    extra_committed=st.booleans(),
    extra_planned=st.one_of(st.none(), st.integers(1, 10)),
    days_before_end=st.integers(0, 80),
)
def test_an_unscored_outcome_before_the_pi_ends_changes_no_predictability(
    outcomes: list[OutcomeSpec],
    extra_team: int | None,
    extra_committed: bool,
    extra_planned: int | None,
    days_before_end: int,
) -> None:
    as_of = PI_END - dt.timedelta(days=days_before_end)
    extra = OutcomeSpec(
        id=99,
        pi_id=1,
        key="NEW-1",
        title="t",
        team_id=extra_team,
        committed=extra_committed,
        planned_bv=extra_planned,
        actual_bv=None,
    )

    def figures(items: list[OutcomeSpec]) -> tuple:
        teams = [team_predictability(items, team_id=t, as_of=as_of, pi_end=PI_END) for t in (1, 2)]
        train = train_predictability(teams, as_of=as_of, pi_end=PI_END)
        return (
            [(t.planned_bv, t.actual_bv, t.percent) for t in teams],
            (train.pooled, train.mean_of_teams),
        )

    assert figures([*outcomes, extra]) == figures(outcomes)
