"""Team: one team's outcomes in a PI, with progress, health and why, trends, hypotheses,
quality checks and the latest confidence; links to each metric's reading history."""

from __future__ import annotations

import streamlit as st

from core.format import day_text
from ui import reads
from ui.cards import no_data_message, outcome_card, team_status
from ui.digest import team_digest_section
from ui.filters import team_filter_row, title_row
from ui.first_steps import empty_workspace_message, no_pi_message
from ui.format import health_badge_md, pi_progress_text, predictability_text
from ui.frame import page_frame
from ui.history import metric_links
from ui.iterations import team_goal_section
from ui.team_metrics import other_metrics_section
from ui.text import escape_markdown

frame = page_frame("team")

team, filters = team_filter_row()
pi, as_of = filters.pi, filters.as_of
if team is None:
    title_row(filters.top, "Team")
    empty_workspace_message(frame, "There are no teams yet.")
    st.stop()
caption = " · ".join(
    part
    for part in (
        f"{filters.train} train" if filters.train else "",
        pi.name if pi else "",
        pi_progress_text(pi, as_of) if pi else "",
        f"as of {day_text(as_of)}",
    )
    if part
)
title_row(filters.top, team.name, caption=caption)
if pi is None:
    no_pi_message()
    st.stop()

view = reads.pi_view(pi_name=pi.name, as_of=as_of, team_key=team.key)
status = team_status(view.status.teams, team.key)
if status is None or not status.outcomes:
    no_data_message(f"{team.name} has no outcomes in {pi.name}.")
    other_metrics_section(team_id=team.id, pi=pi, as_of=as_of, target_metric_ids=())
    metric_links(team.key, pi.name)
    st.stop()

# The gist before the cards: every outcome's health in one line, and predictability.
p = status.predictability
summary = st.columns([3, 1.3])
summary[0].markdown(
    " ".join(f"{escape_markdown(o.key)} {health_badge_md(o.health)}" for o in status.outcomes)
)
summary[1].markdown(
    "**Predictability:** " + escape_markdown(predictability_text(p, len(status.outcomes))),
    help="Actual business value as a percent of the planned value of committed outcomes.",
)
for check in status.checks:
    st.warning(escape_markdown(check.message), icon=":material/lightbulb:")

for outcome in status.outcomes:
    outcome_card(outcome, view.snapshot, pi=pi, as_of=as_of, team_key=team.key)

# Every other metric read in the PI: a value just saved for it shows here too.
other_metrics_section(
    team_id=team.id,
    pi=pi,
    as_of=as_of,
    target_metric_ids={t.metric_id for o in status.outcomes for t in o.targets},
)
# Under the PI's outcomes: what the team aims for in this iteration.
team_goal_section(pi, team.id, as_of)
metric_links(team.key, pi.name)
team_digest_section(frame, team, as_of)
