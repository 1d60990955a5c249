"""Workspace JSON's optional `iterations` and `iteration_goals`: they round-trip on both
databases, merge by natural key, and a bad one is named with nothing written; a document
without them imports (and exports) as before."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from core.access import Actor
from core.errors import ValidationError
from db.engine import read_session, write_session
from db.models import Iteration, IterationGoal
from db.workspace import export_workspace, import_workspace
from tests.db.test_workspace import EXAMPLE

ITERATIONS = [
    {"pi": "PI 26.4", "name": "I1", "start": "2026-10-05", "end": "2026-10-18"},
    {"pi": "PI 26.4", "name": "I2", "start": "2026-10-19", "end": "2026-11-01"},
    {"pi": "PI 26.4", "name": "I3", "start": "2026-11-02", "end": "2026-12-18"},
]
GOALS = [
    {
        "pi": "PI 26.4",
        "iteration": "I1",
        "team": "Checkout",
        "goal": "Returning buyers pay in one click",
        "outcome": "CHK-1",
        "metric": "Checkout conversion",
        "met": True,
    },
    {
        "pi": "PI 26.4",
        "iteration": "I2",
        "team": "Checkout",
        "goal": "Fewer buyers drop off at the address form",
        "outcome": "CHK-1",
        "metric": None,
        "met": None,
    },
]
WITH_ITERATIONS: dict[str, Any] = {
    **copy.deepcopy(EXAMPLE),
    "iterations": ITERATIONS,
    "iteration_goals": GOALS,
}


def _import(engine: Engine, document: object) -> Any:
    with write_session(engine) as session:
        return import_workspace(session, actor=Actor.system("test-admin"), document=document)


def _export(engine: Engine) -> dict[str, Any]:
    with read_session(engine) as session:
        return export_workspace(session)


def _count(engine: Engine, model: type) -> int:
    with read_session(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_iterations_and_goals_round_trip(engine: Engine) -> None:
    _import(engine, copy.deepcopy(WITH_ITERATIONS))

    exported = _export(engine)

    assert exported["iterations"] == ITERATIONS
    assert exported["iteration_goals"] == GOALS
    assert exported == WITH_ITERATIONS


def test_a_document_without_them_imports_as_before(engine: Engine) -> None:
    _import(engine, copy.deepcopy(EXAMPLE))
    assert _export(engine) == EXAMPLE  # no empty sections appear
    assert _count(engine, Iteration) == 0


def test_importing_twice_changes_nothing_and_a_change_merges(engine: Engine) -> None:
    _import(engine, copy.deepcopy(WITH_ITERATIONS))
    again = _import(engine, copy.deepcopy(WITH_ITERATIONS))
    assert not again.created and not again.updated

    changed = copy.deepcopy(WITH_ITERATIONS)
    changed["iteration_goals"][1]["met"] = "no"  # the words are read too
    summary = _import(engine, changed)

    assert dict(summary.updated) == {"iteration_goals": 1}
    assert _export(engine)["iteration_goals"][1]["met"] is False
    assert (_count(engine, Iteration), _count(engine, IterationGoal)) == (3, 2)


def _set(path: str, value: Any):  # type: ignore[no-untyped-def]
    def mutate(document: dict[str, Any]) -> None:
        node: Any = document
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return mutate


I1 = "iterations[0] (PI 26.4/I1)"
I2 = "iterations[1] (PI 26.4/I2)"
G1 = "iteration_goals[0] (PI 26.4/I1/Checkout)"


@pytest.mark.parametrize(
    ("mutate", "wheres"),
    [
        (_set("iterations.0.start", "soon"), {f"{I1}.start"}),
        (_set("iterations.0.end", "2026-10-01"), {f"{I1}.end"}),
        (_set("iterations.0.start", "2026-10-01"), {f"{I1}.start"}),  # before the PI
        (_set("iterations.2.end", "2026-12-19"), {"iterations[2] (PI 26.4/I3).end"}),
        (_set("iterations.1.start", "2026-10-18"), {f"{I2}.start"}),  # overlaps I1
        (_set("iterations.2.name", "I1"), {"iterations[2] (PI 26.4/I1).name"}),
        (_set("iterations.2.pi", "PI 99"), {"iterations[2] (PI 99/I3).pi"}),
        (
            _set("iteration_goals.0.iteration", "I9"),
            {"iteration_goals[0] (PI 26.4/I9/Checkout).iteration"},
        ),
        (_set("iteration_goals.0.goal", " "), {f"{G1}.goal"}),
        (_set("iteration_goals.0.outcome", "CHK-9"), {f"{G1}.outcome"}),
        (_set("iteration_goals.0.metric", "Nope"), {f"{G1}.metric"}),
        (_set("iteration_goals.0.met", "maybe"), {f"{G1}.met"}),
        (
            _set("iteration_goals.1.iteration", "I1"),
            {"iteration_goals[1] (PI 26.4/I1/Checkout).team"},
        ),
    ],
)
def test_a_bad_iteration_or_goal_is_named_and_nothing_is_written(
    engine: Engine, mutate: Any, wheres: set[str]
) -> None:
    document = copy.deepcopy(WITH_ITERATIONS)
    mutate(document)

    with pytest.raises(ValidationError) as raised:
        _import(engine, document)

    assert raised.value.fields() == wheres
    assert _count(engine, Iteration) == 0


def test_a_goal_must_be_tied_to_its_own_teams_outcome(engine: Engine) -> None:
    document = copy.deepcopy(WITH_ITERATIONS)
    document["teams"].append({"name": "Search", "key": "SRC", "train": "Payments", "active": True})
    document["iteration_goals"][0]["team"] = "Search"
    document["iteration_goals"][0]["metric"] = None

    with pytest.raises(ValidationError) as raised:
        _import(engine, document)

    assert raised.value.fields() == {"iteration_goals[0] (PI 26.4/I1/Search).outcome"}
