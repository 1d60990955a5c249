"""Form idempotency: a submitted form's key is claimed in the write's own transaction,
so a double click, a rerun or a reconnect writes once."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import ValidationError
from core.validate import unstorable
from db.audit import utcnow
from db.models import SubmissionKey

SUBMISSION_KEY_LENGTH = 64  # SubmissionKey.key


class DuplicateSubmission(RuntimeError):
    """This form submission was already written (double click, rerun or reconnect)."""


def claim_submission(session: Session, *, key: str | None) -> None:
    """Mark a submitted form's idempotency key as used in this transaction; a key that
    was already used raises DuplicateSubmission, so the same submission writes once.
    The claim rolls back with the transaction, so a failed save can be retried."""
    if not key:
        return
    if not isinstance(key, str) or len(key) > SUBMISSION_KEY_LENGTH or unstorable(key):
        raise ValidationError("is not a form's submission key", where="submission_key")
    if session.get(SubmissionKey, key) is not None:
        raise DuplicateSubmission(key)
    try:
        with session.begin_nested():
            session.add(SubmissionKey(key=key, at=utcnow()))
            session.flush()
    except IntegrityError as error:  # a concurrent writer claimed it first
        raise DuplicateSubmission(key) from error
