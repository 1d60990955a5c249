"""Chart builders, read through `chart.to_dict()`: layers, data embedded, colours, PNG."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from core.format import format_value
from core.model import (
    HypothesisSpec,
    MetricInfo,
    OutcomeStatus,
    ReleaseInfo,
    TargetSpec,
    TargetStatus,
)
from core.track_record import PITrackRecord
from ui import charts
from ui.theme import (
    DARK_BACKGROUND,
    HEALTH_COLOR,
    HEALTH_LABEL,
    HEALTH_ORDER,
    LIGHT_BACKGROUND,
    SERIES_COLOR,
    TEXT_MUTED,
    VERDICT_COLOR,
    VERDICT_LABEL,
)

AS_OF = dt.date(2026, 11, 2)
PI_START = dt.date(2026, 10, 5)
PI_END = dt.date(2026, 12, 18)


# ---------------------------------------------------------------- helpers


def _spec(chart: Any) -> dict[str, Any]:
    # Schema validation is most of to_dict's time; one test below validates every builder.
    return chart.to_dict(validate=False)


def _layers(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {layer["name"]: layer for layer in spec.get("layer", []) if "name" in layer}


def _rows(spec: dict[str, Any], layer: dict[str, Any]) -> list[dict[str, Any]]:
    """A layer's rows; layers that share one frame inherit it from the top level."""
    data = layer.get("data", spec.get("data"))
    return spec["datasets"][data["name"]]


def _all_rows(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [row for rows in spec.get("datasets", {}).values() for row in rows]


def _dash(layer: dict[str, Any], series: str) -> list[int]:
    """The dash a layer draws `series` with, through its strokeDash scale."""
    scale = layer["encoding"]["strokeDash"]["scale"]
    return scale["range"][scale["domain"].index(series)]


def _readings(days: range, start: dt.date = PI_START, base: float = 2.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": [start + dt.timedelta(days=d) for d in days],
            "value": [base + d / 100 for d in days],
        }
    )


def _chart(**overrides: Any) -> Any:
    args: dict[str, Any] = {
        "as_of": AS_OF,
        "metric": "Checkout conversion",
        "unit": "%",
        "decimals": 1,
        "kind": "increase",
        "baseline": 2.1,
        "baseline_date": PI_START,
        "target": 2.6,
        "target_date": PI_END,
        "forecast": 2.7,
        "start": PI_START,
        "end": PI_END,
    }
    args.update(overrides)
    readings = args.pop("readings", _readings(range(0, 28, 7)))
    return charts.target_chart(readings, **args)


# ---------------------------------------------------------------- target chart


def test_target_chart_has_every_layer_of_a_full_target() -> None:
    spec = _spec(_chart())
    layers = _layers(spec)
    for name in ("readings", "baseline", "target", "expected", "forecast", "as_of"):
        assert name in layers, name


def test_target_line_sits_at_the_target_value() -> None:
    spec = _spec(_chart(target=2.6))
    target = _layers(spec)["target"]
    assert [row["value"] for row in _rows(spec, target)] == [2.6]
    assert target["mark"]["type"] == "rule"


def test_forecast_is_dashed_and_readings_are_solid() -> None:
    layers = _layers(_spec(_chart()))
    assert _dash(layers["forecast"], "Forecast") not in ([], [1, 0])
    assert _dash(layers["readings"], "Readings") == [1, 0]


def test_forecast_runs_from_the_last_reading_to_the_target_date() -> None:
    spec = _spec(_chart(readings=_readings(range(0, 28, 7)), forecast=2.7))
    rows = _rows(spec, _layers(spec)["forecast"])
    assert [row["value"] for row in rows] == [pytest.approx(2.21), 2.7]
    assert rows[0]["date"].startswith("2026-10-26")
    assert rows[1]["date"].startswith("2026-12-18")


def test_expected_path_runs_from_baseline_to_target() -> None:
    spec = _spec(_chart())
    rows = _rows(spec, _layers(spec)["expected"])
    assert [(row["date"][:10], row["value"]) for row in rows] == [
        ("2026-10-05", 2.1),
        ("2026-12-18", 2.6),
    ]


def test_no_forecast_draws_no_forecast_line() -> None:
    layers = _layers(_spec(_chart(forecast=None)))
    assert "forecast" not in layers
    assert "Forecast" not in layers["readings"]["encoding"]["color"]["scale"]["domain"]


def test_no_baseline_draws_no_baseline_and_no_expected_path() -> None:
    layers = _layers(_spec(_chart(baseline=None, baseline_date=None)))
    assert "baseline" not in layers
    assert "expected" not in layers
    assert "target" in layers


def test_maintain_target_draws_a_band_instead_of_a_line() -> None:
    spec = _spec(_chart(kind="maintain", target=None, band_low=1.0, band_high=1.5, forecast=None))
    layers = _layers(spec)
    band = layers["target_band"]
    assert band["mark"]["type"] == "rect"
    assert _rows(spec, band)[0]["low"] == 1.0
    assert _rows(spec, band)[0]["high"] == 1.5
    assert "target" not in layers
    assert "expected" not in layers


@pytest.mark.parametrize("count", [0, 1, 3])
def test_one_release_marker_per_release(count: int) -> None:
    releases = [
        charts.ReleaseMarker(f"v2.{i}", PI_START + dt.timedelta(days=3 + 5 * i), ("we do X",))
        for i in range(count)
    ]
    spec = _spec(_chart(releases=releases))
    layers = _layers(spec)
    if count == 0:
        assert "releases" not in layers
    else:
        assert len(_rows(spec, layers["releases"])) == count


def test_release_label_names_the_release_and_its_hypothesis_truncated() -> None:
    marker = charts.ReleaseMarker(
        "v2.3", dt.date(2026, 10, 20), ("we offer one-click pay to every returning customer",)
    )
    spec = _spec(_chart(releases=[marker]))
    labels = [row["label"] for row in _rows(spec, _layers(spec)["releases"])]
    assert labels[0].startswith("v2.3: we offer one-click pay")
    assert labels[0].endswith("…")
    assert len(labels[0]) <= charts.RELEASE_LABEL_CHARS


def test_releases_after_as_of_are_not_drawn() -> None:
    releases = [
        charts.ReleaseMarker("v1", dt.date(2026, 10, 20)),
        charts.ReleaseMarker("v2", AS_OF + dt.timedelta(days=1)),
    ]
    spec = _spec(_chart(releases=releases))
    assert [row["name"] for row in _rows(spec, _layers(spec)["releases"])] == ["v1"]


@pytest.mark.parametrize(
    ("as_of", "after_end"),
    [
        (dt.date(2026, 11, 2), "2026-11-02"),  # window still open: after ends at as_of
        (dt.date(2026, 12, 1), "2026-11-17"),  # window closed: after ends at R + W
    ],
)
def test_hypothesis_windows_are_shaded_around_the_release(as_of: dt.date, after_end: str) -> None:
    window = charts.HypothesisWindow(dt.date(2026, 10, 20), 28, "v2.3", 2.2, 2.4)
    spec = _spec(_chart(as_of=as_of, hypothesis=window))
    layers = _layers(spec)
    before = _rows(spec, layers["window_before"])[0]
    after = _rows(spec, layers["window_after"])[0]
    assert (before["start"][:10], before["end"][:10]) == ("2026-09-22", "2026-10-20")
    assert (after["start"][:10], after["end"][:10]) == ("2026-10-20", after_end)
    assert "window_before_mean" in layers
    assert "window_after_mean" in layers


def test_no_hypothesis_shades_no_window() -> None:
    layers = _layers(_spec(_chart()))
    assert not any(name.startswith("window_") for name in layers)


def test_hypothesis_released_after_as_of_shades_only_the_before_window() -> None:
    window = charts.HypothesisWindow(AS_OF + dt.timedelta(days=5), 28)
    layers = _layers(_spec(_chart(hypothesis=window)))
    assert "window_before" in layers
    assert "window_after" not in layers


def test_empty_readings_still_draw_target_baseline_and_a_message() -> None:
    spec = _spec(_chart(readings=[], forecast=2.7))
    layers = _layers(spec)
    assert _rows(spec, layers["no_readings"]) == [{"text": "No readings yet"}]
    assert {"target", "baseline", "expected"} <= set(layers)
    assert "readings" not in layers
    assert "forecast" not in layers  # nothing to draw it from


def test_chart_embeds_only_readings_inside_the_shown_window() -> None:
    before_start = _readings(range(-60, 0, 5))
    inside = _readings(range(0, 28, 7))
    after_as_of = _readings(range(30, 60, 5), start=AS_OF)
    readings = pd.concat([before_start, inside, after_as_of])
    spec = _spec(_chart(readings=readings))
    rows = _rows(spec, _layers(spec)["readings"])
    assert [row["date"][:10] for row in rows] == [
        "2026-10-05",
        "2026-10-12",
        "2026-10-19",
        "2026-10-26",
    ]
    # No other layer smuggles the clipped readings in either.
    stored = {
        round(row["value"], 4) for row in _all_rows(spec) if isinstance(row.get("value"), float)
    }
    assert not stored & {round(v, 4) for v in before_start["value"]}


def test_more_readings_than_max_points_are_averaged_down() -> None:
    daily = _readings(range(0, 28))
    spec = _spec(_chart(readings=daily, max_points=7))
    rows = _rows(spec, _layers(spec)["readings"])
    assert len(rows) <= 7
    assert rows[-1]["date"][:10] == "2026-11-01"  # the latest reading stays last
    assert sum(row["count"] for row in rows) == 28


def test_reading_tooltip_shows_value_with_unit_and_decimals() -> None:
    spec = _spec(_chart(readings=[(PI_START, 2.345)], decimals=2))
    layer = _layers(spec)["readings"]
    row = _rows(spec, layer)[0]
    assert row["shown_value"] == "2.35%"
    assert row["day"] == "5 Oct 2026"
    assert {t["field"] for t in layer["encoding"]["tooltip"]} >= {"day", "shown_value"}


def test_target_chart_from_core_values_converts_forecast_progress_to_units() -> None:
    spec = TargetSpec(
        id=1, outcome_id=1, metric_id=7, kind="increase", baseline=10.0,
        baseline_date=PI_START, target=20.0, target_date=None,
    )  # fmt: skip
    status = TargetStatus(
        target_id=1, outcome_id=1, metric_id=7, metric="Signups", kind="increase",
        baseline=10.0, target=20.0, band_low=None, band_high=None, target_date=PI_END,
        current=12.0, current_date=PI_START, progress_raw=0.2, progress=0.2, expected=0.4,
        forecast=1.5, health="at_risk", reason="",
    )  # fmt: skip
    metric = MetricInfo(id=7, team_id=1, name="Signups", unit="users", decimals=0)
    chart = charts.target_chart_for(spec, status, metric, _readings(range(0, 21, 7)), as_of=AS_OF)
    out = _spec(chart)
    forecast = _rows(out, _layers(out)["forecast"])
    assert forecast[-1]["value"] == 25.0
    assert forecast[-1]["date"].startswith("2026-12-18")
    # The outcome page's PNG download builds the same chart when it is asked for.
    png = charts.target_chart_png(spec, status, metric, _readings(range(0, 21, 7)), as_of=AS_OF)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_release_markers_carry_their_hypotheses_for_the_metric() -> None:
    releases = [
        ReleaseInfo(id=1, team_id=1, name="v2.3", date=dt.date(2026, 10, 20)),
        ReleaseInfo(id=2, team_id=1, name="v2.4", date=dt.date(2026, 10, 27)),
    ]
    hypotheses = [
        HypothesisSpec(id=1, outcome_id=1, metric_id=7, if_text="one-click pay", expect_text="", release_id=1),
        HypothesisSpec(id=2, outcome_id=1, metric_id=8, if_text="other metric", expect_text="", release_id=1),
        HypothesisSpec(id=3, outcome_id=1, metric_id=7, if_text="not shipped", expect_text=""),
    ]  # fmt: skip
    markers = charts.release_markers(releases, hypotheses, metric_id=7)
    assert markers == (
        charts.ReleaseMarker("v2.3", dt.date(2026, 10, 20), ("one-click pay",)),
        charts.ReleaseMarker("v2.4", dt.date(2026, 10, 27), ()),
    )


def test_text_marks_never_use_the_default_black() -> None:
    spec = _spec(_chart(releases=[charts.ReleaseMarker("v1", dt.date(2026, 10, 20))]))
    texts = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    assert texts
    assert all(layer["mark"].get("color") == TEXT_MUTED for layer in texts)
    assert "background" not in spec.get("config", {})


# ---------------------------------------------------------------- sparkline


def test_sparkline_has_no_axes_and_stops_at_as_of() -> None:
    readings = _readings(range(0, 60, 5))
    spec = _spec(charts.sparkline(readings, as_of=AS_OF, health="at_risk"))
    layers = _layers(spec)
    line = layers["readings"]
    assert line["encoding"]["x"]["axis"] is None
    assert line["encoding"]["y"]["axis"] is None
    assert max(row["date"][:10] for row in _rows(spec, line)) <= AS_OF.isoformat()
    assert layers["latest"]["mark"]["color"] == HEALTH_COLOR["at_risk"]


def test_sparkline_without_readings_still_builds() -> None:
    spec = _spec(charts.sparkline([]))
    assert "no_readings" in _layers(spec)


# ---------------------------------------------------------------- progress bars


def test_progress_bars_clamp_and_write_the_health_word() -> None:
    rows = [
        {"label": "Conversion", "progress": 1.3, "expected": 0.5, "health": "achieved"},
        {"label": "Tickets", "progress": -0.2, "expected": 0.6, "health": "off_track"},
        {"label": "Load time", "progress": None, "expected": None, "health": "no_data"},
    ]
    spec = _spec(charts.progress_bars(rows))
    layers = _layers(spec)
    data = _rows(spec, layers["progress"])
    assert [row["progress"] for row in data] == [1.0, 0.0, None]
    assert [row["summary"] for row in data] == ["130% · Achieved", "-20% · Off track", "No data"]
    assert layers["health_words"]["encoding"]["text"]["field"] == "summary"
    assert layers["expected"]["mark"]["type"] == "tick"


def test_progress_bars_draw_no_empty_layer() -> None:
    """Without any expected-by-now value (after the PI) or any current value, the ticks
    or bars are left out rather than drawn as an empty, unnamed mark group."""
    rows = [
        {"label": "Conversion", "progress": None, "expected": None, "health": "no_data"},
        {"label": "Tickets", "progress": None, "health": "no_data"},
    ]
    layers = _layers(_spec(charts.progress_bars(rows)))
    assert set(layers) == {"track", "health_words"}
    with_progress = _layers(_spec(charts.progress_bars([{**rows[0], "progress": 0.4}])))
    assert set(with_progress) == {"track", "progress", "health_words"}


def test_progress_rows_come_from_target_and_outcome_statuses() -> None:
    target = TargetStatus(
        target_id=1, outcome_id=1, metric_id=7, metric="Signups", kind="increase",
        baseline=10.0, target=20.0, band_low=None, band_high=None, target_date=PI_END,
        current=23.0, current_date=PI_START, progress_raw=1.3, progress=1.0, expected=0.4,
        forecast=None, health="achieved", reason="",
    )  # fmt: skip
    outcome = OutcomeStatus(
        outcome_id=1, key="CHK-1", title="More people sign up", team_id=1, committed=True,
        planned_bv=8, actual_bv=None, health="achieved", reason="", progress=1.0,
    )  # fmt: skip
    assert charts.progress_rows([target, outcome]) == [
        {"label": "Signups", "progress": 1.3, "expected": 0.4, "health": "achieved"},
        {
            "label": "CHK-1 More people sign up",
            "progress": 1.0,
            "expected": None,
            "health": "achieved",
        },
    ]


# ---------------------------------------------------------------- predictability


def test_predictability_chart_shades_the_healthy_band_and_shows_the_pooled_figure() -> None:
    teams = [
        {"team": "Checkout", "planned_bv": 13, "actual_bv": 12, "percent": 92.3},
        {"team": "Search", "planned_bv": 0, "actual_bv": 0, "percent": None, "not_yet_scored": 2},
    ]
    spec = _spec(charts.predictability_chart(teams, pooled=92.3, mean_of_teams=92.3))
    layers = _layers(spec)
    band = _rows(spec, layers["healthy_band"])[0]
    assert (band["low"], band["high"], band["label"]) == (80.0, 100.0, "healthy")
    assert _rows(spec, layers["full_rule"]) == [{"x": 100.0}]
    bars = _rows(spec, layers["bars"])
    assert [row["text"] for row in bars] == ["92% (12 of 13)", "not yet scored", "92%"]
    assert bars[-1]["team"] == "Train (pooled)"
    assert "92% pooled" in spec["title"]["subtitle"]
    assert "92% mean of teams" in spec["title"]["subtitle"]


# ---------------------------------------------------------------- health mix


def test_health_mix_lists_present_healths_worst_first_with_words_and_colours() -> None:
    spec = _spec(charts.health_mix_chart({"on_track": 5, "missed": 1, "at_risk": 0, "stale": 2}))
    bars = _layers(spec)["bars"]
    assert [row["word"] for row in _rows(spec, bars)] == ["Missed", "Stale", "On track"]
    scale = bars["encoding"]["color"]["scale"]
    assert scale["range"] == [HEALTH_COLOR[h] for h in scale["domain"]]


def test_verdict_mix_writes_each_verdict() -> None:
    spec = _spec(charts.verdict_mix_chart({"supported": 2, "refuted": 1}))
    words = [row["word"] for row in _rows(spec, _layers(spec)["bars"])]
    assert words == ["Refuted", "Supported"]


# ---------------------------------------------------------------- theme


def test_health_words_in_order_worst_first() -> None:
    assert HEALTH_ORDER == (
        "missed", "off_track", "at_risk", "stale", "no_data", "on_track", "achieved",
        "unmeasurable",
    )  # fmt: skip
    assert [HEALTH_LABEL[h] for h in HEALTH_ORDER] == [
        "Missed", "Off track", "At risk", "Stale", "No data", "On track", "Achieved",
        "Unmeasurable",
    ]  # fmt: skip
    assert set(VERDICT_LABEL.values()) == {
        "Untested", "Measuring", "Supported", "Refuted", "Inconclusive",
    }  # fmt: skip


def _luminance(color: str) -> float:
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(
    "color",
    sorted({*HEALTH_COLOR.values(), *VERDICT_COLOR.values(), *SERIES_COLOR.values()}),
)
def test_palette_reads_on_light_and_dark_backgrounds(color: str) -> None:
    assert _contrast(color, LIGHT_BACKGROUND) >= 3.0
    assert _contrast(color, DARK_BACKGROUND) >= 3.0


@pytest.mark.parametrize(
    ("value", "unit", "decimals", "shown"),
    [
        (2.345, "%", 2, "2.35%"),
        (1250, "users", 0, "1,250 users"),
        (3.21, "s", 1, "3.2 s"),
        (7, "", 1, "7.0"),
        (None, "%", 1, "—"),
    ],
)
def test_values_are_formatted_with_unit_and_decimals(
    value: float | None, unit: str, decimals: int, shown: str
) -> None:
    assert format_value(value, unit, decimals) == shown


# ---------------------------------------------------------------- validity and PNG


@pytest.mark.parametrize(
    "build",
    [
        lambda: _chart(
            releases=[charts.ReleaseMarker("v1", dt.date(2026, 10, 20), ("we do X",))],
            hypothesis=charts.HypothesisWindow(dt.date(2026, 10, 20), 14, "v1", 2.1, 2.2),
        ),
        lambda: _chart(readings=[], kind="maintain", target=None, band_low=1.0, band_high=2.0),
        lambda: charts.sparkline(_readings(range(0, 20, 5))),
        lambda: charts.progress_bars([{"label": "A", "progress": 0.5, "health": "on_track"}]),
        lambda: charts.predictability_chart([{"team": "A", "percent": 90.0}], pooled=90.0),
        lambda: charts.health_mix_chart({}),
        lambda: charts.verdict_mix_chart({"measuring": 1}),
        lambda: charts.track_record_chart(TRACK),
        lambda: _chart(
            hypothesis=charts.HypothesisWindow(
                dt.date(2026, 10, 20), 14, "v1", 2.1, 2.2, trend_intercept=2.0, trend_slope=0.01
            )
        ),
    ],
    ids=[
        "target",
        "maintain-empty",
        "sparkline",
        "progress",
        "predictability",
        "health",
        "verdict",
        "track-record",
        "target-with-trend",
    ],
)
def test_every_builder_makes_a_valid_vega_lite_spec(build: Any) -> None:
    assert build().to_dict(validate=True)["$schema"].startswith("https://vega.github.io/")


def test_chart_png_renders_offline() -> None:
    png = charts.chart_png(charts.health_mix_chart({"on_track": 1}), scale=1)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


def test_reading_tooltip_shows_the_note_and_who_entered_it() -> None:
    readings = pd.DataFrame(
        {
            "date": [PI_START, PI_START + dt.timedelta(days=7)],
            "value": [2.1, 2.2],
            "note": ["<b>campaign</b> week", None],
            "entered_by": ["ana", "sync"],
        }
    )
    spec = _spec(_chart(readings=readings))
    layer = _layers(spec)["readings"]
    rows = _rows(spec, layer)
    assert [(r["note"], r["entered_by"]) for r in rows] == [
        ("<b>campaign</b> week", "ana"),  # text as entered: Vega's tooltip escapes it
        ("", "sync"),
    ]
    titles = {t["field"]: t["title"] for t in layer["encoding"]["tooltip"]}
    assert (titles["note"], titles["entered_by"]) == ("Note", "Entered by")


def test_averaged_points_carry_no_single_note() -> None:
    daily = _readings(range(0, 28)).assign(note="n", entered_by="ana")
    spec = _spec(_chart(readings=daily, max_points=7))
    layer = _layers(spec)["readings"]
    assert "note" not in _rows(spec, layer)[0]
    assert "note" not in {t["field"] for t in layer["encoding"]["tooltip"]}


def test_pre_release_trend_is_fitted_before_and_projected_after_the_release() -> None:
    # value = 2.0 + 0.01 x days from the release (20 Oct), window 28 days, as of 2 Nov
    window = charts.HypothesisWindow(
        dt.date(2026, 10, 20), 28, "v2.3", 2.2, 2.4, trend_intercept=2.0, trend_slope=0.01
    )
    spec = _spec(_chart(hypothesis=window))
    layers = _layers(spec)
    fitted = _rows(spec, layers["trend_fitted"])
    projected = _rows(spec, layers["trend_projected"])
    assert [(r["date"][:10], r["trend"]) for r in fitted] == [
        ("2026-09-22", pytest.approx(1.72)),
        ("2026-10-20", pytest.approx(2.0)),
    ]
    # across the after window as far as it has run (the as-of date)
    assert [(r["date"][:10], r["trend"]) for r in projected] == [
        ("2026-10-20", pytest.approx(2.0)),
        ("2026-11-02", pytest.approx(2.13)),
    ]
    assert layers["trend_projected"]["mark"]["strokeDash"] == [6, 3]


def test_no_trend_line_for_the_means_method() -> None:
    window = charts.HypothesisWindow(dt.date(2026, 10, 20), 28, "v2.3", 2.2, 2.4)
    layers = _layers(_spec(_chart(hypothesis=window)))
    assert not any(name.startswith("trend_") for name in layers)


TRACK = (
    PITrackRecord(pi="PI 26.2", start_date=dt.date(2026, 3, 30), end_date=dt.date(2026, 6, 5),
                  ended=True, pooled=72.0, mean_of_teams=70.0, outcomes=10, achieved=3,
                  share_achieved=0.3),
    PITrackRecord(pi="PI 26.3", start_date=dt.date(2026, 7, 6), end_date=dt.date(2026, 9, 11),
                  ended=True, pooled=91.5, mean_of_teams=90.0, outcomes=12, achieved=6,
                  share_achieved=0.5),
    PITrackRecord(pi="PI 26.4", start_date=dt.date(2026, 9, 14), end_date=dt.date(2026, 12, 4),
                  ended=False, pooled=None, mean_of_teams=None, outcomes=14, achieved=2,
                  share_achieved=2 / 14),
)  # fmt: skip


def test_track_record_draws_both_figures_per_pi_in_order() -> None:
    spec = _spec(charts.track_record_chart(TRACK))
    layers = _layers(spec)
    rows = _rows(spec, layers["series"])
    by_series: dict[str, list[tuple[str, float]]] = {}
    for row in rows:
        by_series.setdefault(row["series"], []).append((row["pi"], row["percent"]))
    assert by_series["Predictability (pooled)"] == [("PI 26.2", 72.0), ("PI 26.3", 91.5)]
    assert by_series["Outcomes achieved"] == [
        ("PI 26.2", 30.0),
        ("PI 26.3", 50.0),
        ("PI 26.4 (running)", pytest.approx(100 * 2 / 14)),
    ]
    assert layers["series"]["encoding"]["x"]["sort"] == ["PI 26.2", "PI 26.3", "PI 26.4 (running)"]
    band = _rows(spec, layers["healthy_band"])[0]
    assert (band["low"], band["high"]) == (80, 100)
    assert {r["text"] for r in _rows(spec, layers["labels"])} >= {"72%", "6 of 12 (50%)"}
