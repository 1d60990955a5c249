"""Plan: write a team's outcomes with targets and hypotheses, with the quality checks live
beside the form; keep the team's metrics; copy unfinished work into the next PI."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from core.access import can_administer, can_edit_team
from core.checks import team_checks
from db import edit_queries, queries
from db.edit_queries import EditRecord, PlanChecksInput
from db.engine import read_session
from db.writes import CopyResult, copy_to_next_pi
from ui.data import cached_read
from ui.filters import param_select
from ui.forms import FormState, KeyedWrite, metrics_editor, save
from ui.frame import Frame, page_frame
from ui.iterations import goals_section
from ui.plan_forms import (
    Scope,
    hypothesis_form,
    hypothesis_summary,
    just_added,
    outcome_editor,
    target_form,
    target_summary,
)
from ui.sources import metric_source_editor
from ui.text import escape_markdown

frame = page_frame("plan")

# `?team=train` selects the train-level outcomes: team keys are upper case, so no team
# can be called that. `?outcome=_new` is a new outcome: outcome keys start alphanumeric.
TRAIN_LEVEL = "train"
NEW_OUTCOME = "_new"

list_pis = cached_read(queries.list_pis)
list_teams = cached_read(queries.list_teams)
current_pi = cached_read(queries.current_pi)


def pick_scope(frame: Frame, today: dt.date) -> Scope:
    pis = list_pis()
    if not pis:
        st.info("There is no PI yet: an admin adds PIs on the Admin page.")
        st.stop()
    teams = [t for t in list_teams() if can_edit_team(frame.actor, t.id)]
    names = {t.key: t.name for t in teams}
    if can_administer(frame.actor):
        names[TRAIN_LEVEL] = "Train-level outcomes"
    if not names:
        st.info("You may not change any team's plan. Ask an admin to add you to your team.")
        st.stop()
    requested = st.query_params.get("team")
    if requested and requested not in names:
        st.warning(
            f"You may not plan for team {escape_markdown(requested)}: pick one of your teams."
        )
        st.query_params.pop("team", None)
    default = current_pi(today=today)
    left, middle, _ = st.columns([1, 1, 2])
    pi_name = param_select(
        "PI",
        [p.name for p in pis],
        param="pi",
        default=default.name if default else None,
        container=left,
    )
    team_key = param_select(
        "Team", list(names), param="team", format_func=lambda k: names[k], container=middle
    )
    pi = next(p for p in pis if p.name == pi_name)
    team = next((t for t in teams if t.key == team_key), None)
    return Scope(pi, team.id if team else None, str(team_key), names[str(team_key)])


# ---------------------------------------------------------------- outcomes


def pick_outcome(outcomes: list[EditRecord]) -> EditRecord | None:
    by_key = {o["key"]: o for o in outcomes}
    if st.query_params.get("outcome") not in (*by_key, NEW_OUTCOME, None):
        st.query_params.pop("outcome", None)  # from another team or PI: start afresh
    column, _ = st.columns([2, 2])
    choice = param_select(
        "Outcome",
        [*by_key, NEW_OUTCOME],
        param="outcome",
        format_func=lambda k: (
            "+ New outcome"
            if k == NEW_OUTCOME
            else f"{by_key[k].label}{' (archived)' if by_key[k]['status'] == 'archived' else ''}"
        ),
        container=column,
    )
    return by_key.get(str(choice))


def team_advice(scope: Scope, checks_input: PlanChecksInput) -> None:
    if scope.team_id is None:
        return
    live = [o for o in checks_input.outcomes if o.status != "archived"]
    for check in team_checks(live, checks_input.metrics):
        st.warning(
            escape_markdown(f"{scope.team_name}: {check.message}"), icon=":material/lightbulb:"
        )


def targets_and_hypotheses(frame: Frame, scope: Scope, outcome: EditRecord) -> None:
    with read_session(frame.engine) as session:
        targets = edit_queries.outcome_targets(session, outcome_id=outcome.id)
        hypotheses = edit_queries.outcome_hypotheses(session, outcome_id=outcome.id)
        metrics = edit_queries.metric_choices(session, team_id=scope.team_id)
        releases = edit_queries.team_releases(session, team_id=scope.team_id)
    st.subheader("Targets", anchor=False)
    st.caption("What “better” means: a metric, its baseline and its target.")
    for target in targets:
        with st.expander(escape_markdown(target_summary(target))):
            target_form(frame, scope.pi.end_date, outcome, target, metrics)
    with st.expander(
        "Add a target",
        icon=":material/add:",
        expanded=not targets or just_added("target", outcome.id),
    ):
        target_form(frame, scope.pi.end_date, outcome, None, metrics)
    st.subheader("Hypotheses", anchor=False)
    st.caption("If we build X, we expect Y, because Z.")
    for hypothesis in hypotheses:
        with st.expander(escape_markdown(hypothesis_summary(hypothesis))):
            hypothesis_form(frame, outcome, hypothesis, metrics, releases)
    with st.expander(
        "Add a hypothesis",
        icon=":material/add:",
        expanded=not hypotheses or just_added("hypothesis", outcome.id),
    ):
        hypothesis_form(frame, outcome, None, metrics, releases)


# ---------------------------------------------------------------- copy


def copy_note(result: CopyResult) -> str:
    """What a copy did, outcome by outcome (shown as the form's note)."""
    count = len(result.copied)
    head = f"Copied {count} outcome{'' if count == 1 else 's'} into {result.to_pi}"
    if not result.copied and not result.skipped:
        return head + " (none were left to copy)."
    return f"{head}. " + " ".join(result.lines())


def copy_section(frame: Frame, scope: Scope, checks_input: PlanChecksInput) -> None:
    with read_session(frame.engine) as session:
        later = edit_queries.later_pis(session, pi_id=scope.pi.id)
    if not later:
        st.info("There is no later PI to copy into yet: an admin adds it on the Admin page.")
        return
    names = {p.id: p.name for p in later}
    unfinished = [o for o in checks_input.outcomes if o.status in ("draft", "active")]
    column, _ = st.columns([1, 2])
    to_pi = column.selectbox(
        "Copy into", list(names), format_func=lambda i: names[i], key="plan.copy.to"
    )
    whose = (
        "every team's and the train's"
        if scope.team_id is None
        else f"{escape_markdown(scope.team_name)}'s"
    )
    st.caption(
        f"Copies {whose} unfinished outcomes in {escape_markdown(scope.pi.name)} (draft or active: "
        f"{len(unfinished)} here) with their targets and open hypotheses, as drafts. An "
        "outcome whose key is already used in the other PI gets the next free key; one "
        "already copied there (same title) is skipped. The result lists each."
    )
    form = FormState(f"plan.copy.{scope.pi.id}.{scope.team_key}")
    if st.button(
        f"Copy unfinished outcomes and open hypotheses to {escape_markdown(names[to_pi])}",
        type="primary",
        key=form.button_key("go"),
    ):
        save(
            frame,
            form,
            KeyedWrite(
                copy_to_next_pi,
                actor=frame.actor,
                from_pi_id=scope.pi.id,
                to_pi_id=to_pi,
                team_id=scope.team_id,
            ),
            success=copy_note,
        )
    if form.show_status():
        st.page_link(
            "pages/plan.py",
            label=f"Open {escape_markdown(names[to_pi])}",
            icon=":material/arrow_forward:",
            query_params={"pi": names[to_pi], "team": scope.team_key},
        )


# ---------------------------------------------------------------- the page

st.title("Plan", anchor=False)
st.caption(
    "Write outcomes as changes for users, with targets you can measure and hypotheses you "
    "can test. The checks beside the form are advice; they never stop a save."
)
today = dt.date.today()
scope = pick_scope(frame, today)
with read_session(frame.engine) as session:
    outcomes = edit_queries.pi_outcomes(session, pi_id=scope.pi.id, team_id=scope.team_id)
    parents = edit_queries.train_outcomes(session, pi_id=scope.pi.id)
    checks_input = edit_queries.plan_checks_input(session, pi_id=scope.pi.id, team_id=scope.team_id)
outcomes_tab, goals_tab, metrics_tab, copy_tab = st.tabs(
    ["Outcomes", "Iteration goals", "Metrics", "Copy to the next PI"]
)
with outcomes_tab:
    team_advice(scope, checks_input)
    outcome = pick_outcome(outcomes)
    outcome_editor(frame, scope, outcome, outcomes, parents, checks_input)
    if outcome is not None:
        st.divider()
        targets_and_hypotheses(frame, scope, outcome)
with goals_tab:
    goals_section(frame, pi=scope.pi, team_id=scope.team_id, team_name=scope.team_name, today=today)
with metrics_tab:
    if scope.team_id is None:
        st.info("Metrics belong to teams: pick a team to change its metrics.")
    else:
        metrics_editor(frame, team_id=scope.team_id, team_name=scope.team_name, context="plan")
        metric_source_editor(
            frame, team_id=scope.team_id, team_name=scope.team_name, context="plan"
        )
with copy_tab:
    copy_section(frame, scope, checks_input)
