"""Target and outcome health: every rule in the spec's order, with its reason."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import ValidationError
from core.health import evaluate_target, outcome_health, outcome_progress, target_health
from core.model import MetricInfo, ReadingPoint, TargetSpec, TargetStatus

D = dt.date
AS_OF = D(2026, 11, 2)
TARGET_DATE = D(2026, 12, 18)


def health_of(**overrides: object) -> str:
    arguments: dict = {
        "kind": "increase",
        "as_of": AS_OF,
        "target_date": TARGET_DATE,
        "latest_date": D(2026, 10, 30),
        "update_interval_days": 14,
        "progress_raw": 0.5,
        "expected": 0.45,
        "forecast": None,
    }
    arguments.update(overrides)
    return target_health(**arguments)[0]


@pytest.mark.parametrize(
    ("case", "overrides", "health"),
    [
        # 1. no reading since baseline wins over everything
        ("no reading", {"latest_date": None, "progress_raw": None}, "no_data"),
        ("no reading, after target date", {"latest_date": None, "as_of": D(2027, 1, 5)}, "no_data"),
        # 2. achieved wins over missed and stale
        ("achieved", {"progress_raw": 1.0}, "achieved"),
        ("overshoot", {"progress_raw": 1.4}, "achieved"),
        (
            "achieved after target date with an old reading",
            {"progress_raw": 1.0, "as_of": D(2027, 1, 5), "latest_date": D(2026, 11, 1)},
            "achieved",
        ),
        # 3. missed wins over stale
        ("missed", {"as_of": D(2026, 12, 19), "latest_date": D(2026, 12, 18)}, "missed"),
        (
            "missed with an old reading",
            {"as_of": D(2026, 12, 31), "latest_date": D(2026, 11, 1)},
            "missed",
        ),
        (
            "on the target date is not yet missed",
            {"as_of": TARGET_DATE, "latest_date": TARGET_DATE},
            "on_track",
        ),
        # 4. stale: silence is never green
        ("stale overrides on_track", {"latest_date": D(2026, 10, 18)}, "stale"),
        (
            "stale overrides forecast >= 1",
            {"latest_date": D(2026, 10, 1), "forecast": 1.5},
            "stale",
        ),
        (
            "stale overrides off_track",
            {"latest_date": D(2026, 10, 1), "progress_raw": -1.0},
            "stale",
        ),
        ("exactly the interval is not stale", {"latest_date": D(2026, 10, 19)}, "on_track"),
        # 5. on_track
        ("progress at expected - 0.15", {"progress_raw": 0.30, "expected": 0.45}, "on_track"),
        (
            "behind but forecast reaches target",
            {"progress_raw": 0.0, "expected": 0.9, "forecast": 1.0},
            "on_track",
        ),
        # 6. at_risk
        (
            "progress just under expected - 0.15",
            {"progress_raw": 0.29, "expected": 0.45},
            "at_risk",
        ),
        ("progress at expected - 0.33", {"progress_raw": 0.12, "expected": 0.45}, "at_risk"),
        ("forecast 0.7", {"progress_raw": 0.0, "expected": 0.9, "forecast": 0.7}, "at_risk"),
        # 7. off_track
        ("progress under expected - 0.33", {"progress_raw": 0.11, "expected": 0.45}, "off_track"),
        (
            "forecast under 0.7",
            {"progress_raw": 0.0, "expected": 0.9, "forecast": 0.69},
            "off_track",
        ),
        ("negative progress", {"progress_raw": -0.3, "expected": 0.2}, "off_track"),
    ],
)
def test_target_health_takes_the_first_rule_that_matches(
    case: str, overrides: dict, health: str
) -> None:
    assert health_of(**overrides) == health, case


@pytest.mark.parametrize(
    ("case", "overrides", "health"),
    [
        ("no reading", {"latest_date": None, "progress_raw": None}, "no_data"),
        ("inside the band", {"progress_raw": 1.0}, "on_track"),
        ("outside the band", {"progress_raw": 0.0}, "off_track"),
        (
            "inside after the target date",
            {"progress_raw": 1.0, "as_of": D(2026, 12, 20), "latest_date": D(2026, 12, 15)},
            "achieved",
        ),
        (
            "outside after the target date",
            {"progress_raw": 0.0, "as_of": D(2026, 12, 20), "latest_date": D(2026, 12, 15)},
            "missed",
        ),
        ("stale inside the band", {"progress_raw": 1.0, "latest_date": D(2026, 10, 1)}, "stale"),
        # rules 1 and 4 apply first for maintain, even after the target date
        (
            "stale after the target date",
            {"progress_raw": 1.0, "as_of": D(2027, 1, 20), "latest_date": D(2026, 12, 15)},
            "stale",
        ),
    ],
)
def test_maintain_health_is_band_based_after_no_data_and_stale(
    case: str, overrides: dict, health: str
) -> None:
    assert health_of(kind="maintain", expected=None, **overrides) == health, case


def test_reason_says_how_far_at_what_time_and_where_the_forecast_lands() -> None:
    _, reason = target_health(
        kind="increase",
        as_of=D(2027, 1, 15),
        target_date=D(2027, 3, 2),
        latest_date=D(2027, 1, 14),
        update_interval_days=14,
        progress_raw=0.62,
        expected=0.5,
        forecast=1.29,
    )
    assert reason == "on pace: 62% of the way at 50% of the time; forecast reaches 129% by 2 Mar"


@pytest.mark.parametrize(
    ("progress_raw", "expected", "forecast", "health", "reason"),
    [
        # Issue 14: "On track" beside "forecast reaches 73%" must say the pace decided.
        (
            0.45,
            0.5,
            0.73,
            "on_track",
            "on pace: within 15 points of the straight path, 45% of the way at 50% of the "
            "time; forecast reaches 73% by 2 Mar",
        ),
        (
            0.1,
            0.5,
            1.2,
            "on_track",
            "forecast reaches 120% by 2 Mar, though only 10% of the way at 50% of the time",
        ),
        (
            0.25,
            0.5,
            0.4,
            "at_risk",
            "behind: 25 points short of the straight path, 25% of the way at 50% of the "
            "time; forecast reaches 40% by 2 Mar",
        ),
        (
            0.0,
            0.5,
            0.8,
            "at_risk",
            "forecast reaches 80% by 2 Mar, though only 0% of the way at 50% of the time",
        ),
        (
            0.1,
            0.6,
            None,
            "off_track",
            "far behind: 50 points short of the straight path, 10% of the way at 60% of the time",
        ),
        (0.2, None, None, "on_track", "20% of the way"),
    ],
)
def test_reason_names_the_rule_that_decided_the_health(
    progress_raw: float, expected: float | None, forecast: float | None, health: str, reason: str
) -> None:
    result = target_health(
        kind="increase",
        as_of=D(2027, 1, 15),
        target_date=D(2027, 3, 2),
        latest_date=D(2027, 1, 14),
        update_interval_days=14,
        progress_raw=progress_raw,
        expected=expected,
        forecast=forecast,
    )
    assert result == (health, reason)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (
            {"latest_date": None, "progress_raw": None, "baseline_date": D(2026, 10, 5)},
            "no reading since the baseline on 5 Oct",
        ),
        (
            {"latest_date": None, "progress_raw": None, "baseline_date": D(2026, 12, 1)},
            "baseline date 1 Dec is still ahead",
        ),
        ({"progress_raw": 1.04}, "target reached, 104% of the way"),
        (
            {"as_of": D(2026, 12, 20), "latest_date": D(2026, 12, 19)},
            "50% of the way when the target date 18 Dec passed",
        ),
        ({"latest_date": D(2026, 10, 12)}, "21 days old, more than the 14-day update interval"),
    ],
)
def test_every_health_has_a_plain_words_reason(overrides: dict, words: str) -> None:
    arguments: dict = {
        "kind": "increase",
        "as_of": AS_OF,
        "target_date": TARGET_DATE,
        "latest_date": D(2026, 10, 30),
        "update_interval_days": 14,
        "progress_raw": 0.5,
        "expected": 0.45,
    }
    arguments.update(overrides)
    assert words in target_health(**arguments)[1]


# ---------------------------------------------------------------- whole targets

CONVERSION = MetricInfo(id=1, team_id=1, name="Checkout conversion", unit="%", leading=True)
PI_END = D(2026, 12, 18)


def target(**overrides: object) -> TargetSpec:
    fields: dict = {
        "id": 1,
        "outcome_id": 1,
        "metric_id": 1,
        "kind": "increase",
        "baseline": 10.0,
        "baseline_date": D(2026, 10, 5),
        "target": 20.0,
        "target_date": D(2026, 11, 14),
    }
    fields.update(overrides)
    return TargetSpec(**fields)


def weekly(start: D, values: list[float]) -> list[ReadingPoint]:
    return [ReadingPoint(start + dt.timedelta(days=7 * i), v) for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("case", "spec", "readings", "as_of", "expect"),
    [
        (
            "increase on track",
            target(),
            weekly(D(2026, 10, 5), [10, 12, 14, 16]),
            D(2026, 10, 26),
            {"current": 16, "progress_raw": 0.6, "health": "on_track"},
        ),
        (
            "decrease on track",
            target(baseline=100.0, target=50.0),
            weekly(D(2026, 10, 5), [100, 90, 80, 75]),
            D(2026, 10, 26),
            {"current": 75, "progress_raw": 0.5, "health": "on_track"},
        ),
        (
            "decrease moving the wrong way",
            target(baseline=100.0, target=50.0),
            weekly(D(2026, 10, 5), [100, 104, 108, 110]),
            D(2026, 10, 26),
            {"progress_raw": -0.2, "progress": 0.0, "health": "off_track"},
        ),
        (
            "overshoot",
            target(),
            weekly(D(2026, 10, 5), [10, 18, 25]),
            D(2026, 10, 19),
            {"progress_raw": 1.5, "progress": 1.0, "health": "achieved"},
        ),
        (
            "no reading",
            target(),
            [],
            D(2026, 10, 26),
            {"current": None, "progress_raw": None, "forecast": None, "health": "no_data"},
        ),
        (
            "readings before the baseline ignored",
            target(),
            weekly(D(2026, 9, 7), [50, 50, 50, 50]),
            D(2026, 10, 26),
            {"current": None, "health": "no_data"},
        ),
        (
            "one reading: no forecast",
            target(),
            weekly(D(2026, 10, 19), [14]),
            D(2026, 10, 26),
            {"current": 14, "forecast": None, "health": "on_track"},
        ),
        (
            "two readings: no forecast",
            target(),
            weekly(D(2026, 10, 12), [12, 14]),
            D(2026, 10, 26),
            {"forecast": None},
        ),
        (
            "three readings: a forecast",
            target(),
            weekly(D(2026, 10, 5), [10, 12, 14]),
            D(2026, 10, 26),
            {"forecast": 8 / 7},
        ),
        (
            "as-of before the baseline",
            target(),
            weekly(D(2026, 10, 5), [10, 12]),
            D(2026, 10, 1),
            {"current": None, "expected": 0.0, "health": "no_data"},
        ),
        (
            "after the target date, short",
            target(),
            weekly(D(2026, 10, 5), [10, 12, 14, 16, 17]),
            D(2026, 11, 20),
            {"health": "missed", "expected": 1.0},
        ),
        (
            "after the target date, reached",
            target(),
            weekly(D(2026, 10, 5), [10, 14, 18, 21]),
            D(2026, 11, 20),
            {"health": "achieved"},
        ),
        (
            "target date defaults to the PI end",
            target(target_date=None),
            weekly(D(2026, 10, 5), [10]),
            D(2026, 10, 5),
            {"target_date": PI_END},
        ),
        (
            "maintain inside",
            target(kind="maintain", baseline=None, target=None, band_low=2.0, band_high=2.5),
            weekly(D(2026, 10, 5), [2.6, 2.4]),
            D(2026, 10, 12),
            {"progress_raw": 1.0, "expected": None, "forecast": None, "health": "on_track"},
        ),
        (
            "maintain outside",
            target(kind="maintain", baseline=None, target=None, band_low=2.0, band_high=2.5),
            weekly(D(2026, 10, 5), [2.4, 2.4, 2.6]),
            D(2026, 10, 19),
            {"progress_raw": 0.0, "forecast": None, "health": "off_track"},
        ),
        (
            "incomplete: no baseline date",
            target(baseline_date=None),
            weekly(D(2026, 10, 5), [10, 12]),
            D(2026, 10, 12),
            {"current": 12, "progress_raw": None, "expected": None, "health": "no_data"},
        ),
    ],
)
def test_evaluate_target(
    case: str, spec: TargetSpec, readings: list[ReadingPoint], as_of: D, expect: dict
) -> None:
    status = evaluate_target(spec, CONVERSION, readings, as_of=as_of, pi_end=PI_END)
    for name, value in expect.items():
        actual = getattr(status, name)
        if isinstance(value, float) and actual is not None:
            assert actual == pytest.approx(value), (case, name)
        else:
            assert actual == value, (case, name)
    assert status.reason, case


def test_evaluate_target_rejects_baseline_equal_to_target() -> None:
    with pytest.raises(ValidationError):
        evaluate_target(target(target=10.0), CONVERSION, [], as_of=AS_OF, pi_end=PI_END)


def test_maintain_reason_names_the_band_and_the_value() -> None:
    spec = target(kind="maintain", baseline=None, target=None, band_low=2.0, band_high=2.5)
    status = evaluate_target(
        spec, CONVERSION, weekly(D(2026, 10, 5), [2.7]), as_of=D(2026, 10, 6), pi_end=PI_END
    )
    assert status.reason == "outside the band 2.0–2.5% at 2.7%"


# ---------------------------------------------------------------- outcomes


def status(health: str, progress: float | None = 0.5, metric: str = "m") -> TargetStatus:
    return TargetStatus(
        target_id=1, outcome_id=1, metric_id=1, metric=metric, kind="increase", baseline=0,
        target=1, band_low=None, band_high=None, target_date=PI_END,
        current=None if progress is None else progress, current_date=None,
        progress_raw=progress, progress=progress, expected=None, forecast=None,
        health=health, reason=f"{metric} reason",
    )  # fmt: skip


ORDER = ["missed", "off_track", "at_risk", "stale", "no_data", "on_track", "achieved"]


@pytest.mark.parametrize(
    ("worse", "better"), [(ORDER[i], ORDER[j]) for i in range(7) for j in range(i + 1, 7)]
)
def test_outcome_takes_its_worst_targets_health(worse: str, better: str) -> None:
    targets = [status(better, metric="a"), status(worse, metric="b")]
    health, reason = outcome_health(targets)
    assert health == worse
    assert "b" in reason


def test_outcome_without_targets_is_unmeasurable() -> None:
    assert outcome_health([])[0] == "unmeasurable"


@pytest.mark.parametrize(
    ("progresses", "expected"),
    [
        ([0.5], 0.5),
        ([0.2, 0.6], 0.4),
        ([None, 0.6], 0.6),  # a target without a current value is left out
        ([None], None),
        ([], None),
    ],
)
def test_outcome_progress_is_the_mean_of_clamped_progress_with_a_current_value(
    progresses: list[float | None], expected: float | None
) -> None:
    value = outcome_progress([status("on_track", p) for p in progresses])
    assert value == (pytest.approx(expected) if expected is not None else None)


def test_outcome_progress_uses_clamped_values() -> None:
    over = status("achieved", 1.0)
    over = TargetStatus(**{**over.__dict__, "progress_raw": 1.8})
    negative = status("off_track", 0.0)
    negative = TargetStatus(**{**negative.__dict__, "progress_raw": -0.6})
    assert outcome_progress([over, negative]) == pytest.approx(0.5)
