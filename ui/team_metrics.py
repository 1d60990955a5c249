"""The team page's "Other metrics": every metric the team read in the PI that no target
names, with its latest value, date and the PI's readings as a sparkline, so a value just
saved on Record for any metric shows up on the team page (issue 14, point 9)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import pandas as pd
import streamlit as st

from core.format import format_value
from core.model import PIInfo
from ui import reads


def other_metrics_table(
    *, team_id: int, pi: PIInfo, as_of: dt.date, target_metric_ids: Collection[int]
) -> pd.DataFrame:
    """One row per metric of the team with readings between the PI's start and the as-of
    date (or the PI's end), leaving out `target_metric_ids`: metric (name), latest
    (value with unit), date (of the latest), trend (the values in date order)."""
    columns = ["metric_id", "metric", "latest", "date", "trend"]
    metrics = reads.latest_readings(as_of=as_of, team_ids=(team_id,))
    if metrics.empty:
        return pd.DataFrame(columns=columns)
    metrics = metrics[~metrics["metric_id"].isin(list(target_metric_ids))]
    end = min(as_of, pi.end_date)
    if metrics.empty or end < pi.start_date:
        return pd.DataFrame(columns=columns)
    readings = reads.readings_between(list(metrics["metric_id"]), pi.start_date, end)
    if readings.empty:
        return pd.DataFrame(columns=columns)
    readings = readings.sort_values("date")
    rows = []
    for metric in metrics.sort_values("metric").itertuples(index=False):
        own = readings[readings["metric_id"] == metric.metric_id]
        if own.empty:
            continue
        last = own.iloc[-1]
        rows.append(
            {
                "metric_id": metric.metric_id,
                "metric": metric.metric,
                "latest": format_value(float(last["value"]), metric.unit, int(metric.decimals)),
                "date": last["date"],
                "trend": [float(v) for v in own["value"]],
            }
        )
    return pd.DataFrame(rows, columns=columns)


def other_metrics_section(
    *, team_id: int, pi: PIInfo, as_of: dt.date, target_metric_ids: Collection[int]
) -> None:
    """The section (nothing when no other metric was read in the PI)."""
    table = other_metrics_table(
        team_id=team_id, pi=pi, as_of=as_of, target_metric_ids=target_metric_ids
    )
    if table.empty:
        return
    st.subheader("Other metrics" if target_metric_ids else "Metrics", anchor=False)
    st.caption(
        "Read in this PI, named by no target: the latest value and this PI's readings."
        if target_metric_ids
        else "Read in this PI: the latest value and this PI's readings."
    )
    # A dataframe shows user text (metric names) as text, never as markdown.
    st.dataframe(
        table.drop(columns=["metric_id"]),
        hide_index=True,
        column_config={
            "metric": "Metric",
            "latest": "Latest value",
            "date": st.column_config.DateColumn("Date", format="D MMM YYYY"),
            "trend": st.column_config.LineChartColumn("This PI", width="medium"),
        },
    )
