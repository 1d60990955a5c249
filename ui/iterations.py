"""Iterations and iteration goals on the pages: the Admin page's iteration editor, the Plan
page's goal form (with the task-phrasing check live beside it), and the current
iteration's goal as the team, overview and present pages show it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from core.iterations import (
    DEFAULT_LENGTH_DAYS,
    MAX_LENGTH_DAYS,
    MET_WORDS,
    can_judge,
    current_iteration,
    goal_checks,
)
from core.model import PIInfo
from db import edit_queries, iterations
from db.edit_queries import EditRecord
from db.engine import read_session
from db.iterations import CurrentGoals, GoalInfo, IterationInfo
from ui.data import cached_read
from ui.forms import LABELS, NEW, FormState, save, save_changes
from ui.frame import Frame
from ui.text import escape_markdown
from ui.views import day_text

LABELS_HERE: dict[str, str] = {
    **LABELS,
    "goal": "Goal",
    "outcome": "Tied to outcome",
    "met": "Met",
    "iteration": "Iteration",
    "length_days": "Length (days)",
    "pi": "PI",
    "name": "Iteration name",
    "start_date": "Iteration start",
    "end_date": "Iteration end",
}
# The Met select box holds words: a None option would read as "no choice made".
MET_BY_WORD: dict[str, bool | None] = {word: met for met, word in MET_WORDS.items()}

current_goals = cached_read(iterations.current_goals)


def span_text(iteration: IterationInfo) -> str:
    """ "I4 · 26 Oct – 8 Nov" """
    return (
        f"{iteration.name} · {day_text(iteration.start, year=False)} – "
        f"{day_text(iteration.end, year=False)}"
    )


# ---------------------------------------------------------------- showing goals


def goal_line(goal: GoalInfo) -> str:
    """The goal, escaped for markdown."""
    return f"**{escape_markdown(goal.goal)}**"


def goal_ties(goal: GoalInfo, iteration: IterationInfo, as_of: dt.date) -> str:
    """What the goal is tied to and whether it was met, escaped for markdown."""
    metric = f" · metric: {escape_markdown(goal.metric)}" if goal.metric else ""
    met = (
        MET_WORDS[goal.met]
        if can_judge(iteration.end, as_of)
        else f"judged at the end ({day_text(iteration.end)})"
    )
    return (
        f"For {escape_markdown(goal.outcome_key)} · {escape_markdown(goal.outcome_title)}"
        f"{metric} · met: {met}"
    )


def team_goal_section(pi: PIInfo, team_id: int, as_of: dt.date) -> None:
    """The team page, under the PI's outcomes: this iteration's goal (or that there is
    none yet, and where to set it)."""
    current = current_goals(pi_id=pi.id, day=as_of)
    st.subheader("Iteration goal", anchor=False)
    if current.iteration is None:
        st.caption(f"No iteration of {escape_markdown(pi.name)} runs on {day_text(as_of)}.")
        return
    goal = current.goals.get(team_id)
    with st.container(border=True):
        st.caption(escape_markdown(span_text(current.iteration)))
        if goal is None:
            st.markdown("No goal for this iteration yet: the team sets one on the Plan page.")
        else:
            st.markdown(goal_line(goal))
            st.caption(goal_ties(goal, current.iteration, as_of))


def goals_count_text(current: CurrentGoals, team_ids: list[int]) -> str:
    """ "Iteration I4 · 26 Oct – 8 Nov: 4 of 5 teams have a goal" """
    if current.iteration is None:
        return "No iteration runs on this date."
    with_goal = sum(1 for team_id in team_ids if team_id in current.goals)
    teams = "team has" if len(team_ids) == 1 else "teams have"
    return (
        f"Iteration {span_text(current.iteration)}: {with_goal} of {len(team_ids)} {teams} a goal"
    )


def overview_goal_count(pi: PIInfo, team_ids: list[int], as_of: dt.date) -> None:
    """The overview: how many teams have a goal for the current iteration."""
    current = current_goals(pi_id=pi.id, day=as_of)
    st.markdown(
        f":material/flag: {escape_markdown(goals_count_text(current, team_ids))}",
        help="Each team states one outcome-focused goal per iteration, tied to one of its "
        "outcomes (Plan page).",
    )


def present_goal(pi: PIInfo, team_id: int, as_of: dt.date) -> None:
    """A team's slide: its goal for the current iteration, in big type."""
    current = current_goals(pi_id=pi.id, day=as_of)
    if current.iteration is None:
        return
    goal = current.goals.get(team_id)
    text = escape_markdown(goal.goal) if goal else "no goal set yet"
    st.markdown(
        f"### :material/flag: Iteration {escape_markdown(current.iteration.name)} goal: {text}"
    )


# ---------------------------------------------------------------- Plan: the goal form


def _goal_record(goal: GoalInfo) -> EditRecord:
    return EditRecord(
        id=goal.id,
        version=goal.version,
        values={
            "goal": goal.goal,
            "outcome_id": goal.outcome_id,
            "metric_id": goal.metric_id,
            "met": goal.met,
        },
        label=goal.goal,
    )


def goals_section(
    frame: Frame, *, pi: PIInfo, team_id: int | None, team_name: str, today: dt.date
) -> None:
    """The team's goal for each iteration of the PI: pick an iteration, write its goal."""
    if team_id is None:
        st.info("Iteration goals belong to teams: pick a team to set its goals.")
        return
    with read_session(frame.engine) as session:
        spans = iterations.pi_iterations(session, pi_id=pi.id)
        goals = iterations.team_goals(session, pi_id=pi.id, team_id=team_id)
        outcomes = [
            o
            for o in edit_queries.pi_outcomes(session, pi_id=pi.id, team_id=team_id)
            if o["status"] != "archived"
        ]
        metrics = edit_queries.metric_choices(session, team_id=team_id)
    if not spans:
        st.info(
            f"{pi.name} has no iterations yet: an admin makes them from the PI's dates on "
            "the Admin page (Iterations tab)."
        )
        return
    st.caption(
        "One outcome-focused goal per iteration: the change for users you expect by its end, "
        "tied to one of the team's outcomes. Whether it was met is judged at the end."
    )
    by_iteration = {g.iteration_id: g for g in goals}
    if goals:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Iteration": g.iteration,
                        "Goal": g.goal,
                        "Outcome": g.outcome_key,
                        "Metric": g.metric or "",
                        "Met": MET_WORDS[g.met],
                    }
                    for g in goals
                ]
            ),
            hide_index=True,
        )
    running = current_iteration([s.span for s in spans], today)
    by_id = {s.id: s for s in spans}
    default = next((s.id for s in spans if running and s.name == running.name), spans[0].id)
    column, _ = st.columns([1, 2])
    chosen = column.selectbox(
        "Iteration",
        list(by_id),
        index=list(by_id).index(default),
        format_func=lambda i: (
            span_text(by_id[i]) + (" (now)" if running and by_id[i].name == running.name else "")
        ),
        key=f"plan.goal.iteration.{pi.id}.{team_id}",
    )
    iteration = by_id[chosen]
    if not outcomes:
        st.info(f"{team_name} has no outcomes in {pi.name} yet: a goal is tied to one.")
        return
    goal_form(
        frame,
        iteration=iteration,
        team_id=team_id,
        record=_goal_record(by_iteration[iteration.id]) if iteration.id in by_iteration else None,
        outcomes=outcomes,
        metrics=metrics,
        today=today,
    )


def goal_form(
    frame: Frame,
    *,
    iteration: IterationInfo,
    team_id: int,
    record: EditRecord | None,
    outcomes: list[EditRecord],
    metrics: list[EditRecord],
    today: dt.date,
) -> None:
    """Plain widgets rather than st.form, so the quality check follows the goal as typed."""
    form = FormState(
        f"plan.goal.{record.id if record else f'new.{iteration.id}.{team_id}'}",
        entity="iteration_goal",
        record_id=record.id if record else None,
    )
    version = form.open(record)
    values: dict[str, Any] = dict(record.values) if record else {}
    outcome_labels = {o.id: o.label for o in outcomes}
    metric_labels = {m.id: m.label for m in metrics}
    if values.get("metric_id") is not None and values["metric_id"] not in metric_labels:
        metric_labels[values["metric_id"]] = f"metric #{values['metric_id']} (archived)"
    judge = can_judge(iteration.end, today)
    left, right = st.columns([2, 1], gap="large")
    with left:
        goal = st.text_input(
            "Goal",
            key=form.init("goal", values.get("goal", "")),
            placeholder="Returning buyers pay with a saved card in one step",
            help="One sentence: the change for users you expect by the iteration's end",
        )
        a, b, c = st.columns([2, 2, 1])
        outcome_id = a.selectbox(
            "Tied to outcome",
            list(outcome_labels),
            key=form.init("outcome_id", values.get("outcome_id", next(iter(outcome_labels)))),
            format_func=lambda i: outcome_labels.get(i, f"outcome #{i}"),
        )
        metric_id = b.selectbox(
            "Metric (optional)",
            [None, *metric_labels],
            key=form.init("metric_id", values.get("metric_id")),
            format_func=lambda i: "None" if i is None else metric_labels.get(i, f"#{i}"),
        )
        met_word = c.selectbox(
            "Met",
            ("unknown", "yes", "no"),
            key=form.init("met", MET_WORDS[values.get("met")]),
            disabled=not judge,
            help=None
            if judge
            else f"Judge at the end: {iteration.name} ends on {day_text(iteration.end)}.",
        )
        met = MET_BY_WORD.get(str(met_word))
        fields = {"goal": goal, "outcome_id": outcome_id, "metric_id": metric_id, "met": met}
        if st.button(
            "Save goal" if record else "Set goal",
            type="primary",
            key=f"{form.name}#{form.generation}#save",
        ):
            if record is None:
                save(
                    frame,
                    form,
                    lambda session, key: iterations.create_iteration_goal(
                        session,
                        actor=frame.actor,
                        iteration_id=iteration.id,
                        team_id=team_id,
                        today=today,
                        submission_key=key,
                        **fields,
                    ),
                    success=lambda made: _created(made, iteration),
                    labels=LABELS_HERE,
                )
            else:
                save_changes(
                    frame,
                    form,
                    fields,
                    lambda session, changes, key: iterations.update_iteration_goal(
                        session,
                        actor=frame.actor,
                        goal_id=record.id,
                        expected_version=version,
                        today=today,
                        submission_key=key,
                        **changes,
                    ),
                    success=f"Saved the goal for {iteration.name}.",
                    labels=LABELS_HERE,
                )
        form.show_status()
    with right, st.container(border=True):
        st.markdown("**Quality check**")
        checks = goal_checks(str(goal or ""))
        if not checks:
            st.markdown(":material/check_circle: Reads as a change for users. No advice.")
        for check in checks:
            st.markdown(f":material/lightbulb: {escape_markdown(check.message)}")
            if check.rewrite:
                st.caption("Try a goal like:")
                st.text(check.rewrite)
        if not judge:
            st.caption(f"Met: judge at the end ({day_text(iteration.end)}).")


def _created(goal: Any, iteration: IterationInfo) -> str:
    """The form of the goal just set opens next (a new name): its note goes there."""
    FormState(f"plan.goal.{goal.id}").note(f"Set the goal for {iteration.name}.")
    return ""


# ---------------------------------------------------------------- Admin: iterations


def iterations_admin(frame: Frame) -> None:
    """A PI's iterations: made from its dates (any length), then edited one by one."""
    today = dt.date.today()
    with read_session(frame.engine) as session:
        pis = edit_queries.all_pis(session)
    if not pis:
        st.info("Add a PI first (the PIs tab): its iterations are made from its dates.")
        return
    by_id = {p.id: p for p in pis}
    running = next((p.id for p in pis if p["start_date"] <= today <= p["end_date"]), pis[-1].id)
    column, _ = st.columns([1, 2])
    pi_id = column.selectbox(
        "PI",
        list(by_id),
        index=list(by_id).index(running),
        format_func=lambda i: by_id[i].label,
        key="admin.iterations.pi",
    )
    pi = by_id[pi_id]
    with read_session(frame.engine) as session:
        records = iterations.iteration_records(session, pi_id=pi.id)
    if records:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Iteration": r["name"],
                        "Start": r["start_date"],
                        "End": r["end_date"],
                        "Days": (r["end_date"] - r["start_date"]).days + 1,
                    }
                    for r in records
                ]
            ),
            hide_index=True,
        )
    else:
        st.caption(f"{escape_markdown(pi.label)} has no iterations yet.")
    generate_form(frame, pi)
    st.divider()
    iteration_form(frame, pi, records)


def generate_form(frame: Frame, pi: EditRecord) -> None:
    form = FormState(f"admin.iterations.generate.{pi.id}")
    with st.form(f"{form.name}#{form.generation}"):
        length = st.number_input(
            "Length (days)",
            min_value=1,
            max_value=MAX_LENGTH_DAYS,
            step=1,
            key=form.init("length_days", DEFAULT_LENGTH_DAYS),
            help="Iterations of this many days from the PI's start; the last one ends with "
            "the PI. Replaces its iterations while no team has set a goal in them.",
        )
        submitted = st.form_submit_button("Make iterations from the PI's dates")
    if submitted:
        save(
            frame,
            form,
            lambda session, key: iterations.generate_iterations(
                session, actor=frame.actor, pi_id=pi.id, length_days=length, submission_key=key
            ),
            success=lambda made: f"Made {len(made)} iterations for {pi.label}.",
            labels=LABELS_HERE,
        )
    form.show_status()


def iteration_form(frame: Frame, pi: EditRecord, records: list[EditRecord]) -> None:
    by_id = {r.id: r for r in records}
    column, _ = st.columns([1, 2])
    choice = column.selectbox(
        "Iteration to edit",
        [NEW, *by_id],
        format_func=lambda i: "Add an iteration" if i == NEW else by_id[i].label,
        key=f"admin.iterations.choice.{pi.id}",
    )
    record = by_id.get(choice) if choice != NEW else None
    form = FormState(
        f"admin.iteration.{record.id if record else f'new.{pi.id}'}",
        entity="iteration",
        record_id=record.id if record else None,
    )
    version = form.open(record)
    values: dict[str, Any] = dict(record.values) if record else {}
    with st.form(f"{form.name}#{form.generation}"):
        a, b, c = st.columns(3)
        name = a.text_input("Iteration name", key=form.init("name", values.get("name", "")))
        start = b.date_input(
            "Iteration start",
            key=form.init("start_date", values.get("start_date")),
            format="YYYY-MM-DD",
        )
        end = c.date_input(
            "Iteration end", key=form.init("end_date", values.get("end_date")), format="YYYY-MM-DD"
        )
        submitted = st.form_submit_button(
            "Save iteration" if record else "Add iteration", type="primary"
        )
    fields = {"name": name, "start_date": start, "end_date": end}
    if submitted:
        if record is None:
            save(
                frame,
                form,
                lambda session, key: iterations.create_iteration(
                    session, actor=frame.actor, pi_id=pi.id, submission_key=key, **fields
                ),
                success=lambda i: f"Added {i.name}.",
                labels=LABELS_HERE,
            )
        else:
            save_changes(
                frame,
                form,
                fields,
                lambda session, changes, key: iterations.update_iteration(
                    session,
                    actor=frame.actor,
                    iteration_id=record.id,
                    expected_version=version,
                    submission_key=key,
                    **changes,
                ),
                success=lambda i: f"Saved {i.name}.",
                labels=LABELS_HERE,
            )
    form.show_status()
    if record is not None and st.button(
        "Delete this iteration",
        icon=":material/delete:",
        key=f"{form.name}#{form.generation}#delete",
        help="Only an iteration without goals can go",
    ):
        save(
            frame,
            form,
            lambda session, key: iterations.delete_iteration(
                session,
                actor=frame.actor,
                iteration_id=record.id,
                expected_version=version,
                submission_key=key,
            ),
            success=f"Deleted {record['name']}.",
            labels=LABELS_HERE,
        )
