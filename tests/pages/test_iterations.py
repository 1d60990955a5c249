"""Iteration goals through AppTest: the Plan page's goal form (valid save with its audit
event, each invalid field named with nothing written, a stale version refused, a double
submit written once, the task-phrasing check live), the Admin page's iterations, and the
current goal on the team, overview and present pages of the demo."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from core.access import Actor
from core.changes import IterationGoalChanges
from db import iterations
from db.engine import read_session, write_session
from db.models import Iteration, IterationGoal
from tests.pages.test_dashboards import (  # noqa: F401 - fixtures used by name
    AS_OF,
    CURRENT_PI,
    Open,
    database,
)
from tests.pages.test_dashboards import open_page as open_page
from tests.pages.test_dashboards import texts as dashboard_texts
from tests.pages.update_workspace import (
    ADMIN,
    TODAY,
    Workspace,
    button,
    by_label,
    page,
    texts,
    unescape,
)
from ui import state

GOAL = "Returning buyers pay with a saved card in one step"


def spans(ws: Workspace) -> list[iterations.IterationInfo]:
    with read_session(ws.engine) as session:
        return iterations.pi_iterations(session, pi_id=ws.pi)


def running(ws: Workspace) -> iterations.IterationInfo:
    return next(i for i in spans(ws) if i.start <= TODAY <= i.end)


def plan(ws: Workspace, actor: Actor | None = None) -> AppTest:
    at = page("pages/plan.py", actor or ws.editor, pi="PI now", team="CHK", outcome="CHK-1")
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> str:
    return unescape("\n".join(e.value for e in at.error))


def stored_goal(ws: Workspace, text: str = GOAL) -> int:
    with write_session(ws.engine) as session:
        return iterations.create_iteration_goal(
            session,
            actor=ADMIN,
            iteration_id=running(ws).id,
            team_id=ws.chk,
            goal=text,
            outcome_id=ws.outcome,
        ).id


# ---------------------------------------------------------------- Plan: the goal form


def test_the_goal_form_opens_on_the_running_iteration(ws: Workspace) -> None:
    at = plan(ws)

    chosen = by_label(at.selectbox, "Iteration")
    assert chosen.value == running(ws).id
    assert by_label(at.selectbox, "Met").disabled  # judged at the end
    assert "judge at the end" in unescape(texts(at)).lower()


def test_setting_a_goal_lands_with_its_audit_event(ws: Workspace) -> None:
    at = plan(ws)
    by_label(at.text_input, "Goal").set_value(GOAL)
    by_label(at.selectbox, "Metric (optional)").set_value(ws.conversion)

    button(at, "Set goal").click().run()

    assert not at.exception
    assert f"Set the goal for {running(ws).name}" in unescape(texts(at))
    assert ws.count(IterationGoal, IterationGoal.goal == GOAL) == 1
    event = ws.audit("iteration_goal", "create")[-1]
    assert event.actor == ws.editor.username and GOAL in (event.after or "")
    assert by_label(at.button, "Save goal")  # the goal now opens for editing


def test_a_task_phrased_goal_gets_live_advice(ws: Workspace) -> None:
    at = plan(ws)

    by_label(at.text_input, "Goal").set_value("Build the saved-card button").run()

    assert "reads like a task" in unescape(texts(at))
    assert ws.count(IterationGoal) == 0  # advice only, nothing saved


@pytest.mark.parametrize(
    ("goal", "forged_met", "message"),
    [
        ("", None, "**Goal**: is required"),
        ("x" * 501, None, "**Goal**: is too long (501 characters, at most 500)"),
        # A forged client: the browser shows Met disabled until the iteration ends.
        (GOAL, True, "**Met**: is judged at the iteration's end"),
    ],
)
def test_an_invalid_goal_field_is_named_and_nothing_is_written(
    ws: Workspace, goal: str, forged_met: bool | None, message: str
) -> None:
    at = plan(ws)
    by_label(at.text_input, "Goal").set_value(goal)
    if forged_met is not None:
        at.session_state[f"plan.goal.new.{running(ws).id}.{ws.chk}#0.met"] = (
            "yes" if forged_met else "no"
        )

    button(at, "Set goal").click().run()

    assert message in errors(at)
    assert ws.count(IterationGoal) == 0
    assert ws.audit("iteration_goal") == []
    assert by_label(at.text_input, "Goal").value == goal  # the input is kept


def test_met_is_set_once_the_iteration_has_ended(ws: Workspace) -> None:
    first = spans(ws)[0]
    assert first.end < TODAY
    at = plan(ws)
    by_label(at.selectbox, "Iteration").set_value(first.id).run()
    by_label(at.text_input, "Goal").set_value(GOAL)
    by_label(at.selectbox, "Met").set_value("yes")

    button(at, "Set goal").click().run()

    assert not at.exception and not at.error
    assert ws.count(IterationGoal, IterationGoal.met.is_(True)) == 1


def test_a_stale_goal_is_refused_with_the_input_kept(ws: Workspace) -> None:
    goal_id = stored_goal(ws)
    at = plan(ws)
    by_label(at.text_input, "Goal").set_value("Buyers pay in one step on mobile")
    with write_session(ws.engine) as session:  # someone else saves first
        iterations.update_iteration_goal(
            session,
            actor=ADMIN,
            goal_id=goal_id,
            expected_version=1,
            changes=IterationGoalChanges(metric_id=ws.conversion),
        )

    button(at, "Save goal").click().run()

    warning = unescape(at.warning[0].value)
    assert "changed by test-admin" in warning and "Your input is kept" in warning
    assert by_label(at.text_input, "Goal").value == "Buyers pay in one step on mobile"
    assert ws.get(IterationGoal, goal_id).goal == GOAL


def test_the_same_goal_submission_twice_writes_once(ws: Workspace) -> None:
    form = f"plan.goal.new.{running(ws).id}.{ws.chk}"
    at = plan(ws)
    at.session_state[state.SUBMISSIONS] = {form: "goal-click-1"}
    by_label(at.text_input, "Goal").set_value(GOAL)
    button(at, "Set goal").click().run()

    # The same submission arrives again (a double click, a reconnect): a new form cycle
    # for the new goal, but the same key.
    with write_session(ws.engine) as session:
        session.query(IterationGoal).delete()  # so only the key can stop a second write
    at.run()
    at.session_state[state.SUBMISSIONS] = {form: "goal-click-1"}
    by_label(at.text_input, "Goal").set_value(GOAL)
    button(at, "Set goal").click().run()

    assert "Already saved" in unescape(texts(at))
    assert ws.count(IterationGoal) == 0
    assert len(ws.audit("iteration_goal", "create")) == 1


def test_a_viewer_cannot_set_goals(ws: Workspace) -> None:
    at = page("pages/plan.py", ws.viewer, pi="PI now", team="CHK")
    assert not at.exception
    assert not [b for b in at.button if b.label == "Set goal"]


# ---------------------------------------------------------------- Admin: iterations


def test_admin_remakes_iterations_with_another_length(ws: Workspace) -> None:
    at = page("pages/admin.py", ADMIN)
    assert not at.exception
    by_label(at.selectbox, "PI").set_value(ws.pi).run()
    by_label(at.number_input, "Length (days)").set_value(7)

    button(at, "Make iterations from the PI's dates").click().run()

    assert not at.exception
    assert all(i.end - i.start <= dt.timedelta(days=10) for i in spans(ws))
    assert len(spans(ws)) == 10
    assert "Made 10 iterations" in unescape(texts(at))


def test_admin_cannot_overlap_iterations(ws: Workspace) -> None:
    first, second = spans(ws)[:2]
    at = page("pages/admin.py", ADMIN)
    by_label(at.selectbox, "PI").set_value(ws.pi).run()
    by_label(at.selectbox, "Iteration to edit").set_value(first.id).run()
    by_label(at.date_input, "Iteration end").set_value(second.start + dt.timedelta(days=2))

    button(at, "Save iteration").click().run()

    assert "**Iteration start**: overlaps I2" in errors(at)
    with read_session(ws.engine) as session:
        assert session.get(Iteration, first.id).end_date == first.end


# ---------------------------------------------------------------- the dashboards (demo)


def test_team_page_shows_the_current_iteration_goal(open_page: Open) -> None:
    at = open_page("pages/team.py", pi=CURRENT_PI, team="CHK", as_of=AS_OF)
    shown = dashboard_texts(at)
    assert "Iteration goal" in shown
    assert "I4 · 26 Oct – 8 Nov" in shown
    assert "More first-time buyers finish checkout on mobile" in shown
    assert "For CHK-1 · Raise checkout conversion" in shown and "met: judged at the end" in shown


def test_team_page_without_a_goal_says_where_to_set_it(open_page: Open) -> None:
    at = open_page("pages/team.py", pi=CURRENT_PI, team="STL", as_of=AS_OF)
    assert "No goal for this iteration yet" in dashboard_texts(at)


def test_overview_counts_teams_with_a_goal(open_page: Open) -> None:
    at = open_page("app.py", pi=CURRENT_PI, as_of=AS_OF)
    assert "Iteration I4 · 26 Oct – 8 Nov: 4 of 5 teams have a goal" in dashboard_texts(at)


def test_present_shows_the_goal_on_the_team_slide(open_page: Open) -> None:
    at = open_page("pages/present.py", pi=CURRENT_PI, as_of=AS_OF)
    assert "Iteration I4 goal: More first-time buyers finish checkout on mobile" in (
        dashboard_texts(at)
    )
