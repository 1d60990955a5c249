"""Session versions: a signed-in session ends when its account's password, role or active
flag changes or a restore replaces it. Checked on every write (db.audit.record_audit)
and every page run (ui.auth.current_actor)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import Actor
from core.errors import SessionEnded
from core.validate import unstorable
from db.models import User, new_session_version

__all__ = [
    "SESSION_ENDED",
    "check_session",
    "end_sessions",
    "session_is_current",
    "session_version_of",
]

SESSION_ENDED = (
    "Your session has ended (your password, role or account changed, or a backup was "
    "restored): sign in again. Nothing was saved."
)


def session_version_of(session: Session, *, username: str) -> int | None:
    """The current session version of an active account, or None (no such account, or
    disabled). A session (or a future sign-in cookie) that carries another value has
    ended; this is the one function that says what the value is."""
    if not isinstance(username, str) or unstorable(username):
        return None
    row = session.execute(
        select(User.session_version, User.active).where(
            func.lower(User.username) == username.strip().lower()
        )
    ).first()
    if row is None or not row.active:
        return None
    return int(row.session_version)


def session_is_current(session: Session, actor: Actor) -> bool:
    """Whether a signed-in actor's session is still valid. Actors no sign-in made
    (session_version None: the command line, the demo loader) have nothing to end."""
    if actor.session_version is None:
        return True
    return session_version_of(session, username=actor.username) == actor.session_version


def check_session(session: Session, actor: Actor) -> None:
    """Raise SessionEnded when the actor's session has ended (every write calls this in
    its transaction, through db.audit.record_audit)."""
    if not session_is_current(session, actor):
        raise SessionEnded(SESSION_ENDED)


def end_sessions(user: User) -> None:
    """End every open session of an account (a new random version; never the old one)."""
    old = user.session_version
    user.session_version = new_session_version()
    while user.session_version == old:
        user.session_version = new_session_version()
