"""Iterations and iteration goals in the write path, on SQLite and PostgreSQL: a new PI
gets its iterations, admins edit them (no overlap, inside the PI), editors of a team set
its one goal per iteration, every bad field is named and nothing is written."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, func, select

from core.access import Actor
from core.changes import IterationChanges, IterationGoalChanges, PIChanges
from core.errors import ConflictError, PermissionDenied, ValidationError
from db import iterations, writes
from db.engine import read_session, write_session
from db.models import AuditEvent, Iteration, IterationGoal
from db.writes import DuplicateSubmission
from tests.workspace import Builder, checkout_and_search

START = dt.date(2026, 10, 5)  # a Monday; the PI runs 75 days (PRODUCT.md's PI 26.4)
END = dt.date(2026, 12, 18)
AFTER_I1 = dt.date(2026, 10, 19)  # the day after I1 ends


@dataclass(frozen=True)
class Workspace:
    pi_id: int
    team_id: int
    other_team_id: int
    outcome_id: int
    other_outcome_id: int
    metric_id: int
    other_metric_id: int
    iteration_ids: tuple[int, ...]


@pytest.fixture
def ws(engine: Engine, admin: Actor) -> Workspace:
    with write_session(engine) as s:
        b = Builder(s, actor=admin)
        train, team, other = checkout_and_search(b)
        pi = b.pi("PI 26.4", START, END, train=train)
        metric = b.metric(team, "Conversion")
        other_metric = b.metric(other, "Clicks")
        outcome = b.outcome(pi, team, "CHK-1", "More buyers")
        other_outcome = b.outcome(pi, other, "SRC-1", "Find faster")
        ids = tuple(i.id for i in writes._pi_iterations(s, pi_id=pi.id))
        return Workspace(
            pi.id,
            team.id,
            other.id,
            outcome.id,
            other_outcome.id,
            metric.id,
            other_metric.id,
            ids,
        )


def spans(engine: Engine, pi_id: int) -> list[tuple[str, str, str]]:
    with read_session(engine) as s:
        return [
            (i.name, i.start.isoformat(), i.end.isoformat())
            for i in iterations.pi_iterations(s, pi_id=pi_id)
        ]


def count(engine: Engine, model: type, *where: object) -> int:
    with read_session(engine) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def editor(ws: Workspace) -> Actor:
    return Actor("edna", "editor", frozenset({ws.team_id}))


def add_goal(engine: Engine, ws: Workspace, actor: Actor | None = None, **fields: object) -> int:
    values = {
        "iteration_id": ws.iteration_ids[0],
        "team_id": ws.team_id,
        "goal": "Returning buyers finish checkout in one click",
        "outcome_id": ws.outcome_id,
        **fields,
    }
    with write_session(engine) as s:
        goal = iterations.create_iteration_goal(s, actor=actor or editor(ws), today=START, **values)
        return goal.id


# ---------------------------------------------------------------- iterations


def test_a_new_pi_gets_its_iterations_from_its_dates(engine: Engine, ws: Workspace) -> None:
    assert spans(engine, ws.pi_id) == [
        ("I1", "2026-10-05", "2026-10-18"),
        ("I2", "2026-10-19", "2026-11-01"),
        ("I3", "2026-11-02", "2026-11-15"),
        ("I4", "2026-11-16", "2026-11-29"),
        ("I5", "2026-11-30", "2026-12-18"),
    ]
    assert count(engine, AuditEvent, AuditEvent.entity == "iteration") == 5


def test_generate_with_another_length_replaces_them(
    engine: Engine, ws: Workspace, admin: Actor
) -> None:
    with write_session(engine) as s:
        iterations.generate_iterations(s, actor=admin, pi_id=ws.pi_id, length_days=21)
    assert [name for name, *_ in spans(engine, ws.pi_id)] == ["I1", "I2", "I3", "I4"]
    assert spans(engine, ws.pi_id)[-1] == ("I4", "2026-12-07", "2026-12-18")
    # I1-I4 keep their records with new dates (4 updates), I5 goes (1 delete)
    assert count(engine, AuditEvent, AuditEvent.entity == "iteration") == 5 + 4 + 1


def test_generating_the_same_plan_again_writes_nothing(
    engine: Engine, ws: Workspace, admin: Actor
) -> None:
    with write_session(engine) as s:
        iterations.generate_iterations(s, actor=admin, pi_id=ws.pi_id)
    assert count(engine, AuditEvent, AuditEvent.entity == "iteration") == 5
    with read_session(engine) as s:
        assert [i.version for i in iterations.pi_iterations(s, pi_id=ws.pi_id)] == [1] * 5


def test_generate_is_refused_once_a_goal_exists(
    engine: Engine, ws: Workspace, admin: Actor
) -> None:
    add_goal(engine, ws)
    with pytest.raises(ValidationError) as raised, write_session(engine) as s:
        iterations.generate_iterations(s, actor=admin, pi_id=ws.pi_id, length_days=7)
    assert raised.value.fields() == {"length_days"}
    assert len(spans(engine, ws.pi_id)) == 5


def test_moving_a_pi_moves_its_iterations_while_no_goal_holds_them(
    engine: Engine, ws: Workspace, admin: Actor
) -> None:
    with write_session(engine) as s:
        writes.update_pi(
            s,
            actor=admin,
            pi_id=ws.pi_id,
            expected_version=None,
            changes=PIChanges(end_date=dt.date(2026, 11, 29)),
        )
    assert spans(engine, ws.pi_id)[-1] == ("I4", "2026-11-16", "2026-11-29")


def test_a_pi_cannot_shrink_away_from_iterations_with_goals(
    engine: Engine, ws: Workspace, admin: Actor
) -> None:
    add_goal(engine, ws)
    with pytest.raises(ValidationError) as raised, write_session(engine) as s:
        writes.update_pi(
            s,
            actor=admin,
            pi_id=ws.pi_id,
            expected_version=None,
            changes=PIChanges(end_date=dt.date(2026, 11, 29)),
        )
    assert raised.value.fields() == {"end_date"}
    assert "I5" in str(raised.value)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"name": " "}, {"name"}),
        ({"name": "I2"}, {"name"}),  # unique within the PI
        ({"start_date": "soon"}, {"start_date"}),
        ({"end_date": dt.date(2026, 10, 1)}, {"end_date"}),  # before its start
        ({"start_date": dt.date(2026, 10, 1)}, {"start_date"}),  # before the PI
        ({"end_date": dt.date(2026, 10, 25)}, {"start_date"}),  # overlaps I2
    ],
)
def test_bad_iteration_edits_name_the_field_and_write_nothing(
    engine: Engine, ws: Workspace, admin: Actor, changes: dict, fields: set[str]
) -> None:
    before = spans(engine, ws.pi_id)
    with pytest.raises(ValidationError) as raised, write_session(engine) as s:
        iterations.update_iteration(
            s,
            actor=admin,
            iteration_id=ws.iteration_ids[0],
            expected_version=1,
            changes=IterationChanges.of(changes),
        )
    assert raised.value.fields() == fields
    assert spans(engine, ws.pi_id) == before


def test_iteration_edit_is_versioned_and_audited(
    engine: Engine, ws: Workspace, admin: Actor
) -> None:
    with write_session(engine) as s:
        iterations.update_iteration(
            s,
            actor=admin,
            iteration_id=ws.iteration_ids[-1],
            expected_version=1,
            changes=IterationChanges(name="IP", end_date=dt.date(2026, 12, 11)),
        )
    assert spans(engine, ws.pi_id)[-1] == ("IP", "2026-11-30", "2026-12-11")
    with pytest.raises(ConflictError), write_session(engine) as s:
        iterations.update_iteration(
            s,
            actor=admin,
            iteration_id=ws.iteration_ids[-1],
            expected_version=1,
            changes=IterationChanges(name="I5"),
        )
    # a gap at the end leaves room for one more
    with write_session(engine) as s:
        iterations.create_iteration(
            s,
            actor=admin,
            pi_id=ws.pi_id,
            name="I6",
            start_date=dt.date(2026, 12, 12),
            end_date=END,
        )
    assert spans(engine, ws.pi_id)[-1] == ("I6", "2026-12-12", "2026-12-18")
    assert count(engine, AuditEvent, AuditEvent.entity == "iteration") == 5 + 2


def test_an_iteration_with_goals_cannot_be_deleted(
    engine: Engine, ws: Workspace, admin: Actor
) -> None:
    add_goal(engine, ws)
    with pytest.raises(ValidationError), write_session(engine) as s:
        iterations.delete_iteration(
            s, actor=admin, iteration_id=ws.iteration_ids[0], expected_version=None
        )
    with write_session(engine) as s:
        iterations.delete_iteration(
            s, actor=admin, iteration_id=ws.iteration_ids[1], expected_version=1
        )
    assert [name for name, *_ in spans(engine, ws.pi_id)] == ["I1", "I3", "I4", "I5"]


@pytest.mark.parametrize("role", ["anonymous", "viewer", "editor"])
def test_only_admins_edit_iterations(engine: Engine, ws: Workspace, role: str) -> None:
    actor = {
        "anonymous": Actor.anonymous(),
        "viewer": Actor("vera", "viewer"),
        "editor": editor(ws),
    }[role]
    with pytest.raises(PermissionDenied), write_session(engine) as s:
        iterations.generate_iterations(s, actor=actor, pi_id=ws.pi_id)
    assert len(spans(engine, ws.pi_id)) == 5


# ---------------------------------------------------------------- goals


def test_an_editor_sets_the_team_goal_with_an_audit_event(engine: Engine, ws: Workspace) -> None:
    goal_id = add_goal(engine, ws, metric_id=ws.metric_id)
    with read_session(engine) as s:
        goal = s.get(IterationGoal, goal_id)
        assert goal is not None and goal.met is None and goal.metric_id == ws.metric_id
        event = s.scalar(select(AuditEvent).where(AuditEvent.entity == "iteration_goal"))
    assert event is not None and event.actor == "edna" and event.entity_id == goal_id


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"goal": "  "}, "goal"),
        ({"goal": "x" * 501}, "goal"),
        ({"outcome_id": None}, "outcome"),
        ({"outcome_id": "CHK-1"}, "outcome"),
        ({"outcome_id": "other"}, "outcome"),  # another team's outcome
        ({"metric_id": "other"}, "metric"),  # another team's metric
        ({"metric_id": 99999}, "metric"),
        ({"met": "maybe"}, "met"),
        ({"met": True}, "met"),  # judged before the iteration ended
        ({"iteration_id": 99999}, "iteration"),
    ],
)
def test_bad_goal_names_the_field_and_writes_nothing(
    engine: Engine, ws: Workspace, fields: dict, where: str
) -> None:
    if fields.get("outcome_id") == "other":
        fields["outcome_id"] = ws.other_outcome_id
    if fields.get("metric_id") == "other":
        fields["metric_id"] = ws.other_metric_id
    with pytest.raises(ValidationError) as raised:
        add_goal(engine, ws, **fields)
    assert raised.value.fields() == {where}
    assert count(engine, IterationGoal) == 0
    assert count(engine, AuditEvent, AuditEvent.entity == "iteration_goal") == 0


def test_one_goal_per_team_per_iteration(engine: Engine, ws: Workspace) -> None:
    add_goal(engine, ws)
    with pytest.raises(ValidationError) as raised:
        add_goal(engine, ws, goal="A second goal")
    assert raised.value.fields() == {"iteration"}
    add_goal(engine, ws, iteration_id=ws.iteration_ids[1])  # the next iteration is free
    assert count(engine, IterationGoal) == 2


def test_met_is_judged_once_the_iteration_ended(engine: Engine, ws: Workspace) -> None:
    goal_id = add_goal(engine, ws)
    with pytest.raises(ValidationError) as raised, write_session(engine) as s:
        iterations.update_iteration_goal(
            s,
            actor=editor(ws),
            goal_id=goal_id,
            expected_version=1,
            changes=IterationGoalChanges(met=True),
            today=START,
        )
    assert raised.value.fields() == {"met"}
    with write_session(engine) as s:
        iterations.update_iteration_goal(
            s,
            actor=editor(ws),
            goal_id=goal_id,
            expected_version=1,
            changes=IterationGoalChanges(met=True),
            today=AFTER_I1,
        )
    with read_session(engine) as s:
        goal = s.get(IterationGoal, goal_id)
        assert goal is not None and goal.met is True and goal.version == 2


def test_stale_goal_version_is_refused(engine: Engine, ws: Workspace) -> None:
    goal_id = add_goal(engine, ws)
    with write_session(engine) as s:
        iterations.update_iteration_goal(
            s,
            actor=editor(ws),
            goal_id=goal_id,
            expected_version=1,
            changes=IterationGoalChanges(goal="Buyers pay faster"),
        )
    with pytest.raises(ConflictError) as raised, write_session(engine) as s:
        iterations.update_iteration_goal(
            s,
            actor=editor(ws),
            goal_id=goal_id,
            expected_version=1,
            changes=IterationGoalChanges(goal="Another"),
        )
    assert "goal" in raised.value.changes


def test_a_goal_submission_writes_once(engine: Engine, ws: Workspace) -> None:
    add_goal(engine, ws, submission_key="form-1")
    with pytest.raises(DuplicateSubmission):
        add_goal(engine, ws, submission_key="form-1")
    assert count(engine, IterationGoal) == 1


@pytest.mark.parametrize("role", ["anonymous", "viewer", "editor, other team"])
def test_only_the_team_and_admins_set_its_goal(engine: Engine, ws: Workspace, role: str) -> None:
    actor = {
        "anonymous": Actor.anonymous(),
        "viewer": Actor("vera", "viewer"),
        "editor, other team": Actor("otto", "editor", frozenset({ws.other_team_id})),
    }[role]
    with pytest.raises(PermissionDenied):
        add_goal(engine, ws, actor=actor)
    assert count(engine, IterationGoal) == 0


def test_current_goals_reads_the_iteration_of_the_day(engine: Engine, ws: Workspace) -> None:
    add_goal(engine, ws, iteration_id=ws.iteration_ids[1])
    with read_session(engine) as s:
        current = iterations.current_goals(s, pi_id=ws.pi_id, day=dt.date(2026, 10, 20))
        before = iterations.current_goals(s, pi_id=ws.pi_id, day=dt.date(2026, 10, 4))
    assert current.iteration is not None and current.iteration.name == "I2"
    assert list(current.goals) == [ws.team_id]
    assert current.goals[ws.team_id].outcome_key == "CHK-1"
    assert before.iteration is None and not before.goals
    with read_session(engine) as s:
        assert [
            g.iteration for g in iterations.team_goals(s, pi_id=ws.pi_id, team_id=ws.team_id)
        ] == ["I2"]
    assert count(engine, Iteration) == 5
