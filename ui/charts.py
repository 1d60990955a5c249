"""Altair chart builders for the dashboards: plain functions of plain values, no Streamlit.

Every builder returns an Altair chart, so tests read it through `chart.to_dict()` and a
page hands it to `st.altair_chart`. Builders only embed the rows they draw:
`st.altair_chart` ships a chart's whole data to the browser, so readings are clipped to
the shown window (and thinned past `max_points`) before charting.

Colours come from `ui.theme` (mid-tones that read on light and dark backgrounds). Text
marks get an explicit colour because Vega-Lite draws text black by default and Streamlit's
theme does not recolour marks; axes, titles and backgrounds are left to Streamlit's theme.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from core.format import format_percent, format_value
from core.model import (
    HypothesisEvidence,
    HypothesisSpec,
    MetricInfo,
    OutcomeStatus,
    ReleaseInfo,
    TargetSpec,
    TargetStatus,
)
from core.track_record import PITrackRecord
from ui.theme import (
    HEALTH_COLOR,
    HEALTH_ORDER,
    HEALTHY_BAND,
    SERIES_COLOR,
    TEXT_MUTED,
    VERDICT_COLOR,
    VERDICT_ORDER,
    health_label,
    verdict_label,
)

RELEASE_LABEL_CHARS = 36
# Per-reading text a chart's tooltip shows when the rows carry it: the note and who
# entered the value, so a spike can be explained without leaving the chart.
READING_DETAILS: tuple[str, ...] = ("note", "entered_by")
# Release labels stack in this many rows at the top of the chart so neighbours do not
# print over each other.
RELEASE_LABEL_ROWS = 3
RELEASE_ROW_PX = 14


@dataclass(frozen=True)
class ReleaseMarker:
    """A release drawn on a chart: its name, date and the short texts of its hypotheses."""

    name: str
    date: dt.date
    hypotheses: tuple[str, ...] = ()


@dataclass(frozen=True)
class HypothesisWindow:
    """The before/after windows of one hypothesis around its release date.

    `before_mean`/`after_mean` (from the verdict's evidence) draw the two means as level
    segments when given; `trend_*` the pre-release trend and its projection."""

    release_date: dt.date
    window_days: int
    release_name: str = ""
    before_mean: float | None = None
    after_mean: float | None = None
    # The verdict's least-squares pre-release line (value = intercept + slope x days from
    # the release), drawn across both windows when the trend method judged it.
    trend_intercept: float | None = None
    trend_slope: float | None = None

    def trend_value(self, day: dt.date | pd.Timestamp) -> float | None:
        """The pre-release line's value on `day` (projected past the release)."""
        if self.trend_intercept is None or self.trend_slope is None:
            return None
        days = (_timestamp(day) - _timestamp(self.release_date)).days
        return self.trend_intercept + self.trend_slope * days


# ---------------------------------------------------------------- adapters from core/


def release_markers(
    releases: Iterable[ReleaseInfo],
    hypotheses: Iterable[HypothesisSpec] = (),
    *,
    metric_id: int | None = None,
) -> tuple[ReleaseMarker, ...]:
    """Markers for a team's releases, each labelled with the hypotheses it shipped
    (only those about `metric_id` when given)."""
    texts: dict[int, list[str]] = {}
    for hypothesis in hypotheses:
        if hypothesis.release_id is None:
            continue
        if metric_id is not None and hypothesis.metric_id != metric_id:
            continue
        texts.setdefault(hypothesis.release_id, []).append(hypothesis.if_text)
    return tuple(
        ReleaseMarker(name=r.name, date=r.date, hypotheses=tuple(texts.get(r.id, ())))
        for r in releases
    )


def hypothesis_window(
    hypothesis: HypothesisSpec, evidence: HypothesisEvidence | None = None
) -> HypothesisWindow | None:
    """The windows to shade for a hypothesis; None until a release is linked."""
    if hypothesis.release_date is None:
        return None
    return HypothesisWindow(
        release_date=hypothesis.release_date,
        window_days=hypothesis.window_days,
        release_name=hypothesis.release_name or "",
        before_mean=evidence.before_mean if evidence else None,
        after_mean=evidence.after_mean if evidence else None,
        trend_intercept=evidence.trend_intercept if evidence else None,
        trend_slope=evidence.trend_slope if evidence else None,
    )


def forecast_value(
    forecast_progress: float | None, baseline: float | None, target: float | None
) -> float | None:
    """A forecast given as progress (as the rules return it) in metric units."""
    if forecast_progress is None or baseline is None or target is None:
        return None
    return baseline + forecast_progress * (target - baseline)


def target_chart_for(
    spec: TargetSpec,
    status: TargetStatus,
    metric: MetricInfo,
    readings: pd.DataFrame | Iterable[Any],
    *,
    as_of: dt.date,
    releases: Sequence[ReleaseMarker] = (),
    hypothesis: HypothesisWindow | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    **layout: Any,
) -> alt.LayerChart:
    """`target_chart` fed from the rules' values (the target's effective date and
    forecast come from its status)."""
    return target_chart(
        readings,
        as_of=as_of,
        metric=metric.name,
        unit=metric.unit,
        decimals=metric.decimals,
        kind=spec.kind,
        baseline=spec.baseline,
        baseline_date=spec.baseline_date,
        target=spec.target,
        target_date=status.target_date,
        band_low=spec.band_low,
        band_high=spec.band_high,
        forecast=forecast_value(status.forecast, spec.baseline, spec.target),
        releases=releases,
        hypothesis=hypothesis,
        start=start,
        end=end,
        **layout,
    )


# ---------------------------------------------------------------- shared helpers


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, dt.date):
        # With a time part, Vega-Lite reads the date in local time like Altair's own
        # frames; a bare "YYYY-MM-DD" would be read as UTC midnight.
        return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NaT or value is pd.NA:
        return None
    return value


def _chart(rows: pd.DataFrame | Sequence[Mapping[str, Any]], name: str | None = None) -> alt.Chart:
    """A chart over inline rows. Altair sanitises each pandas frame at about 8 ms a
    layer; plain JSON-ready rows cost microseconds, and a page draws many layers."""
    records = rows.to_dict("records") if isinstance(rows, pd.DataFrame) else rows
    values = [{key: _json_value(value) for key, value in row.items()} for row in records]
    if name is None:
        return alt.Chart(alt.InlineData(values=values))
    return alt.Chart(alt.InlineData(values=values), name=name)


def _timestamp(day: dt.date | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(day).normalize()


def _date_label(day: dt.date | pd.Timestamp) -> str:
    stamp = pd.Timestamp(day)
    return f"{stamp.day} {stamp:%b %Y}"


def _alt_date(day: pd.Timestamp) -> alt.DateTime:
    return alt.DateTime(year=day.year, month=day.month, date=day.day)


def readings_frame(readings: pd.DataFrame | Iterable[Any]) -> pd.DataFrame:
    """Readings as a frame of `date` (datetime64) and `value` (float), sorted by date,
    plus `note` and `entered_by` (text) when the input has them (the tooltip shows them).

    Takes a frame with those columns, or ReadingPoints, `(date, value)` pairs or
    mappings."""
    if isinstance(readings, pd.DataFrame):
        columns = ["date", "value", *(c for c in READING_DETAILS if c in readings.columns)]
        frame = readings.loc[:, columns].copy()
    else:
        rows = []
        for item in readings:
            if isinstance(item, Mapping):
                rows.append(
                    {"date": item["date"], "value": item["value"]}
                    | {c: item[c] for c in READING_DETAILS if c in item}
                )
            elif hasattr(item, "date") and hasattr(item, "value"):
                rows.append({"date": item.date, "value": item.value})
            else:
                day, value = item
                rows.append({"date": day, "value": value})
        frame = pd.DataFrame(rows, columns=None if rows else ["date", "value"])
    for column in READING_DETAILS:
        if column in frame.columns:
            frame[column] = frame[column].fillna("").astype(str)
    frame["date"] = pd.to_datetime(frame["date"]).dt.normalize()
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    frame = frame.loc[np.isfinite(frame["value"].to_numpy())]
    return frame.sort_values("date", kind="stable").reset_index(drop=True)


def thin_readings(frame: pd.DataFrame, max_points: int) -> pd.DataFrame:
    """At most `max_points` rows: equal-width date bins, each the mean of its readings,
    placed at its latest date (so the last point is still the latest reading)."""
    if len(frame) <= max_points or max_points < 1:
        return frame.assign(count=1)
    # A point averaged from several readings has no single note or author.
    frame = frame.drop(columns=[c for c in READING_DETAILS if c in frame.columns])
    first = frame["date"].iloc[0]
    span_days = max((frame["date"].iloc[-1] - first).days, 1)
    bin_days = math.ceil((span_days + 1) / max_points)
    bins = (frame["date"] - first).dt.days // bin_days
    grouped = frame.groupby(bins, sort=True).agg(
        date=("date", "max"), value=("value", "mean"), count=("value", "size")
    )
    return grouped.reset_index(drop=True)


def _truncate(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _release_label(marker: ReleaseMarker) -> str:
    if not marker.hypotheses:
        return _truncate(marker.name, RELEASE_LABEL_CHARS)
    return _truncate(f"{marker.name}: {'; '.join(marker.hypotheses)}", RELEASE_LABEL_CHARS)


def _px(expression: str) -> alt.ExprRef:
    """A pixel position from the plot's size, so it holds when the page stretches a chart
    to its container."""
    return alt.ExprRef(expression)


def _value_format(decimals: int) -> str:
    return f",.{max(decimals, 0)}f"


def _rows(rows: pd.DataFrame | Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    return rows.copy() if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))


def _clean(value: Any) -> float | None:
    """A number, or None for missing/NaN (frames turn None into NaN)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


# ---------------------------------------------------------------- target chart

# Line series share one legend: colour and dash both keyed by the series name.
_SERIES_STYLE: dict[str, tuple[str, list[int]]] = {
    "Readings": (SERIES_COLOR["readings"], [1, 0]),
    "Target": (SERIES_COLOR["target"], [1, 0]),
    "Baseline": (SERIES_COLOR["baseline"], [2, 3]),
    "Expected path": (SERIES_COLOR["expected"], [7, 4]),
    "Forecast": (SERIES_COLOR["forecast"], [4, 4]),
    "Pre-release trend": (SERIES_COLOR["trend"], [1, 0]),
}


def target_chart(
    readings: pd.DataFrame | Iterable[Any],
    *,
    as_of: dt.date,
    metric: str,
    unit: str = "",
    decimals: int = 1,
    kind: str = "increase",
    baseline: float | None = None,
    baseline_date: dt.date | None = None,
    target: float | None = None,
    target_date: dt.date | None = None,
    band_low: float | None = None,
    band_high: float | None = None,
    forecast: float | None = None,
    releases: Sequence[ReleaseMarker | ReleaseInfo] = (),
    hypothesis: HypothesisWindow | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    title: str | None = None,
    width: int = 640,
    height: int = 300,
    max_points: int = 400,
) -> alt.LayerChart:
    """One target's metric over time, as it stood on `as_of`.

    Draws the readings, baseline, target (a band for `maintain`), the expected straight
    path from baseline to target, the forecast (`forecast` is the metric's value
    forecast at the target date, in metric units) as a dashed line from the last reading,
    release markers labelled with their hypotheses, an "as of" marker and, for a selected
    hypothesis, its before/after windows. The x axis runs from `start` (default: the
    baseline date) to `end` (default: the later of the target date and `as_of`); only
    readings inside it and not after `as_of` are embedded."""
    as_of_ts = _timestamp(as_of)
    x_start, x_end = _target_window(as_of_ts, baseline_date, target_date, start, end, hypothesis)
    shown_end = min(x_end, as_of_ts)

    frame = readings_frame(readings)
    frame = frame[(frame["date"] >= x_start) & (frame["date"] <= shown_end)]
    frame = thin_readings(frame, max_points)

    has_band = kind == "maintain" and band_low is not None and band_high is not None
    present: list[str] = []
    if not frame.empty:
        present.append("Readings")
    if target is not None and not has_band:
        present.append("Target")
    if baseline is not None:
        present.append("Baseline")
    expected_ok = (
        kind != "maintain"
        and None not in (baseline, baseline_date, target, target_date)
        and target_date != baseline_date
    )
    if expected_ok:
        present.append("Expected path")
    forecast_ok = forecast is not None and target_date is not None and not frame.empty
    if forecast_ok:
        present.append("Forecast")
    trend_ok = (
        hypothesis is not None
        and hypothesis.trend_intercept is not None
        and hypothesis.trend_slope is not None
    )
    if trend_ok:
        present.append("Pre-release trend")

    x_scale = alt.Scale(domain=[_alt_date(x_start), _alt_date(x_end)])
    x = alt.X(
        "date:T",
        title=None,
        scale=x_scale,
        axis=alt.Axis(format="%-d %b", labelOverlap=True, grid=False),
    )
    y_title = f"{metric} ({unit})" if unit else metric
    markers = [_as_marker(r) for r in releases]
    markers = [m for m in markers if x_start <= _timestamp(m.date) <= shown_end]
    levels = [*frame["value"], baseline, None if has_band else target]
    levels += [band_low if has_band else None]
    levels += [band_high if has_band else None, forecast if forecast_ok else None]
    if hypothesis is not None:
        levels += [hypothesis.before_mean, hypothesis.after_mean]
        levels += [hypothesis.trend_value(day) for day in _trend_span(hypothesis, as_of_ts)]
    # Strips at the top (release labels) and bottom (as-of and window labels) are kept
    # clear of data, so no label prints over a line.
    label_rows = min(len(markers), RELEASE_LABEL_ROWS)
    top_px = label_rows * RELEASE_ROW_PX + (4 if label_rows else 0)
    bottom_px = 16 + (16 if hypothesis is not None else 0)
    y_scale = _level_scale(levels, height, top_px=top_px, bottom_px=bottom_px)
    y = alt.Y(
        "value:Q",
        title=y_title,
        scale=y_scale,
        axis=alt.Axis(format=_value_format(decimals)),
    )
    # Colour and dash share one legend (same field, same title), so its symbols show dashes.
    legend = (
        alt.Legend(title=None, orient="bottom", symbolType="stroke", symbolStrokeWidth=2)
        if present
        else None
    )
    series_color = alt.Color(
        "series:N",
        scale=alt.Scale(domain=present, range=[_SERIES_STYLE[name][0] for name in present]),
        legend=legend,
    )
    series_dash = alt.StrokeDash(
        "series:N",
        scale=alt.Scale(domain=present, range=[_SERIES_STYLE[name][1] for name in present]),
        legend=legend,
    )

    def fmt(value: float | None) -> str:
        return format_value(value, unit, decimals)

    layers: list[alt.Chart] = []

    if hypothesis is not None:
        layers.extend(_window_layers(hypothesis, as_of_ts, x_scale, y_title, fmt))
        layers.extend(
            _trend_layers(hypothesis, as_of_ts, x_scale, y_scale, y_title, fmt, series_color)
        )

    if has_band:
        band = pd.DataFrame(
            {
                "low": [band_low],
                "high": [band_high],
                "label": [f"Keep between {fmt(band_low)} and {fmt(band_high)}"],
            }
        )
        layers.append(
            _chart(band, name="target_band")
            .mark_rect(color=SERIES_COLOR["target"], opacity=0.15)
            .encode(
                y=alt.Y("low:Q", scale=y_scale, title=y_title),
                y2="high:Q",
                tooltip=[alt.Tooltip("label:N", title="Target")],
            )
        )
        layers.append(
            _chart(band, name="target_band_label")
            .mark_text(align="left", baseline="bottom", dx=4, dy=-3, color=TEXT_MUTED)
            .encode(x=alt.value(0), y=alt.Y("high:Q", title=y_title), text="label:N")
        )

    for name, value, layer_name in (
        ("Baseline", baseline, "baseline"),
        ("Target", None if has_band else target, "target"),
    ):
        if value is None:
            continue
        level = pd.DataFrame(
            {"series": [name], "value": [value], "label": [f"{name} {fmt(value)}"]}
        )
        layers.append(
            _chart(level, name=layer_name)
            .mark_rule(strokeWidth=2.5 if name == "Target" else 1.5)
            .encode(
                y=y,
                color=series_color,
                strokeDash=series_dash,
                tooltip=[alt.Tooltip("label:N", title=name)],
            )
        )
        layers.append(
            _chart(level, name=f"{layer_name}_label")
            .mark_text(align="right", baseline="bottom", dx=-4, dy=-3, color=TEXT_MUTED)
            .encode(x=alt.value(_px("width")), y=y, text="label:N")
        )

    if expected_ok:
        path = pd.DataFrame(
            {
                "series": ["Expected path"] * 2,
                "date": [_timestamp(baseline_date), _timestamp(target_date)],
                "value": [baseline, target],
            }
        )
        layers.append(
            _chart(path, name="expected")
            .mark_line(strokeWidth=1.5, clip=True)
            .encode(x=x, y=y, color=series_color, strokeDash=series_dash)
        )

    if markers:
        layers.extend(_release_layers(markers, x_start, x_end, x))

    if x_start <= as_of_ts <= x_end:
        layers.extend(_as_of_layers(as_of_ts, x_start, x_end, x, height))

    if forecast_ok:
        last = frame.iloc[-1]
        forecast_frame = pd.DataFrame(
            {
                "series": ["Forecast"] * 2,
                "date": [last["date"], _timestamp(target_date)],
                "value": [float(last["value"]), forecast],
                "label": ["", f"{fmt(forecast)} on {_date_label(target_date)}"],
            }
        )
        layers.append(
            _chart(forecast_frame, name="forecast")
            .mark_line(strokeWidth=2, clip=True)
            .encode(
                x=x,
                y=y,
                color=series_color,
                strokeDash=series_dash,
                tooltip=[alt.Tooltip("label:N", title="Forecast")],
            )
        )

    if not frame.empty:
        shown = frame.assign(
            series="Readings",
            day=frame["date"].map(_date_label),
            shown_value=frame["value"].map(fmt),
        )
        tooltip = [
            alt.Tooltip("day:N", title="Date"),
            alt.Tooltip("shown_value:N", title=metric),
        ]
        if (shown["count"] > 1).any():
            tooltip.append(alt.Tooltip("count:Q", title="Readings averaged"))
        # Vega's tooltip shows these as plain text (it escapes HTML), never as markup.
        if "note" in shown.columns:
            tooltip.append(alt.Tooltip("note:N", title="Note"))
        if "entered_by" in shown.columns:
            tooltip.append(alt.Tooltip("entered_by:N", title="Entered by"))
        base = _chart(shown, name="readings").encode(x=x, y=y, tooltip=tooltip)
        layers.append(
            # Dense series keep small dots: still hoverable, less ink.
            base.mark_line(
                strokeWidth=2,
                point=alt.OverlayMarkDef(size=36 if len(shown) <= 40 else 10, filled=True),
            ).encode(color=series_color, strokeDash=series_dash)
        )
    else:
        empty = pd.DataFrame({"text": ["No readings yet"]})
        layers.append(
            _chart(empty, name="no_readings")
            .mark_text(fontSize=14, color=TEXT_MUTED)
            .encode(x=alt.value(_px("width / 2")), y=alt.value(_px("height / 2")), text="text:N")
        )

    subtitle = _target_subtitle(
        kind=kind,
        target=target,
        target_date=target_date,
        band_low=band_low,
        band_high=band_high,
        baseline=baseline,
        as_of=as_of_ts,
        fmt=fmt,
    )
    chart = alt.layer(*layers).properties(
        width=width,
        height=height,
        title=alt.Title(title or metric, subtitle=subtitle, anchor="start"),
    )
    return chart


def _level_scale(
    levels: Sequence[float | None], height: int, *, top_px: int, bottom_px: int
) -> alt.Scale:
    """A y scale whose domain leaves `top_px`/`bottom_px` free above/below the data (plus
    a small margin, so a level on the edge, often the baseline, clears the axis)."""
    values = [v for v in (_clean(level) for level in levels) if v is not None]
    if not values:
        return alt.Scale(zero=False, nice=True)
    low, high = min(values), max(values)
    if high == low:
        spread = abs(high) * 0.1 or 1.0
        low, high = low - spread, high + spread
    margin_px = 10
    usable_px = max(height - top_px - bottom_px - 2 * margin_px, height / 3)
    per_px = (high - low) / usable_px
    return alt.Scale(
        zero=False,
        nice=False,
        domain=[low - (bottom_px + margin_px) * per_px, high + (top_px + margin_px) * per_px],
    )


def _target_window(
    as_of: pd.Timestamp,
    baseline_date: dt.date | None,
    target_date: dt.date | None,
    start: dt.date | None,
    end: dt.date | None,
    hypothesis: HypothesisWindow | None,
) -> tuple[pd.Timestamp, pd.Timestamp]:
    if start is not None:
        x_start = _timestamp(start)
    elif baseline_date is not None:
        x_start = _timestamp(baseline_date)
    else:
        x_start = as_of - pd.Timedelta(days=90)
    if end is not None:
        x_end = _timestamp(end)
    elif target_date is not None:
        x_end = max(_timestamp(target_date), as_of)
    else:
        x_end = as_of
    if hypothesis is not None and start is None:
        # A selected hypothesis's "before" window must be visible to be compared.
        before_start = _timestamp(hypothesis.release_date) - pd.Timedelta(
            days=hypothesis.window_days
        )
        x_start = min(x_start, before_start)
    if x_end <= x_start:
        x_end = x_start + pd.Timedelta(days=1)
    return x_start, x_end


def _as_marker(release: ReleaseMarker | ReleaseInfo) -> ReleaseMarker:
    if isinstance(release, ReleaseMarker):
        return release
    return ReleaseMarker(name=release.name, date=release.date)


def _release_layers(
    markers: list[ReleaseMarker], x_start: pd.Timestamp, x_end: pd.Timestamp, x: alt.X
) -> list[alt.Chart]:
    markers = sorted(markers, key=lambda m: m.date)
    span = max((x_end - x_start).days, 1)
    rows = []
    for index, marker in enumerate(markers):
        day = _timestamp(marker.date)
        rows.append(
            {
                "date": day,
                "name": marker.name,
                "day": _date_label(day),
                "hypotheses": "; ".join(marker.hypotheses) or "none linked",
                "label": _release_label(marker),
                "row_px": 2 + (index % RELEASE_LABEL_ROWS) * RELEASE_ROW_PX,
                # Labels right of the middle are written leftwards so they stay inside.
                "right_half": (day - x_start).days / span > 0.6,
            }
        )
    frame = pd.DataFrame(rows)
    layers: list[alt.Chart] = [
        _chart(frame, name="releases")
        .mark_rule(color=SERIES_COLOR["release"], strokeWidth=1.5, strokeDash=[1, 2])
        .encode(
            x=x,
            tooltip=[
                alt.Tooltip("name:N", title="Release"),
                alt.Tooltip("day:N", title="Date"),
                alt.Tooltip("hypotheses:N", title="Hypotheses"),
            ],
        )
    ]
    # One text layer per (row, side): a text's pixel row cannot come from a data field
    # on a chart whose y scale holds metric values.
    groups = frame.groupby(["row_px", "right_half"], sort=True)
    for (row_px, right), part in groups:
        layers.append(
            _chart(part, name=f"release_labels_{row_px}_{'right' if right else 'left'}")
            .mark_text(
                align="right" if right else "left",
                baseline="top",
                dx=-4 if right else 4,
                fontSize=11,
                color=TEXT_MUTED,
            )
            .encode(x=x, y=alt.value(int(row_px)), text="label:N")
        )
    return layers


def _as_of_layers(
    as_of: pd.Timestamp, x_start: pd.Timestamp, x_end: pd.Timestamp, x: alt.X, height: int
) -> list[alt.Chart]:
    span = max((x_end - x_start).days, 1)
    right = (as_of - x_start).days / span > 0.5
    frame = pd.DataFrame({"date": [as_of], "label": [f"as of {_date_label(as_of)}"]})
    return [
        _chart(frame, name="as_of")
        .mark_rule(color=SERIES_COLOR["as_of"], strokeWidth=1, strokeDash=[2, 2])
        .encode(x=x, tooltip=[alt.Tooltip("label:N", title="Shown")]),
        _chart(frame, name="as_of_label")
        .mark_text(
            align="right" if right else "left",
            baseline="bottom",
            dx=-4 if right else 4,
            dy=-3,
            fontSize=11,
            color=TEXT_MUTED,
        )
        .encode(x=x, y=alt.value(_px("height")), text="label:N"),
    ]


def _window_layers(
    hypothesis: HypothesisWindow,
    as_of: pd.Timestamp,
    x_scale: alt.Scale,
    y_title: str,
    fmt: Any,
) -> list[alt.Chart]:
    release = _timestamp(hypothesis.release_date)
    window = pd.Timedelta(days=hypothesis.window_days)
    # Same windows as the verdict rule: before [R - W, R), after (R, min(R + W, as_of)].
    rows = [
        {
            "side": "before",
            "start": release - window,
            "end": release,
            "label": "Before",
            "mean": hypothesis.before_mean,
        }
    ]
    after_end = min(release + window, as_of)
    if after_end > release:
        rows.append(
            {
                "side": "after",
                "start": release,
                "end": after_end,
                "label": "After",
                "mean": hypothesis.after_mean,
            }
        )
    layers: list[alt.Chart] = []
    for row in rows:
        side = row["side"]
        name = hypothesis.release_name or "the release"
        frame = pd.DataFrame(
            [
                {
                    "start": row["start"],
                    "end": row["end"],
                    "label": row["label"]
                    + ("" if row["mean"] is None else f": mean {fmt(row['mean'])}"),
                    "span": f"{_date_label(row['start'])} – {_date_label(row['end'])}",
                    "what": f"{row['label']} {name}",
                    "mean": row["mean"],
                    "mean_label": fmt(row["mean"]),
                }
            ]
        )
        layers.append(
            _chart(frame, name=f"window_{side}")
            .mark_rect(color=SERIES_COLOR[f"window_{side}"], opacity=0.14, clip=True)
            .encode(
                x=alt.X("start:T", scale=x_scale, title=None),
                x2="end:T",
                tooltip=[
                    alt.Tooltip("what:N", title="Window"),
                    alt.Tooltip("span:N", title="Dates"),
                    alt.Tooltip("mean_label:N", title="Mean"),
                ],
            )
        )
        layers.append(
            _chart(frame, name=f"window_{side}_label")
            .mark_text(baseline="bottom", dy=-18, fontSize=11, color=TEXT_MUTED, clip=True)
            .encode(
                x=alt.X("mid:T", scale=x_scale, title=None),
                y=alt.value(_px("height")),
                text="label:N",
            )
            .transform_calculate(mid="(toDate(datum.start) + toDate(datum.end)) / 2")
        )
        if row["mean"] is not None:
            layers.append(
                _chart(frame, name=f"window_{side}_mean")
                .mark_rule(color=SERIES_COLOR["release"], strokeWidth=2.5, clip=True)
                .encode(
                    x=alt.X("start:T", scale=x_scale, title=None),
                    x2="end:T",
                    y=alt.Y("mean:Q", title=y_title),
                    tooltip=[
                        alt.Tooltip("what:N", title="Window"),
                        alt.Tooltip("mean_label:N", title="Mean"),
                    ],
                )
            )
    return layers


def _trend_span(hypothesis: HypothesisWindow, as_of: pd.Timestamp) -> tuple[pd.Timestamp, ...]:
    """Start of the before window, the release, and the end of the after window so far."""
    release = _timestamp(hypothesis.release_date)
    window = pd.Timedelta(days=hypothesis.window_days)
    return (release - window, release, max(release, min(release + window, as_of)))


def _trend_layers(
    hypothesis: HypothesisWindow,
    as_of: pd.Timestamp,
    x_scale: alt.Scale,
    y_scale: alt.Scale,
    y_title: str,
    fmt: Any,
    series_color: alt.Color,
) -> list[alt.Chart]:
    """The pre-release least-squares line over the before window (solid) and projected
    across the after window (dashed): where the metric was heading without the release,
    which the verdict's effect is measured against."""
    if hypothesis.trend_intercept is None or hypothesis.trend_slope is None:
        return []
    start, release, end = _trend_span(hypothesis, as_of)
    rows = []
    for part, (a, b) in (("fitted", (start, release)), ("projected", (release, end))):
        for day in (a, b):
            value = hypothesis.trend_value(day)
            rows.append(
                {
                    "part": part,
                    "series": "Pre-release trend",
                    "date": day,
                    "trend": value,
                    "what": "Pre-release trend"
                    + (" (projected)" if part == "projected" else " (fitted)"),
                    "day": _date_label(day),
                    "shown": fmt(value),
                }
            )
    frame = pd.DataFrame(rows)
    return [
        _chart(frame[frame["part"] == part], name=f"trend_{part}")
        .mark_line(strokeWidth=2, strokeDash=[1, 0] if part == "fitted" else [6, 3], clip=True)
        .encode(
            x=alt.X("date:T", scale=x_scale, title=None),
            y=alt.Y("trend:Q", title=y_title, scale=y_scale),
            # In the legend with the other series; the dash tells fitted from projected.
            color=series_color,
            tooltip=[
                alt.Tooltip("what:N", title="Line"),
                alt.Tooltip("day:N", title="Date"),
                alt.Tooltip("shown:N", title="Value"),
            ],
        )
        for part in ("fitted", "projected")
    ]


def _target_subtitle(
    *,
    kind: str,
    target: float | None,
    target_date: dt.date | None,
    band_low: float | None,
    band_high: float | None,
    baseline: float | None,
    as_of: pd.Timestamp,
    fmt: Any,
) -> str:
    by = f" by {_date_label(target_date)}" if target_date else ""
    if kind == "maintain" and band_low is not None and band_high is not None:
        goal = f"Keep between {fmt(band_low)} and {fmt(band_high)}{by}"
    elif target is not None:
        verb = {"increase": "Raise", "decrease": "Lower"}.get(kind, "Reach")
        origin = f" from {fmt(baseline)}" if baseline is not None else ""
        goal = f"{verb}{origin} to {fmt(target)}{by}"
    else:
        goal = "No target value set yet"
    return f"{goal} · as of {_date_label(as_of)}"


# ---------------------------------------------------------------- sparkline


def sparkline(
    readings: pd.DataFrame | Iterable[Any],
    *,
    as_of: dt.date | None = None,
    start: dt.date | None = None,
    health: str | None = None,
    unit: str = "",
    decimals: int = 1,
    max_points: int = 40,
    width: int = 140,
    height: int = 36,
) -> alt.LayerChart:
    """A tiny line of a target's most recent readings (up to `as_of`), no axes; the last
    reading is a dot, coloured by the target's health when given."""
    frame = readings_frame(readings)
    if start is not None:
        frame = frame[frame["date"] >= _timestamp(start)]
    if as_of is not None:
        frame = frame[frame["date"] <= _timestamp(as_of)]
    frame = frame.tail(max_points)
    color = HEALTH_COLOR.get(health or "", SERIES_COLOR["readings"])
    if frame.empty:
        empty = pd.DataFrame({"text": ["no readings"]})
        chart = alt.layer(
            _chart(empty, name="no_readings")
            .mark_text(fontSize=10, color=TEXT_MUTED)
            .encode(x=alt.value(_px("width / 2")), y=alt.value(_px("height / 2")), text="text:N")
        )
    else:
        shown = frame.assign(
            day=frame["date"].map(_date_label),
            shown_value=frame["value"].map(lambda v: format_value(v, unit, decimals)),
        )
        x = alt.X("date:T", axis=None)
        y = alt.Y("value:Q", axis=None, scale=alt.Scale(zero=False))
        tooltip = [alt.Tooltip("day:N", title="Date"), alt.Tooltip("shown_value:N", title="Value")]
        chart = alt.layer(
            _chart(shown, name="readings")
            .mark_line(color=SERIES_COLOR["readings"], strokeWidth=1.5)
            .encode(x=x, y=y, tooltip=tooltip),
            _chart(shown.tail(1), name="latest")
            .mark_point(filled=True, size=30, color=color, opacity=1)
            .encode(x=x, y=y, tooltip=tooltip),
        )
    return chart.properties(width=width, height=height).configure_view(strokeWidth=0)


# ---------------------------------------------------------------- progress bars


def progress_rows(items: Iterable[TargetStatus | OutcomeStatus]) -> list[dict[str, Any]]:
    """Rows for `progress_bars` from the rules' statuses: a target is labelled by its
    metric and keeps its raw progress and expected progress; an outcome by key and title
    with its (already clamped) mean progress."""
    rows = []
    for item in items:
        if isinstance(item, TargetStatus):
            rows.append(
                {
                    "label": item.metric,
                    "progress": item.progress_raw,
                    "expected": item.expected,
                    "health": item.health,
                }
            )
        else:
            rows.append(
                {
                    "label": f"{item.key} {item.title}",
                    "progress": item.progress,
                    "expected": None,
                    "health": item.health,
                }
            )
    return rows


def progress_bars(
    rows: pd.DataFrame | Iterable[Mapping[str, Any]],
    *,
    title: str | None = None,
    width: int = 360,
    row_height: int = 26,
    label_width: int = 220,
) -> alt.LayerChart:
    """Horizontal progress bars, one per row, in the given order.

    Each row has `label`, `progress` (raw: clamped to 0..1 here; None when no current
    value), optional `expected` (0..1, drawn as a tick) and `health` (a code). The
    health word and percent are written beside each bar."""
    frame = _rows(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=["label", "progress", "expected", "health"])
    for column in ("progress", "expected"):
        if column not in frame:
            frame[column] = None
    frame["health"] = frame.get("health", pd.Series(["no_data"] * len(frame))).fillna("no_data")
    labels: list[str] = []
    seen: dict[str, int] = {}
    for label in frame["label"].astype(str):
        # Equal labels would share one bar on a nominal axis.
        seen[label] = seen.get(label, 0) + 1
        labels.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    progress = [_clean(v) for v in frame["progress"]]
    expected = [_clean(v) for v in frame["expected"]]
    clamped = [None if p is None else min(max(p, 0.0), 1.0) for p in progress]
    words = [health_label(h) for h in frame["health"]]
    data = pd.DataFrame(
        {
            "label": labels,
            "progress": clamped,
            "expected": [None if e is None else min(max(e, 0.0), 1.0) for e in expected],
            "health": list(frame["health"]),
            "health_word": words,
            "track": [1.0] * len(labels),
            "summary": [
                f"{format_percent(p)} · {w}" if p is not None else w
                for p, w in zip(progress, words, strict=True)
            ],
            "progress_text": [format_percent(p) for p in progress],
            "expected_text": [format_percent(e) for e in expected],
        }
    )
    y = alt.Y(
        "label:N",
        sort=labels,
        title=None,
        axis=alt.Axis(labelLimit=label_width, labelPadding=6),
    )
    x_scale = alt.Scale(domain=[0, 1], clamp=True)
    tooltip = [
        alt.Tooltip("label:N", title="Target"),
        alt.Tooltip("progress_text:N", title="Progress"),
        alt.Tooltip("expected_text:N", title="Expected by now"),
        alt.Tooltip("health_word:N", title="Health"),
    ]
    health_colors = alt.Color(
        "health:N",
        scale=alt.Scale(domain=list(HEALTH_ORDER), range=[HEALTH_COLOR[h] for h in HEALTH_ORDER]),
        legend=None,
    )
    base = _chart(data)
    layers = [
        base.mark_bar(color=SERIES_COLOR["track"], opacity=0.18, cornerRadius=2)
        .encode(
            x=alt.X(
                "track:Q",
                scale=x_scale,
                title="Progress toward target (tick: expected by now)",
                axis=alt.Axis(format="%", tickCount=5),
            ),
            y=y,
            tooltip=tooltip,
        )
        .properties(name="track")
    ]
    # A layer whose filter leaves no row is drawn by Vega as an empty mark group that
    # screen readers meet as an image without a name (axe: svg-img-alt, serious): once no
    # target has an expected-by-now value (after its PI, say), the ticks are left out.
    if data["progress"].notna().any():
        layers.append(
            base.transform_filter("isValid(datum.progress)")
            .mark_bar(cornerRadius=2)
            .encode(x=alt.X("progress:Q", scale=x_scale), y=y, color=health_colors, tooltip=tooltip)
            .properties(name="progress")
        )
    if data["expected"].notna().any():
        layers.append(
            base.transform_filter("isValid(datum.expected)")
            .mark_tick(color=TEXT_MUTED, thickness=2, size=row_height * 0.8)
            .encode(x=alt.X("expected:Q", scale=x_scale), y=y, tooltip=tooltip)
            .properties(name="expected")
        )
    layers.append(
        base.mark_text(align="left", baseline="middle", dx=6, color=TEXT_MUTED, fontWeight="bold")
        .encode(x=alt.datum(1), y=y, text="summary:N")
        .properties(name="health_words")
    )
    chart = alt.layer(*layers).properties(
        width=width, height=alt.Step(row_height) if len(labels) else row_height
    )
    if title:
        chart = chart.properties(title=title)
    return chart


# ---------------------------------------------------------------- predictability


def predictability_chart(
    teams: pd.DataFrame | Iterable[Mapping[str, Any]],
    *,
    pooled: float | None = None,
    mean_of_teams: float | None = None,
    train_label: str = "Train (pooled)",
    width: int = 420,
    row_height: int = 30,
) -> alt.LayerChart:
    """Planned vs actual business value as a percent per team, with the healthy 80-100
    band shaded, a 100% rule and the train's pooled figure as its own bar.

    Rows have `team`, `percent` (None when nothing committed is planned or not yet
    scored), and optional `planned_bv`, `actual_bv`, `not_yet_scored`."""
    frame = _rows(teams)
    rows = []
    for record in frame.to_dict("records"):
        percent = _clean(record.get("percent"))
        planned = _clean(record.get("planned_bv"))
        actual = _clean(record.get("actual_bv"))
        waiting = int(_clean(record.get("not_yet_scored")) or 0)
        rows.append(
            _predictability_row(str(record["team"]), percent, planned, actual, waiting, "team")
        )
    rows.append(_predictability_row(train_label, _clean(pooled), None, None, 0, "train"))
    data = pd.DataFrame(rows)
    order = list(data["team"])
    top = max([120.0, *[p * 1.15 for p in data["percent"].dropna()]])
    x_scale = alt.Scale(domain=[0, top], nice=False)
    y = alt.Y("team:N", sort=order, title=None, axis=alt.Axis(labelLimit=200, labelPadding=6))
    low, high = HEALTHY_BAND
    band = pd.DataFrame({"low": [low], "high": [high], "label": ["healthy"]})
    tooltip = [
        alt.Tooltip("team:N", title="Team"),
        alt.Tooltip("text:N", title="Predictability"),
        alt.Tooltip("scores:N", title="Actual / planned"),
    ]
    layers = [
        _chart(band, name="healthy_band")
        .mark_rect(color=HEALTH_COLOR["on_track"], opacity=0.15)
        .encode(
            x=alt.X("low:Q", scale=x_scale, title="Actual business value as % of planned"),
            x2="high:Q",
        ),
        _chart(band, name="healthy_label")
        .mark_text(baseline="bottom", dy=-4, color=TEXT_MUTED, fontWeight="bold")
        .encode(
            x=alt.X("mid:Q", scale=x_scale),
            y=alt.value(0),
            text="label:N",
        )
        .transform_calculate(mid="(datum.low + datum.high) / 2"),
        _chart(pd.DataFrame({"x": [100.0]}), name="full_rule")
        .mark_rule(color=TEXT_MUTED, strokeWidth=1.5)
        .encode(x=alt.X("x:Q", scale=x_scale)),
        _chart(data, name="bars")
        .transform_filter("isValid(datum.percent)")
        .mark_bar(cornerRadius=2, height={"band": 0.7})
        .encode(
            x=alt.X("percent:Q", scale=x_scale),
            y=y,
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(
                    domain=["team", "train"],
                    range=[SERIES_COLOR["bar"], SERIES_COLOR["release"]],
                ),
                legend=None,
            ),
            tooltip=tooltip,
        ),
        _chart(data, name="bar_labels")
        .mark_text(align="left", baseline="middle", dx=5, color=TEXT_MUTED)
        .encode(
            x=alt.X("label_x:Q", scale=x_scale),
            y=y,
            text="text:N",
            tooltip=tooltip,
        )
        .transform_calculate(label_x="isValid(datum.percent) ? datum.percent : 0"),
    ]
    parts = []
    if pooled is not None:
        parts.append(f"{pooled:.0f}% pooled")
    if mean_of_teams is not None:
        parts.append(f"{mean_of_teams:.0f}% mean of teams")
    subtitle = ("Train: " + " · ".join(parts) + " · " if parts else "") + (
        f"healthy band {low:.0f}–{high:.0f}%"
    )
    return alt.layer(*layers).properties(
        width=width,
        height=alt.Step(row_height),
        title=alt.Title("Predictability", subtitle=subtitle, anchor="start"),
    )


def track_record_chart(
    records: Sequence[PITrackRecord], *, width: int = 560, height: int = 260
) -> alt.LayerChart:
    """A train's last PIs, oldest first: pooled predictability and the share of its team
    outcomes achieved, both as percents on one axis, over the healthy 80-100 band. A PI
    still running is marked "(running)" and has no predictability yet. Each series has
    its own colour and dash, and every point its figure in the tooltip."""
    rows = []
    order = []
    for record in records:
        label = record.pi + ("" if record.ended else " (running)")
        order.append(label)
        for series, value, text in (
            (
                "Predictability (pooled)",
                record.pooled,
                "not yet scored" if record.pooled is None else f"{record.pooled:.0f}%",
            ),
            (
                "Outcomes achieved",
                None if record.share_achieved is None else record.share_achieved * 100,
                f"{record.achieved} of {record.outcomes}"
                + (
                    ""
                    if record.share_achieved is None
                    else f" ({record.share_achieved * 100:.0f}%)"
                ),
            ),
        ):
            rows.append({"pi": label, "series": series, "percent": value, "text": text})
    data = pd.DataFrame(rows, columns=["pi", "series", "percent", "text"])
    top = max([120.0, *[p * 1.1 for p in data["percent"].dropna()]])
    y_scale = alt.Scale(domain=[0, top], nice=False)
    x = alt.X("pi:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=140))
    names = ["Predictability (pooled)", "Outcomes achieved"]
    color = alt.Color(
        "series:N",
        scale=alt.Scale(domain=names, range=[SERIES_COLOR["readings"], SERIES_COLOR["target"]]),
        legend=alt.Legend(title=None, orient="bottom", symbolType="stroke"),
    )
    dash = alt.StrokeDash(
        "series:N",
        scale=alt.Scale(domain=names, range=[[1, 0], [6, 3]]),
        legend=alt.Legend(title=None, orient="bottom", symbolType="stroke"),
    )
    low, high = HEALTHY_BAND
    band = pd.DataFrame({"low": [low], "high": [high], "label": ["healthy predictability"]})
    tooltip = [
        alt.Tooltip("pi:N", title="PI"),
        alt.Tooltip("series:N", title="Figure"),
        alt.Tooltip("text:N", title="Value"),
    ]
    shown = data[data["percent"].notna()]
    layers = [
        _chart(band, name="healthy_band")
        .mark_rect(color=HEALTH_COLOR["on_track"], opacity=0.15)
        .encode(
            y=alt.Y("low:Q", scale=y_scale, title="Percent"),
            y2="high:Q",
        ),
        _chart(band, name="healthy_label")
        .mark_text(align="left", baseline="bottom", dx=4, dy=-2, color=TEXT_MUTED)
        .encode(x=alt.value(0), y=alt.Y("high:Q", scale=y_scale), text="label:N"),
        _chart(shown, name="series")
        .mark_line(strokeWidth=2.5, point=alt.OverlayMarkDef(size=60, filled=True))
        .encode(
            x=x,
            y=alt.Y("percent:Q", scale=y_scale, title="Percent"),
            color=color,
            strokeDash=dash,
            tooltip=tooltip,
        ),
        _chart(shown, name="labels")
        .mark_text(baseline="bottom", dy=-8, color=TEXT_MUTED)
        .encode(x=x, y=alt.Y("percent:Q", scale=y_scale), text="text:N", detail="series:N"),
    ]
    return alt.layer(*layers).properties(
        width=width,
        height=height,
        title=alt.Title(
            f"Across the last {len(records)} PIs" if len(records) != 1 else "This PI so far",
            subtitle="Predictability (pooled) and the share of team outcomes achieved",
            anchor="start",
        ),
    )


def _predictability_row(
    team: str,
    percent: float | None,
    planned: float | None,
    actual: float | None,
    not_yet_scored: int,
    kind: str,
) -> dict[str, Any]:
    if percent is None:
        text = "not yet scored" if not_yet_scored else "nothing committed"
    else:
        text = f"{percent:.0f}%"
    scores = f"{actual:g} of {planned:g}" if planned is not None and actual is not None else "—"
    if percent is not None and planned is not None and actual is not None:
        text = f"{text} ({scores})"
    if percent is not None and not_yet_scored:
        text = f"{text}, {not_yet_scored} not yet scored"
    return {"team": team, "percent": percent, "text": text, "scores": scores, "kind": kind}


# ---------------------------------------------------------------- health and verdict mix


def health_mix_chart(
    counts: Mapping[str, int] | pd.DataFrame,
    *,
    title: str = "Outcomes by health",
    show_zero: bool = False,
    width: int = 300,
    row_height: int = 24,
) -> alt.LayerChart:
    """How many outcomes have each health, worst first: one bar per health, its word as
    the axis label and its count beside the bar."""
    return _count_bars(
        counts,
        order=HEALTH_ORDER,
        labels={h: health_label(h) for h in HEALTH_ORDER},
        colors=HEALTH_COLOR,
        title=title,
        noun="Outcomes",
        category="Health",
        show_zero=show_zero,
        width=width,
        row_height=row_height,
    )


def verdict_mix_chart(
    counts: Mapping[str, int] | pd.DataFrame,
    *,
    title: str = "Hypotheses by verdict",
    show_zero: bool = False,
    width: int = 300,
    row_height: int = 24,
) -> alt.LayerChart:
    """How many hypotheses have each verdict, with the verdict written beside its colour."""
    return _count_bars(
        counts,
        order=VERDICT_ORDER,
        labels={v: verdict_label(v) for v in VERDICT_ORDER},
        colors=VERDICT_COLOR,
        title=title,
        noun="Hypotheses",
        category="Verdict",
        show_zero=show_zero,
        width=width,
        row_height=row_height,
    )


def _count_bars(
    counts: Mapping[str, int] | pd.DataFrame,
    *,
    order: Sequence[str],
    labels: Mapping[str, str],
    colors: Mapping[str, str],
    title: str,
    noun: str,
    category: str,
    show_zero: bool,
    width: int,
    row_height: int,
) -> alt.LayerChart:
    if isinstance(counts, pd.DataFrame):
        key_column = counts.columns[0]
        mapping = dict(zip(counts[key_column], counts["count"], strict=True))
    else:
        mapping = dict(counts)
    codes = [c for c in order if show_zero or mapping.get(c, 0)]
    codes += [c for c in mapping if c not in order and mapping[c]]
    data = pd.DataFrame(
        {
            "code": codes,
            "word": [labels.get(c, c) for c in codes],
            "count": [int(mapping.get(c, 0)) for c in codes],
        }
    )
    if data.empty:
        return alt.layer(
            _chart(pd.DataFrame({"text": [f"No {noun.lower()} yet"]}), name="empty")
            .mark_text(color=TEXT_MUTED)
            .encode(x=alt.value(_px("width / 2")), y=alt.value(_px("height / 2")), text="text:N")
        ).properties(width=width, height=row_height, title=alt.Title(title, anchor="start"))
    top = max(int(data["count"].max()), 1)
    x = alt.X(
        "count:Q",
        title=noun,
        scale=alt.Scale(domain=[0, top * 1.2], nice=False),
        axis=alt.Axis(tickMinStep=1, format="d"),
    )
    y = alt.Y("word:N", sort=list(data["word"]), title=None, axis=alt.Axis(labelPadding=6))
    color = alt.Color(
        "code:N",
        scale=alt.Scale(domain=codes, range=[colors.get(c, SERIES_COLOR["track"]) for c in codes]),
        legend=None,
    )
    tooltip = [alt.Tooltip("word:N", title=category), alt.Tooltip("count:Q", title=noun)]
    base = _chart(data)
    return alt.layer(
        base.mark_bar(cornerRadius=2)
        .encode(x=x, y=y, color=color, tooltip=tooltip)
        .properties(name="bars"),
        base.mark_text(align="left", baseline="middle", dx=5, color=TEXT_MUTED, fontWeight="bold")
        .encode(x=x, y=y, text="count:Q")
        .properties(name="counts"),
    ).properties(width=width, height=alt.Step(row_height), title=alt.Title(title, anchor="start"))


# ---------------------------------------------------------------- PNG export


def chart_png(chart: alt.TopLevelMixin, scale: float = 2) -> bytes:
    """The chart as PNG bytes (for slide decks), rendered offline by vl-convert."""
    import vl_convert

    return vl_convert.vegalite_to_png(chart.to_json(), scale=scale)


def target_chart_png(*args: Any, **kwargs: Any) -> bytes:
    """`target_chart_for(*args, **kwargs)` as PNG bytes, built only when asked for (a page
    draws the chart from a cached spec and offers this as a deferred download)."""
    return chart_png(target_chart_for(*args, **kwargs))
