"""Metric history: every reading of one metric (with or without a target) with its date,
value, note, source and who entered it, a page at a time; the team's editors can delete a
reading after confirming. URL: /metric?team=KEY&metric=NAME[&pi=...]."""

from __future__ import annotations

import streamlit as st

from core.access import can_edit_team
from ui import reads
from ui.cards import no_data_message
from ui.filters import copy_link, page_params, param_select, team_label
from ui.frame import page_frame
from ui.history import (
    PAGE_SIZE,
    delete_reading_form,
    figures_line,
    metric_history,
    readings_table,
    team_metrics,
)
from ui.release_forms import release_corrections
from ui.text import escape_markdown

frame = page_frame("metric")

head = st.container()
columns = st.columns([2, 3, 2], vertical_alignment="bottom")
teams = reads.teams(train_name=None, include_inactive=True)
team_key = param_select(
    "Team",
    [t.key for t in teams],
    param="team",
    format_func=team_label(teams),
    container=columns[0],
)
team = next((t for t in teams if t.key == team_key), None)
if team is None:
    head.title("Metric history", anchor=False)
    no_data_message("There are no teams yet. An admin adds teams on the Admin page.")
    st.stop()
metrics = team_metrics(team_key=team.key)
by_name = {m.name: m for m in metrics}
metric_name = param_select(
    "Metric",
    list(by_name),
    param="metric",
    format_func=lambda n: n + (" (archived)" if by_name[n].archived else ""),
    container=columns[1],
)
if metric_name is None:
    head.title("Metric history", anchor=False)
    no_data_message(f"{team.name} has no metrics yet. Editors add them on the Plan page.")
    st.stop()

# The page number is per metric (another metric starts on its newest readings); it is
# read before its widget is drawn, so one query serves the figures and the page shown.
page_key = f"metric.page.{team.key}.{metric_name}"
number = max(int(st.session_state.get(page_key) or 1), 1)
history = metric_history(
    team_key=team.key, metric_name=metric_name, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
)
if history is not None and number > history.pages:  # fewer readings than before
    number = history.pages
    history = metric_history(
        team_key=team.key,
        metric_name=metric_name,
        offset=(number - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
if history is None:  # the metric went away between two reads: start again
    st.query_params.pop("metric", None)
    st.rerun()
assert history is not None
st.session_state[page_key] = number
columns[2].number_input(
    "Page",
    min_value=1,
    max_value=history.pages,
    step=1,
    key=page_key,
    help=f"{PAGE_SIZE} readings a page, newest first",
)
metric = history.metric

with head:
    left, right = st.columns([6, 1.4], vertical_alignment="center")
    left.title(escape_markdown(f"{metric.name} · history"), anchor=False)
    with right.container(horizontal_alignment="right"):
        copy_link()
    details = [team.name, f"unit {metric.unit}" if metric.unit else "", figures_line(history)]
    st.caption(escape_markdown(" · ".join(d for d in details if d)))
if metric.description:
    st.markdown(f"**About this metric:** {escape_markdown(metric.description)}")
st.page_link(
    "pages/team.py",
    label=f"Back to {escape_markdown(team.name)}",
    icon=":material/arrow_back:",
    query_params=page_params(team=team.key, outcome=None),
)

if history.count == 0:
    no_data_message("No readings yet. Editors record them on the Record page.")
    st.stop()
first = history.offset + 1
last = history.offset + len(history.readings)
st.caption(f"Readings {first:,}–{last:,} of {history.count:,}, newest first.")
readings_table(history)
delete_reading_form(frame, history)
if can_edit_team(frame.actor, team.id):
    with st.expander(f"Correct a release of {escape_markdown(team.name)}"):
        release_corrections(frame, team, context="metric")
