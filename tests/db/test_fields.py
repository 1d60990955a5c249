"""Fields and limits are declared once (core/fields.py): the columns hold them, the write
functions and the workspace importer refuse the same over-long text, and the edit forms
open every field the write functions take, on both databases."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import Engine, String, select

from core import changes
from core import fields as declared
from core.access import Actor
from core.errors import ValidationError
from db import edit_queries, models
from db.engine import read_session, write_session
from db.models import Metric, Team
from db.workspace import import_workspace
from db.writes import create_metric

ADMIN = Actor.system("tester")
MODELS = {
    "train": models.Train,
    "team": models.Team,
    "pi": models.PI,
    "metric": models.Metric,
    "release": models.Release,
    "outcome": models.Outcome,
    "target": models.Target,
    "hypothesis": models.Hypothesis,
    "checkin": models.CheckIn,
}


@pytest.mark.parametrize("entity", declared.ENTITIES, ids=lambda e: e.name)
def test_every_declared_field_is_a_column_long_enough(entity: declared.Entity) -> None:
    table = MODELS[entity.name].__table__
    for field in entity.fields:
        column = table.columns[field.name]
        length = getattr(column.type, "length", None)
        if field.max_length is not None and isinstance(column.type, String) and length:
            assert length >= field.max_length, f"{entity.name}.{field.name}"


@pytest.mark.parametrize(
    ("entity", "form_fields"),
    [
        (declared.TRAIN, edit_queries.TRAIN_FIELDS),
        (declared.TEAM, edit_queries.TEAM_FIELDS),
        (declared.PI, edit_queries.PI_FIELDS),
        (declared.METRIC, edit_queries.METRIC_FIELDS),
        (declared.OUTCOME, edit_queries.OUTCOME_FIELDS),
        (declared.TARGET, edit_queries.TARGET_FIELDS),
        (declared.HYPOTHESIS, edit_queries.HYPOTHESIS_FIELDS),
    ],
    ids=lambda value: getattr(value, "name", ""),
)
def test_edit_forms_open_every_declared_field(
    entity: declared.Entity, form_fields: tuple[str, ...]
) -> None:
    # Was: the target form lacked archived, the hypothesis form learning, decision and
    # archived, so an edit could not round-trip what the write function takes.
    assert form_fields == entity.names


DESCRIPTION = "x" * (declared.METRIC.max_length("description") + 1000)  # 3,000 characters


def _team(engine: Engine) -> int:
    with write_session(engine) as session:
        team = Team(name="Checkout", key="CHK")
        session.add(team)
        session.flush()
        return team.id


def test_form_refuses_a_metric_description_over_the_limit(engine: Engine) -> None:
    team_id = _team(engine)
    with pytest.raises(ValidationError) as error, write_session(engine) as session:
        create_metric(
            session, actor=ADMIN, team_id=team_id, name="Conversion", description=DESCRIPTION
        )
    assert [p.where for p in error.value.problems] == ["description"]


def test_workspace_import_refuses_the_same_description_naming_record_and_field(
    engine: Engine,
) -> None:
    # Was: it imported, and the next edit of that metric was refused by the form's limit.
    _team(engine)
    document = {
        "format": "outcome-board/1",
        "metrics": [{"team": "Checkout", "name": "Conversion", "description": DESCRIPTION}],
    }
    with pytest.raises(ValidationError) as error, write_session(engine) as session:
        import_workspace(session, actor=ADMIN, document=document)
    (problem,) = error.value.problems
    assert problem.where.startswith("metrics[0]") and problem.where.endswith(".description")
    assert "at most 2000" in problem.message
    with read_session(engine) as session:
        assert session.scalars(select(Metric)).all() == []


def test_a_description_at_the_limit_imports(engine: Engine) -> None:
    _team(engine)
    text = "x" * declared.METRIC.max_length("description")
    document = {
        "format": "outcome-board/1",
        "metrics": [{"team": "Checkout", "name": "Conversion", "description": text}],
    }
    with write_session(engine) as session:
        import_workspace(session, actor=ADMIN, document=document)
    with read_session(engine) as session:
        (metric,) = session.scalars(select(Metric)).all()
        assert metric.description == text


@pytest.mark.parametrize(
    ("entity", "kind"),
    [
        (declared.TRAIN, changes.TrainChanges),
        (declared.TEAM, changes.TeamChanges),
        (declared.PI, changes.PIChanges),
        (declared.METRIC, changes.MetricChanges),
        (declared.RELEASE, changes.ReleaseChanges),
        (declared.OUTCOME, changes.OutcomeChanges),
        (declared.TARGET, changes.TargetChanges),
        (declared.HYPOTHESIS, changes.HypothesisChanges),
    ],
    ids=lambda value: getattr(value, "name", ""),
)
def test_change_objects_carry_exactly_the_declared_fields(
    entity: declared.Entity, kind: type[changes.Changes]
) -> None:
    assert tuple(f.name for f in dataclasses.fields(kind)) == entity.names
    assert kind().values() == {}  # every field defaults to "unchanged"


def test_a_change_object_refuses_a_field_the_entity_has_not() -> None:
    with pytest.raises(ValidationError) as error:
        changes.MetricChanges.of({"unit": "%", "version": 3})
    assert [(p.where, p.message) for p in error.value.problems] == [
        ("version", "cannot be changed here")
    ]
    assert changes.MetricChanges.of({"unit": "%"}).values() == {"unit": "%"}
