"""The README's permissions table, checked cell by cell against the write path: for every
write action and every role, allowed or refused as documented, and nothing written when
refused. The matrix is generated from the table, and the table must name every write."""

from __future__ import annotations

import datetime as dt
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.access import Actor
from core.changes import (
    HypothesisChanges,
    IterationChanges,
    IterationGoalChanges,
    MetricChanges,
    OutcomeChanges,
    PIChanges,
    ReleaseChanges,
    TargetChanges,
    TeamChanges,
    TrainChanges,
)
from core.errors import PermissionDenied
from db import digest, iterations, sources, tokens, writes
from db.engine import read_session, write_session
from db.models import AuditEvent, Base
from tests.workspace import Builder, checkout_and_search

README = Path(__file__).resolve().parents[2] / "README.md"
ROLES = ("anonymous", "viewer", "editor, other team", "editor, own team", "admin")
DAY = dt.date(2026, 10, 5)


def permissions_table() -> dict[str, dict[str, bool]]:
    text = README.read_text()
    block = text.split("<!-- permissions:start -->", 1)[1].split("<!-- permissions:end -->", 1)[0]
    rows = [line for line in block.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in rows[0].strip("|").split("|")]
    assert tuple(header[1:]) == ROLES, header
    table: dict[str, dict[str, bool]] = {}
    for line in rows[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        action = re.search(r"`([a-z_]+)`", cells[0])
        assert action, f"no `function` named in {cells[0]!r}"
        table[action.group(1)] = {
            role: cell == "yes" for role, cell in zip(ROLES, cells[1:], strict=True)
        }
    return table


@dataclass(frozen=True)
class Ids:
    train: int
    team: int
    other_team: int
    pi: int
    next_pi: int
    metric: int
    release: int
    outcome: int
    train_outcome: int
    target: int
    hypothesis: int
    reading: int
    iteration: int
    next_iteration: int
    goal: int


def build(engine: Engine) -> Ids:
    admin = Actor.system("setup")
    with write_session(engine) as s:
        b = Builder(s, actor=admin)
        train, team, other = checkout_and_search(b)
        pi = b.pi("PI 1", DAY, DAY + dt.timedelta(days=70), train=train)
        next_pi = b.pi(
            "PI 2", DAY + dt.timedelta(days=71), DAY + dt.timedelta(days=140), train=train
        )
        metric = b.metric(team, "Conversion", unit="%")
        release = b.release(team, "v1", DAY)
        train_outcome = b.outcome(pi, None, "T-1", "Grow")
        outcome = b.outcome(pi, team, "CHK-1", "Raise conversion", status="active")
        target = b.target(outcome, metric, baseline=2.0, target=3.0, baseline_date=DAY)
        hypothesis = b.hypothesis(
            outcome, metric, if_text="we add one-click pay", expect_text="more finish"
        )
        b.readings(metric, {DAY: 2.0}, source="form")
        reading_id = s.execute(select(func.max(writes.Reading.id))).scalar_one()
        first, second = writes._pi_iterations(s, pi_id=pi.id)[:2]
        goal = iterations.create_iteration_goal(
            s,
            actor=admin,
            iteration_id=first.id,
            team_id=team.id,
            goal="Buyers finish in one click",
            outcome_id=outcome.id,
        )
        return Ids(
            train.id,
            team.id,
            other.id,
            pi.id,
            next_pi.id,
            metric.id,
            release.id,
            outcome.id,
            train_outcome.id,
            target.id,
            hypothesis.id,
            reading_id,
            second.id,
            writes._pi_iterations(s, pi_id=next_pi.id)[-1].id,
            goal.id,
        )


Action = Callable[[Session, Actor, Ids], Any]

ACTIONS: dict[str, Action] = {
    "create_train": lambda s, a, i: writes.create_train(s, actor=a, name="Another train"),
    "update_train": lambda s, a, i: writes.update_train(
        s, actor=a, train_id=i.train, expected_version=None, changes=TrainChanges(name="Renamed")
    ),
    "create_team": lambda s, a, i: writes.create_team(s, actor=a, name="Mobile", key="MOB"),
    "update_team": lambda s, a, i: writes.update_team(
        s, actor=a, team_id=i.team, expected_version=None, changes=TeamChanges(name="Checkout 2")
    ),
    "create_pi": lambda s, a, i: writes.create_pi(
        s, actor=a, name="PI 9", start_date=dt.date(2030, 1, 1), end_date=dt.date(2030, 3, 1)
    ),
    "update_pi": lambda s, a, i: writes.update_pi(
        s, actor=a, pi_id=i.pi, expected_version=None, changes=PIChanges(name="PI 1b")
    ),
    "create_metric": lambda s, a, i: writes.create_metric(
        s, actor=a, team_id=i.team, name="Latency"
    ),
    "update_metric": lambda s, a, i: writes.update_metric(
        s, actor=a, metric_id=i.metric, expected_version=None, changes=MetricChanges(unit="pct")
    ),
    "create_release": lambda s, a, i: writes.create_release(
        s, actor=a, team_id=i.team, name="v2", date=DAY
    ),
    "update_release": lambda s, a, i: writes.update_release(
        s, actor=a, release_id=i.release, expected_version=None, changes=ReleaseChanges(notes="n")
    ),
    "archive_release": lambda s, a, i: writes.archive_release(
        s, actor=a, release_id=i.release, expected_version=None
    ),
    "create_outcome": lambda s, a, i: writes.create_outcome(
        s, actor=a, pi_id=i.pi, team_id=i.team, key="CHK-2", title="Cut latency"
    ),
    "update_outcome": lambda s, a, i: writes.update_outcome(
        s,
        actor=a,
        outcome_id=i.outcome,
        expected_version=None,
        changes=OutcomeChanges(title="Raise it"),
    ),
    "archive_outcome": lambda s, a, i: writes.archive_outcome(
        s, actor=a, outcome_id=i.outcome, expected_version=None
    ),
    "score_outcome": lambda s, a, i: writes.score_outcome(
        s, actor=a, outcome_id=i.outcome, actual_bv=7, expected_version=None
    ),
    "add_target": lambda s, a, i: writes.add_target(
        s,
        actor=a,
        outcome_id=i.outcome,
        metric_id=writes.create_metric(s, actor=Actor.system(), team_id=i.team, name="Second").id,
        target=5.0,
        kind="increase",
    ),
    "update_target": lambda s, a, i: writes.update_target(
        s, actor=a, target_id=i.target, expected_version=None, changes=TargetChanges(target=4.0)
    ),
    "add_hypothesis": lambda s, a, i: writes.add_hypothesis(
        s, actor=a, outcome_id=i.outcome, metric_id=i.metric, if_text="x", expect_text="y"
    ),
    "update_hypothesis": lambda s, a, i: writes.update_hypothesis(
        s,
        actor=a,
        hypothesis_id=i.hypothesis,
        expected_version=None,
        changes=HypothesisChanges(learning="l"),
    ),
    "override_verdict": lambda s, a, i: writes.override_verdict(
        s,
        actor=a,
        hypothesis_id=i.hypothesis,
        expected_version=None,
        override="supported",
        reason="seen in interviews",
    ),
    "add_checkin": lambda s, a, i: writes.add_checkin(
        s, actor=a, outcome_id=i.outcome, confidence=7
    ),
    "copy_to_next_pi": lambda s, a, i: writes.copy_to_next_pi(
        s, actor=a, from_pi_id=i.pi, to_pi_id=i.next_pi, team_id=i.team
    ),
    "set_metric_source": lambda s, a, i: sources.set_metric_source(
        s, actor=a, metric_id=i.metric, spec={"kind": "csv_url", "url": "https://x.example/a.csv"}
    ),
    "record_readings": lambda s, a, i: writes.record_readings(
        s, actor=a, entries=[writes.ReadingEntry(i.metric, DAY + dt.timedelta(days=7), 2.2)]
    ),
    "delete_reading": lambda s, a, i: writes.delete_reading(s, actor=a, reading_id=i.reading),
    "generate_iterations": lambda s, a, i: iterations.generate_iterations(
        s, actor=a, pi_id=i.next_pi, length_days=7
    ),
    "create_iteration": lambda s, a, i: (
        iterations.delete_iteration(
            s, actor=Actor.system(), iteration_id=i.next_iteration, expected_version=None
        ),
        iterations.create_iteration(
            s,
            actor=a,
            pi_id=i.next_pi,
            name="IP",
            start_date=DAY + dt.timedelta(days=134),
            end_date=DAY + dt.timedelta(days=140),
        ),
    ),
    "update_iteration": lambda s, a, i: iterations.update_iteration(
        s,
        actor=a,
        iteration_id=i.iteration,
        expected_version=None,
        changes=IterationChanges(name="Sprint 2"),
    ),
    "delete_iteration": lambda s, a, i: iterations.delete_iteration(
        s, actor=a, iteration_id=i.next_iteration, expected_version=None
    ),
    "create_iteration_goal": lambda s, a, i: iterations.create_iteration_goal(
        s,
        actor=a,
        iteration_id=i.iteration,
        team_id=i.team,
        goal="Buyers pay in one step",
        outcome_id=i.outcome,
    ),
    "update_iteration_goal": lambda s, a, i: iterations.update_iteration_goal(
        s,
        actor=a,
        goal_id=i.goal,
        expected_version=None,
        changes=IterationGoalChanges(goal="Buyers pay in one step"),
    ),
    "create_token": lambda s, a, i: tokens.create_token(
        s, actor=a, name="pipeline", team_key="CHK", scope="readings:write"
    ),
    "revoke_token": lambda s, a, i: (
        tokens.create_token(
            s, actor=Actor.system(), name="old", team_key="CHK", scope="readings:write"
        ),
        tokens.revoke_token(s, actor=a, name="old"),
    ),
    "set_digest_destination": lambda s, a, i: digest.set_digest_destination(
        s, actor=a, team_id=i.team, kind="email", target="team@example.com"
    ),
    "delete_digest_destination": lambda s, a, i: digest.delete_digest_destination(
        s,
        actor=a,
        destination_id=digest.set_digest_destination(
            s, actor=Actor.system(), train_id=i.train, kind="webhook", target="train-chat"
        ).id,
    ),
}


def actor_for(role: str, ids: Ids) -> Actor:
    return {
        "anonymous": Actor.anonymous(),
        "viewer": Actor("vera", "viewer"),
        "editor, other team": Actor("otto", "editor", frozenset({ids.other_team})),
        "editor, own team": Actor("edna", "editor", frozenset({ids.team})),
        "admin": Actor("ada", "admin"),
    }[role]


def table_rows() -> list[tuple[str, str, bool]]:
    return [
        (action, role, allowed)
        for action, cells in permissions_table().items()
        for role, allowed in cells.items()
        if action in ACTIONS
    ]


def fingerprint(engine: Engine) -> dict[str, int]:
    """Row counts and the highest version of every table: changes if anything is written."""
    counts: dict[str, int] = {}
    with read_session(engine) as s:
        for table in Base.metadata.sorted_tables:
            counts[table.name] = s.scalar(select(func.count()).select_from(table)) or 0
            if "version" in table.c:
                counts[f"{table.name}.version"] = s.scalar(select(func.sum(table.c.version))) or 0
    return counts


def test_table_names_every_write_function() -> None:
    documented = set(permissions_table())
    public = {
        name
        for module in (writes, iterations, sources)
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__
        and "actor" in inspect.signature(fn).parameters
        and not name.startswith("_")
    }
    assert public - documented == set(), (
        "write functions missing from the README's permissions table"
    )
    assert public <= set(ACTIONS)


@pytest.mark.parametrize(("action", "role", "allowed"), table_rows())
def test_permission(engine: Engine, action: str, role: str, allowed: bool) -> None:
    ids = build(engine)
    actor = actor_for(role, ids)
    before = fingerprint(engine)
    if allowed:
        with write_session(engine) as s:
            ACTIONS[action](s, actor, ids)
        with read_session(engine) as s:
            assert s.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.actor == actor.username)
            )
    else:
        with pytest.raises(PermissionDenied), write_session(engine) as s:
            ACTIONS[action](s, actor, ids)
        assert fingerprint(engine) == before
