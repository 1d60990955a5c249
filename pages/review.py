"""PI review: planned vs actual business value per team and outcome, predictability with
its healthy band, the train rollup, the train across its last PIs, the actual-actual
flags, Inspect & Adapt (every hypothesis by decision), scoring (admins) and the PI report as
Markdown and JSON."""

from __future__ import annotations

import functools
import re

import streamlit as st

from core.access import can_score_business_value
from core.inspect_adapt import inspect_and_adapt
from ui import reads
from ui.cards import tile
from ui.chart_cache import show_chart
from ui.filters import filter_row, pi_caption, title_row
from ui.first_steps import no_pi_message
from ui.format import band_badge_md, predictability_text
from ui.forms import score_form, show_flash
from ui.frame import page_frame
from ui.inspect_adapt import inspect_adapt_section
from ui.review_table import FLAG_WARNINGS_MAX, flag_table, scoring_groups, show_value_table
from ui.text import escape_markdown

frame = page_frame("review")

filters = filter_row(page="review")
pi, as_of = filters.pi, filters.as_of
if pi is None:
    title_row(filters.top, "PI review")
    no_pi_message()
    st.stop()
title_row(
    filters.top,
    f"{pi.name} review",
    caption=pi_caption(filters),
    help="Inspect & Adapt: what each team planned, what business owners scored, and what "
    "the metrics say.",
)
show_flash()
view = reads.pi_view(pi_name=pi.name, as_of=as_of)
status = view.status
train = status.train_predictability
scorer = can_score_business_value(frame.actor)

# ---------------------------------------------------------------- train rollup
# Mid-PI a band from the few scored outcomes would mislead (issue 14): "Partial" instead.
partial = bool(train.not_yet_scored) and not train.pi_ended
team_outcomes = sum(len(t.outcomes) for t in status.teams)
columns = st.columns(4)
with columns[0]:
    tile(
        "Predictability (pooled)",
        "Partial" if partial else "—" if train.pooled is None else f"{train.pooled:.0f}%",
        # The value says "Partial"; the line gives "N of M scored ..." without repeating it.
        escape_markdown(predictability_text(train, team_outcomes).removeprefix("Partial: "))
        if partial
        else band_badge_md(train.pooled_band) or "Not yet scored",
        help="All teams' actual business value over all teams' planned value of committed "
        "outcomes. Healthy: 80–100%.",
    )
with columns[1]:
    tile(
        "Mean of teams",
        "Partial"
        if partial
        else "—"
        if train.mean_of_teams is None
        else f"{train.mean_of_teams:.0f}%",
        (
            "no team has a scored outcome yet"
            if train.mean_of_teams is None
            else f"{train.mean_of_teams:.0f}% of the teams' scored outcomes so far"
        )
        if partial
        else band_badge_md(train.mean_band) or "Not yet scored",
        help="The mean of the team percents (teams with something committed and scored).",
    )
with columns[2]:
    tile(
        "Business value",
        f"{train.actual_bv} of {train.planned_bv}",
        "actual of planned (committed)",
        help="Sums over the teams; train-level outcomes enter neither figure.",
    )
with columns[3]:
    waiting = train.not_yet_scored
    tile(
        "Not yet scored",
        str(waiting),
        "count as 0 once the PI has ended" if waiting and not train.pi_ended else "outcomes",
        help="Before the PI ends, unscored outcomes are left out of both sums.",
    )

rows = [
    {
        "team": t.team.name,
        "percent": t.predictability.percent,
        "planned_bv": t.predictability.planned_bv,
        "actual_bv": t.predictability.actual_bv,
        "not_yet_scored": t.predictability.not_yet_scored,
    }
    for t in status.teams
]
if any(row["percent"] is not None for row in rows):
    show_chart("predictability", rows, pooled=train.pooled, mean_of_teams=train.mean_of_teams)
else:
    st.info(
        "Predictability appears here once business owners score actual business value, "
        "at the PI's end.",
        icon=":material/hourglass_top:",
    )

# ---------------------------------------------------------------- across PIs
st.header("Across PIs", anchor=False)
track = reads.train_track_record(pi_name=pi.name, as_of=as_of)
if len(track) > 1:
    st.caption(
        "Is the train getting better at keeping its promises? Each PI as it stood when it "
        "ended (a running PI as of the shown date)."
    )
    show_chart("track_record", track)
else:
    st.info(
        "The train's track record appears here from its second PI on.",
        icon=":material/timeline:",
    )

# ---------------------------------------------------------------- per team and outcome
st.header("Planned vs actual business value", anchor=False)
st.caption(
    "Actual business value is scored by business owners at the PI's end. "
    "“Metrics say” is the outcome's health from its targets: the two should agree."
)
show_value_table(status)
if scorer:
    groups = scoring_groups(status)
    if groups:
        # One form for the chosen team, not one per team (50 forms at 50 teams).
        chosen = st.selectbox("Team to score", list(groups), key="review.score_team")
        form_key, outcomes = groups[chosen]
        score_form(frame, form_key, outcomes, view.snapshot)

# ---------------------------------------------------------------- flags
st.header("Actual-actual flags", anchor=False)
flagged = [(t.team.name, o) for t in status.teams for o in t.outcomes if o.flag is not None] + [
    ("Train", o) for o in status.train_outcomes if o.flag is not None
]
if not flagged:
    st.caption("No outcome's business value score disagrees with its metrics.")
elif len(flagged) <= FLAG_WARNINGS_MAX:
    for team_name, outcome in flagged:
        st.warning(
            f"**{escape_markdown(outcome.key)}** · {escape_markdown(outcome.title)} "
            f"({escape_markdown(team_name)}): {escape_markdown(outcome.flag.message)}",  # type: ignore[union-attr]
            icon=":material/flag:",
        )
else:
    # At train scale a warning box per flag (about 50 at 50 teams) buries the page; one
    # table lists them all, sortable by team.
    st.warning(
        f"{len(flagged)} outcomes' business value scores disagree with their metrics.",
        icon=":material/flag:",
    )
    st.dataframe(flag_table(flagged), hide_index=True)

# ---------------------------------------------------------------- Inspect & Adapt
inspect_adapt_section(inspect_and_adapt(status, view.snapshot))

# ---------------------------------------------------------------- report
st.header("PI report", anchor=False)
st.caption("The same report as `python manage.py report`, for a wiki or a slide deck.")
stem = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{pi.name}-{as_of.isoformat()}").strip("-")
buttons = st.columns([1, 1, 4])
buttons[0].download_button(
    "Markdown",
    functools.partial(reads.report_markdown_document, view),
    file_name=f"{stem}.md",
    mime="text/markdown",
    icon=":material/download:",
)
buttons[1].download_button(
    "JSON",
    functools.partial(reads.report_json_document, view),
    file_name=f"{stem}.json",
    mime="application/json",
    icon=":material/download:",
)
