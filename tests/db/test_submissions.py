"""One idempotency convention: every db write a page form uses takes `submission_key=`
and claims it in its own transaction, so a double click writes once, on both databases."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from core.access import Actor
from core.changes import TrainChanges
from core.errors import ValidationError
from db import iterations, users, workspace, writes
from db.engine import read_session, write_session
from db.models import AuditEvent, Train
from db.readings import import_reading_file, import_readings, record_readings
from db.record import record_after_release
from db.submissions import DuplicateSubmission

ADMIN = Actor.system("tester")
FORM_WRITES: list[Callable[..., Any]] = [
    writes.create_train,
    writes.update_train,
    writes.create_team,
    writes.update_team,
    writes.create_pi,
    writes.update_pi,
    writes.create_metric,
    writes.update_metric,
    writes.create_release,
    writes.update_release,
    writes.archive_release,
    record_after_release,
    writes.create_outcome,
    writes.update_outcome,
    writes.archive_outcome,
    writes.add_target,
    writes.update_target,
    writes.add_hypothesis,
    writes.update_hypothesis,
    writes.add_checkin,
    writes.copy_to_next_pi,
    writes.delete_reading,
    iterations.generate_iterations,
    iterations.create_iteration,
    iterations.update_iteration,
    iterations.delete_iteration,
    iterations.create_iteration_goal,
    iterations.update_iteration_goal,
    users.create_user,
    users.update_user,
    users.set_password,
    workspace.import_workspace,
    record_readings,
    import_readings,
    import_reading_file,
]


@pytest.mark.parametrize("write", FORM_WRITES, ids=lambda f: f.__name__)
def test_every_form_write_takes_a_submission_key(write: Callable[..., Any]) -> None:
    parameter = inspect.signature(write).parameters.get("submission_key")
    assert parameter is not None and parameter.kind is inspect.Parameter.KEYWORD_ONLY
    assert parameter.default is None


def _trains(engine: Engine) -> tuple[list[str], int]:
    with read_session(engine) as session:
        names = list(session.scalars(select(Train.name).order_by(Train.id)))
        events = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    return names, events


def test_a_create_submitted_twice_writes_once(engine: Engine) -> None:
    with write_session(engine) as session:
        writes.create_train(session, actor=ADMIN, name="Payments", submission_key="k1")
    with pytest.raises(DuplicateSubmission), write_session(engine) as session:
        writes.create_train(session, actor=ADMIN, name="Payments 2", submission_key="k1")
    assert _trains(engine) == (["Payments"], 1)


def test_an_update_submitted_twice_writes_once(engine: Engine) -> None:
    with write_session(engine) as session:
        train_id = writes.create_train(session, actor=ADMIN, name="Payments").id
    for name in ("Logistics", "Logistics again"):
        try:
            with write_session(engine) as session:
                writes.update_train(
                    session,
                    actor=ADMIN,
                    train_id=train_id,
                    expected_version=None,
                    changes=TrainChanges(name=name),
                    submission_key="k2",
                )
        except DuplicateSubmission:
            pass
    assert _trains(engine) == (["Logistics"], 2)


def test_a_refused_write_leaves_its_key_free_for_the_retry(engine: Engine) -> None:
    with pytest.raises(ValidationError), write_session(engine) as session:
        writes.create_train(session, actor=ADMIN, name="", submission_key="k3")
    with write_session(engine) as session:
        writes.create_train(session, actor=ADMIN, name="Payments", submission_key="k3")
    assert _trains(engine) == (["Payments"], 1)
