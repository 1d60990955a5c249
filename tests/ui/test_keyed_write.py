"""KeyedWrite, the one idempotency convention of the forms: the submission key reaches
the write as `submission_key=` when it takes one, and is claimed first otherwise; either
way a second submit with the same key writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.access import Actor
from db.engine import read_session, write_session
from db.models import SubmissionKey, Train
from db.writes import DuplicateSubmission, create_train
from ui.forms import KeyedWrite


def trains(engine: Engine) -> int:
    with read_session(engine) as session:
        return session.scalar(select(func.count()).select_from(Train)) or 0


def test_a_write_without_submission_key_has_the_key_claimed_first(
    engine: Engine, admin: Actor
) -> None:
    write = KeyedWrite(create_train, actor=admin, name="Payments")

    with write_session(engine) as session:
        write(session, "click-1")
    with pytest.raises(DuplicateSubmission), write_session(engine) as session:
        write(session, "click-1")

    assert not write.takes_key
    assert trains(engine) == 1
    with read_session(engine) as session:
        assert session.get(SubmissionKey, "click-1") is not None


def test_a_write_that_takes_submission_key_gets_it_and_its_arguments(engine: Engine) -> None:
    seen: list[dict[str, object]] = []

    def write(session: Session, *, name: str, submission_key: str | None = None) -> str:
        seen.append({"name": name, "submission_key": submission_key})
        return name

    keyed = KeyedWrite(write, name="a").bind(name="b")

    with write_session(engine) as session:
        assert keyed(session, "click-2") == "b"

    assert keyed.takes_key
    assert seen == [{"name": "b", "submission_key": "click-2"}]
    with read_session(engine) as session:  # the write claims it itself, not the helper
        assert session.get(SubmissionKey, "click-2") is None
