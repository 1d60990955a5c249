"""Outcome: one outcome in depth: a chart per target, the evidence behind each hypothesis,
check-ins and the history of changes."""

from __future__ import annotations

import datetime as dt
import re
from functools import partial

import streamlit as st

from core.format import day_text
from core.model import HypothesisSpec
from ui import reads
from ui.cards import contributor_links, evidence_columns, no_data_message, parent_link
from ui.chart_cache import show_chart
from ui.charts import hypothesis_window, release_markers, target_chart_png
from ui.filters import known_train, outcome_select, page_params, page_top, pi_select, title_row
from ui.first_steps import no_pi_message
from ui.format import (
    checkin_text,
    health_badge_md,
    hypothesis_md,
    outcome_badges_md,
    pi_progress_text,
    verdict_line_md,
)
from ui.forms import checkin_form
from ui.frame import page_frame
from ui.history import history_link
from ui.learning import learning_form
from ui.text import escape_markdown

frame = page_frame("outcome")

top = page_top([2, 3, 2])
as_of = top.as_of
train = known_train()
pi = pi_select(top.columns[0], train=train, as_of=as_of)
if pi is None:
    title_row(top, "Outcome")
    no_pi_message()
    st.stop()
view = reads.pi_view(pi_name=pi.name, as_of=as_of)
snapshot = view.snapshot
chosen = outcome_select(top.columns[1], view)
if chosen is None:
    title_row(top, "Outcome")
    no_data_message(f"There are no outcomes in {pi.name} yet. Teams write them on the Plan page.")
    st.stop()
outcome, spec, team = chosen
title_row(
    top,
    f"{outcome.key} · {outcome.title}",
    small=True,
    caption=" · ".join(
        part
        for part in (
            team.name if team else "Train-level outcome",
            pi.name,
            pi_progress_text(pi, as_of),
            f"as of {day_text(as_of)}",
        )
        if part
    ),
)

st.markdown(outcome_badges_md(outcome))
st.caption(f"Why this health: {escape_markdown(outcome.reason)}")
if spec.why:
    st.markdown(f"**Why it matters:** {escape_markdown(spec.why)}")
if spec.owner:
    st.caption(f"Owner: {escape_markdown(spec.owner)}")
for check in outcome.checks:
    text = f":material/lightbulb: {escape_markdown(check.message)}"
    if check.rewrite:
        text += f" — try: *{escape_markdown(check.rewrite)}*"
    st.markdown(text)
if team is not None:
    st.page_link(
        "pages/team.py",
        label=f"Back to {escape_markdown(team.name)}",
        icon=":material/arrow_back:",
        query_params=page_params(pi=pi.name, team=team.key, outcome=None),
    )

# ---------------------------------------------------------------- alignment
if team is None:
    st.subheader("Contributing team outcomes", anchor=False)
    contributor_links(view.status, outcome, pi.name)
else:
    parent_link(view.status, spec, pi.name)

# ---------------------------------------------------------------- one chart per target
st.subheader("Targets", anchor=False)
if not spec.targets:
    no_data_message("This outcome has no target yet: nothing says what better means.")
verdicts = {v.hypothesis_id: v for v in outcome.hypotheses}
statuses = {t.target_id: t for t in outcome.targets}
windows: dict[int, tuple[dt.date, dt.date]] = {}
for target in spec.targets:
    start = target.baseline_date or as_of - dt.timedelta(days=90)
    for hypothesis in spec.hypotheses:
        if hypothesis.metric_id == target.metric_id and hypothesis.release_date is not None:
            start = min(start, hypothesis.release_date - dt.timedelta(days=hypothesis.window_days))
    windows[target.id] = (start, as_of)
readings = (
    reads.readings_between(
        [t.metric_id for t in spec.targets], min(s for s, _ in windows.values()), as_of
    )
    if spec.targets
    else None
)
for target in spec.targets:
    status = statuses.get(target.id)
    metric = snapshot.metrics.get(target.metric_id)
    if status is None or metric is None or readings is None:
        continue
    shaded = next(
        (
            h
            for h in spec.hypotheses
            if h.metric_id == target.metric_id and h.release_date is not None
        ),
        None,
    )
    releases = [r for r in snapshot.releases if r.team_id == metric.team_id]
    chart_args = (
        target,
        status,
        metric,
        readings.loc[
            readings["metric_id"] == target.metric_id, ["date", "value", "note", "entered_by"]
        ],
    )
    chart_kwargs = {
        "as_of": as_of,
        "releases": release_markers(releases, spec.hypotheses, metric_id=target.metric_id),
        "hypothesis": hypothesis_window(shaded, verdicts[shaded.id].evidence)
        if shaded is not None and shaded.id in verdicts
        else None,
        "start": windows[target.id][0],
        "height": 340,
    }
    with st.container(border=True):
        show_chart("target", *chart_args, **chart_kwargs)
        below = st.columns([5, 1.4, 1.2], vertical_alignment="center")
        below[0].markdown(f"{health_badge_md(status.health)} {escape_markdown(status.reason)}")
        owner = next((t for t in snapshot.teams if t.id == metric.team_id), None)
        if owner is not None:  # a train outcome's targets use its teams' metrics
            history_link(below[1], team_key=owner.key, metric_name=metric.name, pi=pi.name)
        below[2].download_button(
            "PNG",
            data=partial(target_chart_png, *chart_args, **chart_kwargs),
            file_name=re.sub(r"[^A-Za-z0-9._-]+", "_", f"{outcome.key}-{metric.name}") + ".png",
            mime="image/png",
            icon=":material/download:",
            key=f"png.{target.id}",
            help="Download this chart as an image for a slide deck",
        )

# ---------------------------------------------------------------- hypotheses


def learning_log(hypothesis: HypothesisSpec, *, team_id: int | None) -> None:
    """The learning and decision for everyone to read, and the form to change them for
    the team's editors (the form is in ui/learning.py)."""
    if hypothesis.learning or hypothesis.decision:
        decision = (
            f"**Decision:** {hypothesis.decision.capitalize()}. " if hypothesis.decision else ""
        )
        st.markdown(f"{decision}**Learning:** {escape_markdown(hypothesis.learning or '—')}")
    else:
        st.caption("No learning or decision recorded yet.")
    learning_form(
        frame,
        hypothesis_id=hypothesis.id,
        team_id=team_id,
        label=f"If {hypothesis.if_text}",
    )


st.subheader("Hypotheses", anchor=False)
if not spec.hypotheses:
    no_data_message("No hypothesis yet: which change do you expect to move the metric, and why?")
for hypothesis in spec.hypotheses:
    verdict = verdicts.get(hypothesis.id)
    if verdict is None:
        continue
    with st.container(border=True):
        st.markdown(hypothesis_md(hypothesis))
        st.markdown(f"{verdict_line_md(verdict)} {escape_markdown(verdict.reason)}")
        metric = snapshot.metrics.get(hypothesis.metric_id)
        evidence_columns(verdict, hypothesis, metric)
        if verdict.override:
            st.caption(
                "The team overrides the computed verdict"
                + (
                    f": {escape_markdown(verdict.override_reason)}"
                    if verdict.override_reason
                    else "."
                )
            )
        learning_log(hypothesis, team_id=outcome.team_id)

# ---------------------------------------------------------------- check-ins
st.subheader("Check-ins", anchor=False)
checkin_form(frame, outcome.outcome_id, outcome.team_id)
checkins = sorted(
    (c for c in snapshot.checkins if c.outcome_id == outcome.outcome_id),
    key=lambda c: (c.date, c.id),
    reverse=True,
)
if not checkins:
    st.caption(checkin_text(None))
else:
    st.dataframe(
        [
            {"date": c.date, "confidence": c.confidence, "by": c.by, "comment": c.comment}
            for c in checkins
        ],
        hide_index=True,
        column_config={
            "date": st.column_config.DateColumn("Date", format="D MMM YYYY"),
            "confidence": st.column_config.NumberColumn("Confidence", format="%d / 10"),
            "by": "By",
            "comment": "Comment",
        },
    )

# ---------------------------------------------------------------- history
st.subheader("History", anchor=False)
history = reads.outcome_history(outcome_id=outcome.outcome_id)
if history.empty:
    st.caption("No recorded changes.")
else:
    st.caption(
        "Every recorded change to this outcome, its targets, hypotheses and check-ins, newest first (not limited by the as-of date)."
    )
    st.dataframe(
        history,
        hide_index=True,
        column_config={
            "at": st.column_config.DatetimeColumn("When (UTC)", format="D MMM YYYY, HH:mm"),
            "actor": "Who",
            "action": "Action",
            "record": "Record",
            "summary": "What",
            "fields": "Fields changed",
        },
    )
