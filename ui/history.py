"""The metric history view's pieces: cached reads, links to it from the team and outcome
pages, the readings table, and deleting a reading with a confirm step (editors of the
metric's team only; audited with its value by db.writes.delete_reading)."""

from __future__ import annotations

import streamlit as st

from core.access import can_edit_team
from core.format import format_value
from core.model import MetricInfo
from db import history as history_queries
from db.history import MetricHistory
from db.writes import delete_reading
from ui.data import cached_read
from ui.forms import FormState, KeyedWrite, save
from ui.site import Frame
from ui.text import escape_markdown

PAGE = "pages/metric.py"
PAGE_SIZE = 50

team_metrics = cached_read(history_queries.team_metrics)
metric_history = cached_read(history_queries.metric_history)


def history_params(team_key: str, metric_name: str, pi: str | None = None) -> dict[str, str]:
    """The history view's URL parameters (the PI only carries the context back)."""
    params = {"team": team_key, "metric": metric_name}
    if pi:
        params["pi"] = pi
    return params


def history_link(
    where: object, *, team_key: str, metric_name: str, pi: str | None, label: str = "History"
) -> None:
    """A link to one metric's history (`label` is user text: shown escaped)."""
    where.page_link(  # type: ignore[attr-defined]
        PAGE,
        label=escape_markdown(label),
        icon=":material/history:",
        query_params=history_params(team_key, metric_name, pi),
        help="Every reading of this metric, with its note, source and who entered it",
    )


def metric_links(team_key: str, pi: str | None) -> None:
    """The team page's list of its metrics (with or without a target), each a link to
    its history."""
    metrics = team_metrics(team_key=team_key)
    st.subheader("Metric history", anchor=False)
    if not metrics:
        st.caption("This team has no metrics yet.")
        return
    st.caption("Every reading of each metric, with or without a target.")
    with st.container(horizontal=True, gap="small"):
        for metric in metrics:
            name = metric.name + (" (archived)" if metric.archived else "")
            history_link(st, team_key=team_key, metric_name=metric.name, pi=pi, label=name)


def value_label(metric: MetricInfo, value: float) -> str:
    return format_value(value, metric.unit, metric.decimals)


def readings_table(history: MetricHistory) -> None:
    """One page of readings, newest first; user text (notes) shown as text."""
    metric = history.metric
    frame = history.readings.drop(columns=["id"])
    st.dataframe(
        frame,
        hide_index=True,
        column_config={
            "date": st.column_config.DateColumn("Date", format="YYYY-MM-DD"),
            "value": st.column_config.NumberColumn(
                f"Value ({metric.unit})" if metric.unit else "Value",
                format=f"%.{max(metric.decimals, 0)}f",
            ),
            "note": st.column_config.TextColumn("Note", width="large"),
            "source": st.column_config.TextColumn("Source", width="small"),
            "entered_by": st.column_config.TextColumn("Who"),
            "entered_at": st.column_config.DatetimeColumn(
                "Entered (UTC)", format="YYYY-MM-DD HH:mm"
            ),
        },
    )


def delete_reading_form(frame: Frame, history: MetricHistory) -> None:
    """Pick one reading of the page shown, then confirm; nothing for those who may not
    change the team's readings."""
    metric = history.metric
    if not can_edit_team(frame.actor, history.team.id) or history.readings.empty:
        return
    form = FormState(f"metric.delete.{metric.id}", entity="reading")
    labels = {
        int(row.id): f"{row.date.isoformat()}: {value_label(metric, float(row.value))}"
        for row in history.readings.itertuples(index=False)
    }
    confirm = form.button_key("confirm")
    with st.form(form.form_key, border=True):
        st.markdown("**Delete a reading**")
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        chosen = left.selectbox(
            "Reading to delete",
            list(labels),
            format_func=lambda i: labels.get(i, str(i)),
            key=form.init("reading", next(iter(labels))),
            help="Readings of the page shown above, newest first",
        )
        if right.form_submit_button("Delete…", icon=":material/delete:"):
            st.session_state[confirm] = (chosen, labels.get(chosen, ""))
    pending = st.session_state.get(confirm)
    if pending is not None:
        reading_id, label = pending
        st.warning(
            f"Delete the reading of {escape_markdown(metric.name)} on "
            f"{escape_markdown(label)}? It cannot be restored here; the audit log keeps "
            "its value.",
            icon=":material/warning:",
        )
        yes, no, _ = st.columns([1, 1, 4])
        if no.button("Cancel", key=f"{confirm}.no"):
            del st.session_state[confirm]
            st.rerun()
        if yes.button("Yes, delete", key=f"{confirm}.yes", type="primary"):
            save(
                frame,
                form,
                KeyedWrite(delete_reading, actor=frame.actor, reading_id=reading_id),
                success=lambda r: (
                    f"Deleted the reading of {metric.name} on {r.date.isoformat()}: "
                    f"{value_label(metric, r.value)}."
                ),
            )
    form.show_status()


def figures_line(history: MetricHistory) -> str:
    """ "1,204 readings from 2024-01-02 to 2026-11-30 · lowest 1.9% · highest 2.8% · mean
    2.3%" (no user text)."""
    metric = history.metric
    if history.count == 0:
        return "No readings yet."
    parts = [
        f"{history.count:,} reading{'' if history.count == 1 else 's'} from "
        f"{history.first_date} to {history.last_date}"
    ]
    for word, value in (
        ("lowest", history.lowest),
        ("highest", history.highest),
        ("mean", history.mean),
    ):
        if value is not None:
            parts.append(f"{word} {value_label(metric, value)}")
    return " · ".join(parts)
