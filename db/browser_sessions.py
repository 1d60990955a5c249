"""Sign-ins that last in one browser: start one (after db.sign_in.sign_in said yes),
find the account a browser's cookie stands for, and revoke one.

The cookie holds a random 256-bit id (secrets.token_urlsafe); the table holds only its
SHA-256, so the id is a bearer secret that a copy of the database does not reveal. A
browser session counts while it is not revoked, not expired, its account is active and
the account's session_version is the one it started under: sign-out revokes that one
browser; disabling the account, a new password or role, a restore and "sign out
everywhere" (db.sessions.end_sessions) end them all at once."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import secrets

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.access import Actor
from db.models import BrowserSession, User
from db.users import actor_for

# The cookie that carries a browser's id (set by api/sign_in.py, read by ui/auth.py).
BROWSER_COOKIE = "outcomes_session"
SIGN_IN_PATH = "/auth/sign-in"
DEFAULT_HOURS = 12.0
# Longest a sign-in may last, whatever the setting says: a month.
MAX_HOURS = 24.0 * 31
ID_BYTES = 32
MAX_ID_LENGTH = 100  # a cookie value longer than this is not one of ours


def session_hours() -> float:
    """`OUTCOMES_SESSION_HOURS` (default 12): how long a sign-in lasts in a browser. A value
    that is not a positive number gives the default; more than a month gives a month."""
    raw = os.environ.get("OUTCOMES_SESSION_HOURS", "").strip()
    try:
        hours = float(raw) if raw else DEFAULT_HOURS
    except ValueError:
        return DEFAULT_HOURS
    if not math.isfinite(hours) or hours <= 0:
        return DEFAULT_HOURS
    return min(hours, MAX_HOURS)


def _naive_utc(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(tzinfo=None) if now.tzinfo else now


def id_hash(browser_id: str) -> str:
    return hashlib.sha256(browser_id.encode("utf-8", "surrogatepass")).hexdigest()


def start_browser_session(
    session: Session, *, username: str, now: dt.datetime, hours: float
) -> str:
    """A new browser session for an active account; returns the id the cookie carries
    (shown once, never stored). Raises LookupError for a missing or disabled account."""
    now = _naive_utc(now)
    user = session.scalars(
        select(User).where(func.lower(User.username) == username.strip().lower())
    ).first()
    if user is None or not user.active:
        raise LookupError(f"no active account {username!r}")
    browser_id = secrets.token_urlsafe(ID_BYTES)
    session.add(
        BrowserSession(
            id_hash=id_hash(browser_id),
            user_id=user.id,
            session_version=user.session_version,
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    session.flush()
    return browser_id


def browser_actor(session: Session, *, browser_id: str | None, now: dt.datetime) -> Actor | None:
    """The signed-in actor a browser's cookie stands for, or None (no cookie, unknown,
    revoked, expired, account disabled or its sessions ended)."""
    if not isinstance(browser_id, str) or not browser_id or len(browser_id) > MAX_ID_LENGTH:
        return None
    now = _naive_utc(now)
    row = session.scalars(
        select(BrowserSession).where(BrowserSession.id_hash == id_hash(browser_id))
    ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active or user.session_version != row.session_version:
        return None
    return actor_for(session, user)


def revoke_browser_session(session: Session, *, browser_id: str | None, now: dt.datetime) -> bool:
    """Sign one browser out: its id no longer signs anyone in. Whether one was open."""
    if not isinstance(browser_id, str) or not browser_id or len(browser_id) > MAX_ID_LENGTH:
        return False
    result = session.execute(
        update(BrowserSession)
        .where(BrowserSession.id_hash == id_hash(browser_id), BrowserSession.revoked_at.is_(None))
        .values(revoked_at=_naive_utc(now))
    )
    return bool(result.rowcount)
