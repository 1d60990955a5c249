"""Charts drawn through one cache: the Vega-Lite spec of each ui/charts.py builder, kept
by its arguments, so a rerun or another visitor does not build the same chart again."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import altair as alt
import streamlit as st
from streamlit import dataframe_util

from ui.charts import (
    predictability_chart,
    progress_bars,
    sparkline,
    target_chart_for,
    track_record_chart,
)

# The chart builders a page draws through `show_chart`, by name (a cache key part).
CHARTS: dict[str, Callable[..., alt.TopLevelMixin]] = {
    "target": target_chart_for,
    "sparkline": sparkline,
    "progress_bars": progress_bars,
    "predictability": predictability_chart,
    "track_record": track_record_chart,
}


def chart_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """An Altair chart from ui.charts as the Vega-Lite spec the page draws. Converted
    without Altair's schema validation (the builders are validated by their own tests):
    validating costs about ten times the conversion itself."""
    with alt.theme.enable("none") if alt.theme.active == "default" else nullcontext():
        spec = chart.to_dict(validate=False)
    if "title" in spec:
        # Fitted to the page's width, Vega places a title with a subtitle partly above the
        # drawing area; room at the top keeps it whole.
        spec.setdefault("padding", {"top": 24, "left": 5, "right": 5, "bottom": 5})
    return spec


@st.cache_data(max_entries=2_000, show_spinner=False)
def _cached_spec(builder: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    spec = chart_spec(CHARTS[builder](*args, **kwargs))
    # st.vega_lite_chart turns each of the spec's datasets into Arrow bytes, on every run
    # (a target chart has a dozen layers); it passes bytes through as they are, so the
    # cache keeps them converted, by Streamlit's own converter.
    datasets = spec.get("datasets", {})
    for name, values in datasets.items():
        datasets[name] = dataframe_util.convert_anything_to_arrow_bytes(values)
    return spec


def show_chart(builder: str, *args: Any, **kwargs: Any) -> None:
    """Draw `CHARTS[builder](*args, **kwargs)`. The spec is cached by those arguments (the
    data itself, so a new reading is a new key): building an Altair chart of many layers
    took most of a warm run of the outcome and team pages (bench/RESULTS.md), and a
    rerun, another visitor or a presentation's next round draws the same charts."""
    st.vega_lite_chart(_cached_spec(builder, args, kwargs), width="stretch")
