"""Current value, progress, expected progress and forecast: PRODUCT.md's rules as tables."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import ValidationError
from core.model import ReadingPoint
from core.progress import (
    clamp01,
    current_reading,
    expected_progress,
    forecast_progress,
    infer_kind,
    progress,
)

D = dt.date


def series(*pairs: tuple[str, float]) -> list[ReadingPoint]:
    return [ReadingPoint(D.fromisoformat(day), value) for day, value in pairs]


@pytest.mark.parametrize(
    ("kind", "baseline", "target", "current", "expected"),
    [
        ("increase", 10, 20, 16, 0.6),
        ("increase", 10, 20, 10, 0.0),
        ("increase", 10, 20, 20, 1.0),
        ("increase", 10, 20, 25, 1.5),  # overshoot is kept raw
        ("increase", 10, 20, 5, -0.5),  # moved the wrong way: negative
        ("decrease", 100, 50, 75, 0.5),  # the spec's own example
        ("decrease", 100, 50, 40, 1.2),
        ("decrease", 100, 50, 110, -0.2),
        ("decrease", 3.0, 2.0, 2.5, 0.5),
        ("increase", -5, 5, 0, 0.5),  # negative baselines work the same
    ],
)
def test_progress_is_one_formula_for_increase_and_decrease(
    kind: str, baseline: float, target: float, current: float, expected: float
) -> None:
    assert progress(kind=kind, baseline=baseline, target=target, current=current) == (
        pytest.approx(expected)
    )


@pytest.mark.parametrize(
    ("current", "expected"),
    [(1.9, 0.0), (2.0, 1.0), (2.3, 1.0), (2.5, 1.0), (2.51, 0.0), (-1.0, 0.0)],
)
def test_maintain_progress_is_one_inside_the_inclusive_band_else_zero(
    current: float, expected: float
) -> None:
    value = progress(
        kind="maintain", baseline=None, target=None, current=current, band_low=2.0, band_high=2.5
    )
    assert value == expected


@pytest.mark.parametrize("kind", ["increase", "decrease"])
def test_baseline_equal_to_target_is_rejected(kind: str) -> None:
    with pytest.raises(ValidationError) as error:
        progress(kind=kind, baseline=5, target=5, current=6)
    assert error.value.fields() == {"target"}


@pytest.mark.parametrize(
    ("baseline", "target", "current"),
    [(10, 20, None), (None, 20, 15), (10, None, 15)],
)
def test_progress_is_none_without_current_baseline_or_target(
    baseline: float | None, target: float | None, current: float | None
) -> None:
    assert progress(kind="increase", baseline=baseline, target=target, current=current) is None


@pytest.mark.parametrize(
    ("raw", "clamped"), [(-0.5, 0.0), (0.0, 0.0), (0.4, 0.4), (1.0, 1.0), (1.7, 1.0), (None, None)]
)
def test_clamp_keeps_progress_between_zero_and_one(
    raw: float | None, clamped: float | None
) -> None:
    assert clamp01(raw) == clamped


@pytest.mark.parametrize(
    ("baseline", "target", "kind"),
    [(10, 20, "increase"), (20, 10, "decrease"), (10, 10, None), (None, 10, None), (1, None, None)],
)
def test_kind_is_inferred_from_baseline_and_target(
    baseline: float | None, target: float | None, kind: str | None
) -> None:
    assert infer_kind(baseline, target) == kind


READINGS = series(
    ("2026-09-20", 1.0),  # before the baseline date: ignored
    ("2026-10-05", 10.0),
    ("2026-10-19", 12.0),
    ("2026-11-02", 14.0),
    ("2026-11-16", 16.0),
)


@pytest.mark.parametrize(
    ("as_of", "baseline_date", "expected"),
    [
        ("2026-11-02", "2026-10-05", ("2026-11-02", 14.0)),
        ("2026-11-10", "2026-10-05", ("2026-11-02", 14.0)),  # latest on or before
        ("2026-10-04", "2026-10-05", None),  # as-of before the baseline: no data
        ("2026-10-01", "2026-09-01", ("2026-09-20", 1.0)),
        ("2026-12-31", "2026-12-01", None),  # nothing since the baseline
        ("2026-09-25", None, ("2026-09-20", 1.0)),  # no baseline date: any earlier reading
    ],
)
def test_current_value_is_latest_reading_between_baseline_and_as_of(
    as_of: str, baseline_date: str | None, expected: tuple[str, float] | None
) -> None:
    reading = current_reading(
        READINGS,
        baseline_date=D.fromisoformat(baseline_date) if baseline_date else None,
        as_of=D.fromisoformat(as_of),
    )
    assert reading == (
        ReadingPoint(D.fromisoformat(expected[0]), expected[1]) if expected else None
    )


def test_current_value_is_none_without_readings() -> None:
    assert current_reading([], baseline_date=D(2026, 10, 5), as_of=D(2026, 11, 2)) is None


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-09-01", 0.0),  # before the baseline: clamped
        ("2026-10-05", 0.0),
        ("2026-10-15", 0.25),
        ("2026-11-04", 0.75),
        ("2026-11-14", 1.0),
        ("2027-01-01", 1.0),  # after the target date: clamped
    ],
)
def test_expected_progress_is_the_straight_path_clamped(as_of: str, expected: float) -> None:
    value = expected_progress(
        baseline_date=D(2026, 10, 5), target_date=D(2026, 11, 14), as_of=D.fromisoformat(as_of)
    )
    assert value == pytest.approx(expected)


def test_expected_progress_is_none_without_a_baseline_date() -> None:
    assert (
        expected_progress(baseline_date=None, target_date=D(2026, 12, 1), as_of=D(2026, 11, 1))
        is None
    )


def _forecast(readings: list[ReadingPoint], **overrides: object) -> float | None:
    arguments: dict = {
        "kind": "increase",
        "baseline": 10.0,
        "target": 20.0,
        "baseline_date": D(2026, 10, 1),
        "target_date": D(2026, 10, 31),
        "as_of": D(2026, 10, 21),
    }
    arguments.update(overrides)
    return forecast_progress(readings, **arguments)


LINE = series(("2026-10-01", 10.0), ("2026-10-11", 12.0), ("2026-10-21", 14.0))


@pytest.mark.parametrize(
    ("readings", "overrides", "expected"),
    [
        # y = 10 + 0.2x; at day 30: 16 -> 60% of the way
        (LINE, {}, 0.6),
        (LINE, {"target_date": D(2026, 11, 30)}, 1.2),
        # decrease: the same line is moving away from a lower target
        (LINE, {"kind": "decrease", "target": 5.0}, -1.2),
        # readings before the baseline date do not pull the line
        ([ReadingPoint(D(2026, 9, 1), 100.0), *LINE], {}, 0.6),
        # readings after the as-of date are not known yet
        ([*LINE, ReadingPoint(D(2026, 10, 25), 0.0)], {}, 0.6),
        (LINE[:2], {}, None),  # two readings: no forecast
        (LINE[:1], {}, None),  # one reading: no forecast
        ([], {}, None),
        (LINE, {"kind": "maintain"}, None),
        (LINE, {"baseline_date": None}, None),
        (LINE, {"as_of": D(2026, 9, 30)}, None),  # as-of before the baseline
    ],
)
def test_forecast_is_least_squares_line_at_target_date_as_progress(
    readings: list[ReadingPoint], overrides: dict, expected: float | None
) -> None:
    value = _forecast(readings, **overrides)
    if expected is None:
        assert value is None
    else:
        assert value == pytest.approx(expected)


def test_forecast_fits_noisy_readings_by_least_squares() -> None:
    readings = series(("2026-10-01", 10.0), ("2026-10-11", 13.0), ("2026-10-21", 13.0))
    # slope 0.15/day, intercept 10.5: at day 30, 15.0 -> 50%
    assert _forecast(readings) == pytest.approx(0.5)
