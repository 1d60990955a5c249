"""Iterations and iteration goals: the admin's edits of a PI's iterations, the teams'
goals, and the reads the pages show them with. Writes follow db/writes.py: validated
(every problem names its field), permission-checked, audited in the caller's
transaction, versioned where a form edits, and claimed once per form submission."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor
from core.changes import IterationChanges, IterationGoalChanges
from core.errors import ConflictError, ValidationError
from core.iterations import (
    DEFAULT_LENGTH_DAYS,
    GOAL_MAX_LENGTH,
    MAX_LENGTH_DAYS,
    MIN_LENGTH_DAYS,
    IterationSpan,
    can_judge,
    current_iteration,
    iteration_problems,
)
from core.validate import Checker
from db.audit import record_audit, snapshot
from db.edit_queries import EditRecord
from db.models import PI, Iteration, IterationGoal, Metric, Outcome, Team
from db.writes import (
    _create,
    _get,
    _given,
    _merged,
    _pi_has_goals,
    _pi_iterations,
    _replan_iterations,
    _require_admin,
    _require_team_editor,
    _update,
    claim_submission,
)

ITERATION_FIELDS = ("name", "start_date", "end_date")
GOAL_FIELDS = ("goal", "outcome_id", "metric_id", "met")


# ---------------------------------------------------------------- iterations (admins)


def _span(iteration: Iteration) -> IterationSpan:
    return IterationSpan(iteration.name, iteration.start_date, iteration.end_date)


def _iteration_values(
    session: Session, check: Checker, fields: Mapping[str, Any], pi: PI, iteration_id: int | None
) -> dict[str, Any]:
    values = {
        "name": check.text("name", fields.get("name"), max_length=30),
        "start_date": check.date("start_date", fields.get("start_date")),
        "end_date": check.date("end_date", fields.get("end_date")),
    }
    others = [i for i in _pi_iterations(session, pi_id=pi.id) if i.id != iteration_id]
    if values["name"] and any(i.name == values["name"] for i in others):
        check.add("name", f"{values['name']} is already an iteration of {pi.name}")
    if values["start_date"] and values["end_date"]:
        span = IterationSpan(values["name"], values["start_date"], values["end_date"])
        check.extend(
            iteration_problems(
                span,
                pi_start=pi.start_date,
                pi_end=pi.end_date,
                others=[_span(i) for i in others],
            )
        )
    return values


def generate_iterations(
    session: Session,
    *,
    actor: Actor,
    pi_id: int,
    length_days: int = DEFAULT_LENGTH_DAYS,
    submission_key: str | None = None,
) -> list[Iteration]:
    """Make (or remake) a PI's iterations from its dates, `length_days` each. Refused
    once a team has set a goal in one of them: those are then edited one by one."""
    _require_admin(actor, "generate iterations")
    pi = _get(session, PI, pi_id, "pi")
    check = Checker()
    length = check.integer("length_days", length_days, low=MIN_LENGTH_DAYS, high=MAX_LENGTH_DAYS)
    if _pi_has_goals(session, pi_id=pi.id):
        check.add(
            "length_days",
            f"teams have set iteration goals in {pi.name}: change its iterations one by one",
        )
    check.raise_if_any()
    assert length is not None
    claim_submission(session, key=submission_key)
    return _replan_iterations(session, actor=actor, pi=pi, length_days=length)


def create_iteration(
    session: Session,
    *,
    actor: Actor,
    pi_id: int,
    name: str,
    start_date: dt.date,
    end_date: dt.date,
    submission_key: str | None = None,
) -> Iteration:
    _require_admin(actor, "add iterations")
    pi = _get(session, PI, pi_id, "pi")
    check = Checker()
    values = _iteration_values(
        session, check, {"name": name, "start_date": start_date, "end_date": end_date}, pi, None
    )
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    return _create(
        session,
        Iteration(pi_id=pi.id, **values),
        actor=actor,
        entity="iteration",
        summary=f"iteration {values['name']} of {pi.name}",
    )


def update_iteration(
    session: Session,
    *,
    actor: Actor,
    iteration_id: int,
    expected_version: int | None,
    changes: IterationChanges,
    submission_key: str | None = None,
) -> Iteration:
    given = _given(changes, IterationChanges)
    _require_admin(actor, "change iterations")
    iteration = _get(session, Iteration, iteration_id, "iteration")
    pi = iteration.pi
    check = Checker()
    values = _iteration_values(
        session, check, _merged(iteration, given, ITERATION_FIELDS), pi, iteration.id
    )
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    _update(
        session,
        iteration,
        actor=actor,
        entity="iteration",
        expected_version=expected_version,
        values=values,
        summary=f"iteration {iteration.name} of {pi.name}",
    )
    return iteration


def delete_iteration(
    session: Session,
    *,
    actor: Actor,
    iteration_id: int,
    expected_version: int | None,
    submission_key: str | None = None,
) -> None:
    """An iteration without goals can go (it is only a time-box); one with goals stays."""
    _require_admin(actor, "delete iterations")
    iteration = _get(session, Iteration, iteration_id, "iteration")
    if expected_version is not None and type(expected_version) is not int:
        raise ValidationError("must be the version number you opened", where="expected_version")
    if expected_version is not None and iteration.version != expected_version:
        raise ConflictError("iteration")
    check = Checker()
    if session.scalar(
        select(IterationGoal.id).where(IterationGoal.iteration_id == iteration.id).limit(1)
    ):
        check.add("iteration", f"{iteration.name} has teams' goals: it cannot be deleted")
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    before = snapshot(iteration)
    summary = f"iteration {iteration.name} of {iteration.pi.name}"
    session.delete(iteration)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="delete",
        entity="iteration",
        entity_id=iteration_id,
        summary=summary,
        before=before,
    )


# ---------------------------------------------------------------- goals (the teams)


def _met(check: Checker, value: object) -> bool | None:
    """yes (True), no (False) or unknown (None)."""
    if value is None or isinstance(value, bool):
        return value
    check.add("met", "must be yes, no or unknown")
    return None


def _goal_values(
    session: Session,
    check: Checker,
    fields: Mapping[str, Any],
    *,
    iteration: Iteration,
    team_id: int,
    stored_met: bool | None,
    today: dt.date,
) -> dict[str, Any]:
    values = {
        "goal": check.text("goal", fields.get("goal"), max_length=GOAL_MAX_LENGTH),
        "outcome_id": check.record_id("outcome", fields.get("outcome_id")),
        "metric_id": check.record_id("metric", fields.get("metric_id"), required=False),
        "met": _met(check, fields.get("met")),
    }
    if values["outcome_id"] is not None:
        outcome = session.get(Outcome, values["outcome_id"])
        if (
            outcome is None
            or outcome.pi_id != iteration.pi_id
            or outcome.team_id != team_id
            or outcome.status == "archived"
        ):
            check.add("outcome", f"must be one of the team's outcomes in {iteration.pi.name}")
    if values["metric_id"] is not None:
        metric = session.get(Metric, values["metric_id"])
        if metric is None or metric.team_id != team_id or metric.archived:
            check.add("metric", "must be one of the team's metrics")
    judged_early = not can_judge(iteration.end_date, today)
    if values["met"] is not None and values["met"] != stored_met and judged_early:
        check.add(
            "met",
            f"is judged at the iteration's end: {iteration.name} ends on "
            f"{iteration.end_date}; until then it stays unknown",
        )
    return values


def _today(today: object) -> dt.date:
    """The day `met` is judged against: today unless a caller (a test) says otherwise."""
    check = Checker()
    day = check.date("today", today, required=False)
    check.raise_if_any()
    return day or dt.date.today()


def create_iteration_goal(
    session: Session,
    *,
    actor: Actor,
    iteration_id: int,
    team_id: int,
    goal: str,
    outcome_id: int,
    metric_id: int | None = None,
    met: bool | None = None,
    today: dt.date | None = None,
    submission_key: str | None = None,
) -> IterationGoal:
    """A team's one goal for an iteration (a second one is refused: edit the first)."""
    iteration = _get(session, Iteration, iteration_id, "iteration")
    team = _get(session, Team, team_id, "team")
    _require_team_editor(actor, team.id, "set iteration goals")
    day = _today(today)
    # A resubmitted form is "already saved", not "a goal exists": claim first (the claim
    # rolls back with the transaction if the goal turns out to be invalid).
    claim_submission(session, key=submission_key)
    check = Checker()
    values = _goal_values(
        session,
        check,
        {"goal": goal, "outcome_id": outcome_id, "metric_id": metric_id, "met": met},
        iteration=iteration,
        team_id=team.id,
        stored_met=None,
        today=day,
    )
    if session.scalar(
        select(IterationGoal.id).where(
            IterationGoal.iteration_id == iteration.id, IterationGoal.team_id == team.id
        )
    ):
        check.add("iteration", f"{team.name} already has a goal for {iteration.name}: edit it")
    check.raise_if_any()
    return _create(
        session,
        IterationGoal(iteration_id=iteration.id, team_id=team.id, **values),
        actor=actor,
        entity="iteration_goal",
        summary=f"{team.name}'s goal for {iteration.name} of {iteration.pi.name}",
    )


def update_iteration_goal(
    session: Session,
    *,
    actor: Actor,
    goal_id: int,
    expected_version: int | None,
    changes: IterationGoalChanges,
    today: dt.date | None = None,
    submission_key: str | None = None,
) -> IterationGoal:
    given = _given(changes, IterationGoalChanges)
    record = _get(session, IterationGoal, goal_id, "iteration_goal")
    _require_team_editor(actor, record.team_id, "change iteration goals")
    day = _today(today)
    check = Checker()
    values = _goal_values(
        session,
        check,
        _merged(record, given, GOAL_FIELDS),
        iteration=record.iteration,
        team_id=record.team_id,
        stored_met=record.met,
        today=day,
    )
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    _update(
        session,
        record,
        actor=actor,
        entity="iteration_goal",
        expected_version=expected_version,
        values=values,
        summary=f"{record.team.name}'s goal for {record.iteration.name}",
    )
    return record


# ---------------------------------------------------------------- reads


@dataclass(frozen=True)
class IterationInfo:
    id: int
    pi_id: int
    name: str
    start: dt.date
    end: dt.date
    version: int = 1

    @property
    def span(self) -> IterationSpan:
        return IterationSpan(self.name, self.start, self.end)


@dataclass(frozen=True)
class GoalInfo:
    """A team's goal for an iteration, with what it is tied to, as the pages show it."""

    id: int
    version: int
    iteration_id: int
    iteration: str
    team_id: int
    goal: str
    outcome_id: int
    outcome_key: str
    outcome_title: str
    metric_id: int | None
    metric: str | None
    met: bool | None


@dataclass(frozen=True)
class CurrentGoals:
    """The iteration that contains a day in a PI (None: none does) and the goals the
    teams set for it, by team id."""

    iteration: IterationInfo | None
    goals: Mapping[int, GoalInfo]


def pi_iterations(session: Session, *, pi_id: int) -> list[IterationInfo]:
    return [
        IterationInfo(i.id, i.pi_id, i.name, i.start_date, i.end_date, i.version)
        for i in _pi_iterations(session, pi_id=pi_id)
    ]


def iteration_records(session: Session, *, pi_id: int) -> list[EditRecord]:
    """A PI's iterations as the Admin page's forms open them."""
    return [
        EditRecord(
            id=i.id,
            version=i.version,
            values={name: getattr(i, name) for name in ITERATION_FIELDS},
            label=f"{i.name} ({i.start_date} to {i.end_date})",
        )
        for i in _pi_iterations(session, pi_id=pi_id)
    ]


def _goals(
    session: Session, *, pi_id: int, team_id: int | None = None, iteration_id: int | None = None
) -> list[GoalInfo]:
    query = (
        select(IterationGoal, Iteration.name, Outcome.key, Outcome.title, Metric.name)
        .join(Iteration, Iteration.id == IterationGoal.iteration_id)
        .join(Outcome, Outcome.id == IterationGoal.outcome_id)
        .outerjoin(Metric, Metric.id == IterationGoal.metric_id)
        .where(Iteration.pi_id == pi_id)
        .order_by(Iteration.start_date, IterationGoal.team_id)
    )
    if team_id is not None:
        query = query.where(IterationGoal.team_id == team_id)
    if iteration_id is not None:
        query = query.where(IterationGoal.iteration_id == iteration_id)
    return [
        GoalInfo(
            id=g.id,
            version=g.version,
            iteration_id=g.iteration_id,
            iteration=iteration_name,
            team_id=g.team_id,
            goal=g.goal,
            outcome_id=g.outcome_id,
            outcome_key=key,
            outcome_title=title,
            metric_id=g.metric_id,
            metric=metric_name,
            met=g.met,
        )
        for g, iteration_name, key, title, metric_name in session.execute(query)
    ]


def team_goals(session: Session, *, pi_id: int, team_id: int) -> list[GoalInfo]:
    """A team's goals in a PI, in iteration order (the Plan page)."""
    return _goals(session, pi_id=pi_id, team_id=team_id)


def current_goals(session: Session, *, pi_id: int, day: dt.date) -> CurrentGoals:
    """The iteration of `day` in the PI and every team's goal for it (team, overview and
    present pages): two small queries whatever the number of teams."""
    iterations = pi_iterations(session, pi_id=pi_id)
    span = current_iteration([i.span for i in iterations], day)
    if span is None:
        return CurrentGoals(None, {})
    iteration = next(i for i in iterations if i.name == span.name)
    goals = _goals(session, pi_id=pi_id, iteration_id=iteration.id)
    return CurrentGoals(iteration, {g.team_id: g for g in goals})
