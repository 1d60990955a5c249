"""KeyedWrite, the one idempotency convention of the forms: the submission key reaches
the write as `submission_key=` (every db write a form uses claims it itself), a second
submit with the same key writes nothing, and changed fields become the write's typed
change object."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.access import Actor
from core.changes import TrainChanges
from core.errors import ValidationError
from db.engine import read_session, write_session
from db.models import SubmissionKey, Train
from db.submissions import DuplicateSubmission
from db.writes import create_train, update_train
from ui.forms import KeyedWrite


def trains(engine: Engine) -> int:
    with read_session(engine) as session:
        return session.scalar(select(func.count()).select_from(Train)) or 0


def test_a_second_submit_with_the_same_key_writes_nothing(engine: Engine, admin: Actor) -> None:
    write = KeyedWrite(create_train, actor=admin, name="Payments")

    with write_session(engine) as session:
        write(session, "click-1")
    with pytest.raises(DuplicateSubmission), write_session(engine) as session:
        write(session, "click-1")

    assert trains(engine) == 1
    with read_session(engine) as session:
        assert session.get(SubmissionKey, "click-1") is not None


def test_the_write_gets_the_key_and_its_arguments(engine: Engine) -> None:
    seen: list[dict[str, object]] = []

    def write(session: Session, *, name: str, submission_key: str | None = None) -> str:
        seen.append({"name": name, "submission_key": submission_key})
        return name

    keyed = KeyedWrite(write, name="a").bind(name="b")

    with write_session(engine) as session:
        assert keyed(session, "click-2") == "b"

    assert seen == [{"name": "b", "submission_key": "click-2"}]
    with read_session(engine) as session:  # the write claims it itself, not the helper
        assert session.get(SubmissionKey, "click-2") is None


def test_a_write_without_submission_key_is_refused_at_once() -> None:
    def write(session: Session, *, name: str) -> str:
        return name

    with pytest.raises(TypeError, match="takes no submission_key"):
        KeyedWrite(write, name="a")


def test_changed_fields_become_the_typed_change_object(engine: Engine, admin: Actor) -> None:
    with write_session(engine) as session:
        train = create_train(session, actor=admin, name="Payments")
        train_id, version = train.id, train.version

    rename = KeyedWrite(update_train, actor=admin, train_id=train_id, expected_version=version)
    assert rename.with_changes(name="Billing").arguments["changes"] == TrainChanges(name="Billing")
    with write_session(engine) as session:
        rename.with_changes(name="Billing")(session, "click-3")
    with read_session(engine) as session:
        assert session.get(Train, train_id).name == "Billing"


def test_fields_a_write_cannot_change_are_named() -> None:
    keyed = KeyedWrite(update_train, train_id=1, expected_version=1)
    with pytest.raises(ValidationError) as raised:
        keyed.with_changes(colour="red")
    assert [p.where for p in raised.value.problems] == ["colour"]
