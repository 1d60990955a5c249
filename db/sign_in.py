"""Sign-in with throttling per account and client address, per client address, and a
server-wide ceiling (README "Sign-in throttling").

- An account typed from one client ("pair"): after PAIR_MAX_FAILURES failures in a row
  that pair is locked for 60 s, doubling per further lock up to PAIR_MAX_LOCK_SECONDS.
  The lock belongs to the client that failed: the real user signs in from elsewhere, so
  an attacker cannot lock an admin out, and can extend a lock only for themself.
- A client address: CLIENT_MAX_FAILURES failures within CLIENT_WINDOW_SECONDS, over any
  names, lock that client (60 s doubling up to CLIENT_MAX_LOCK_SECONDS): spraying one
  password over many names is slowed as much as guessing one name.
- The server: over GLOBAL_MAX_FAILURES failures in GLOBAL_WINDOW_SECONDS, a client with
  a recent failure is refused until the window ends (many addresses, one ceiling); a
  client without failures still signs in.
- Unknown and known names are counted, answered and timed alike: one argon2 verification
  per attempt that is not refused by a lock (a dummy hash for an unknown name), and a
  locked attempt does no hashing whoever it names.
- The hash is verified between two short transactions, never inside the write one, so
  other writers do not wait for it during an attack.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.access import Actor
from core.validate import unstorable
from db import users
from db.audit import record_audit
from db.engine import read_session, write_session
from db.models import SignInThrottle, User
from db.users import WRONG_CREDENTIALS, AuthResult, actor_for

PAIR_MAX_FAILURES = 5
PAIR_FIRST_LOCK_SECONDS = 60
PAIR_MAX_LOCK_SECONDS = 15 * 60
CLIENT_MAX_FAILURES = 20
CLIENT_WINDOW_SECONDS = 10 * 60
CLIENT_FIRST_LOCK_SECONDS = 60
CLIENT_MAX_LOCK_SECONDS = 60 * 60
GLOBAL_MAX_FAILURES = 200
GLOBAL_WINDOW_SECONDS = 60
GLOBAL_KEY = "global"
UNKNOWN_CLIENT = "unknown"
MAX_KEY_PART = 140  # the key column holds 300 characters


def _naive_utc(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(tzinfo=None) if now.tzinfo else now


def client_key(client: str | None) -> str:
    return f"client:{(client or UNKNOWN_CLIENT)[:MAX_KEY_PART]}"


def pair_key(username: str, client: str | None) -> str:
    name = username.strip().lower()[:MAX_KEY_PART]
    return f"pair:{(client or UNKNOWN_CLIENT)[:MAX_KEY_PART]}:{name}"


def _lock_message(seconds: float) -> str:
    return f"Too many attempts: try again in {max(1, math.ceil(seconds))} s"


@dataclass(frozen=True)
class _Candidate:
    """What the first, read-only step found: the account's hash (None: no usable
    account) and a lock that refuses the attempt outright."""

    user_id: int | None
    password_hash: str | None
    locked_seconds: float | None


def _remaining(row: SignInThrottle | None, now: dt.datetime) -> float | None:
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return (row.locked_until - now).total_seconds()


def _look_up(session: Session, username: str, client: str | None, now: dt.datetime) -> _Candidate:
    keys = [pair_key(username, client), client_key(client), GLOBAL_KEY]
    rows = {
        r.key: r
        for r in session.scalars(select(SignInThrottle).where(SignInThrottle.key.in_(keys)))
    }
    locks = [_remaining(rows.get(key), now) for key in keys[:2]]
    waits = [seconds for seconds in locks if seconds is not None]
    global_row = rows.get(GLOBAL_KEY)
    client_row = rows.get(keys[1])
    if (
        global_row is not None
        and global_row.failures >= GLOBAL_MAX_FAILURES
        and now < global_row.window_start + dt.timedelta(seconds=GLOBAL_WINDOW_SECONDS)
        and client_row is not None
        and client_row.failures > 0
    ):
        end = global_row.window_start + dt.timedelta(seconds=GLOBAL_WINDOW_SECONDS)
        waits.append((end - now).total_seconds())
    user = session.scalars(
        select(User).where(func.lower(User.username) == username.strip().lower())
    ).first()
    usable = user is not None and user.active and user.password_hash is not None
    return _Candidate(
        user.id if usable else None,  # type: ignore[union-attr]
        user.password_hash if usable else None,  # type: ignore[union-attr]
        max(waits) if waits else None,
    )


def _row(session: Session, key: str, now: dt.datetime) -> SignInThrottle:
    row = session.get(SignInThrottle, key, with_for_update=True)
    if row is None:
        row = SignInThrottle(key=key, failures=0, window_start=now, lockouts=0)
        session.add(row)
    return row


def _count_failure(
    session: Session, username: str, client: str | None, now: dt.datetime
) -> float | None:
    """Count a failure on every key; the seconds of a lock it starts, or None."""
    locked: list[float] = []
    pair = _row(session, pair_key(username, client), now)
    pair.failures += 1
    if pair.failures >= PAIR_MAX_FAILURES:
        pair.lockouts += 1
        seconds = min(
            PAIR_FIRST_LOCK_SECONDS * 2 ** min(pair.lockouts - 1, 20), PAIR_MAX_LOCK_SECONDS
        )
        pair.failures = 0
        pair.locked_until = now + dt.timedelta(seconds=seconds)
        locked.append(seconds)
        record_audit(
            session,
            actor=Actor.system("sign-in"),
            action="update",
            entity="user",
            entity_id=None,
            summary=(
                f"Sign-in of {username.strip()[:MAX_KEY_PART]} from "
                f"{client or UNKNOWN_CLIENT} locked for {seconds} s after "
                f"{PAIR_MAX_FAILURES} failed attempts (that client only)"
            ),
        )
    for key, window, most, first, longest in (
        (
            client_key(client),
            CLIENT_WINDOW_SECONDS,
            CLIENT_MAX_FAILURES,
            CLIENT_FIRST_LOCK_SECONDS,
            CLIENT_MAX_LOCK_SECONDS,
        ),
        (GLOBAL_KEY, GLOBAL_WINDOW_SECONDS, None, 0, 0),
    ):
        row = _row(session, key, now)
        if now >= row.window_start + dt.timedelta(seconds=window):
            row.window_start, row.failures = now, 0  # a new window
        row.failures += 1
        if most is not None and row.failures >= most:
            row.lockouts += 1
            seconds = min(first * 2 ** min(row.lockouts - 1, 20), longest)
            row.failures = 0
            row.window_start = now
            row.locked_until = now + dt.timedelta(seconds=seconds)
            locked.append(seconds)
    session.flush()
    return max(locked) if locked else None


def sign_in(
    engine: Engine, *, username: str, password: str, client: str | None, now: dt.datetime
) -> AuthResult:
    """Check a sign-in from `client` (an address; None when unknown)."""
    now = _naive_utc(now)
    username = username if isinstance(username, str) else ""
    password = password if isinstance(password, str) else ""
    if unstorable(username) or unstorable(password) or (client and unstorable(client)):
        users._verify(None, "")  # the same work as any wrong password
        return AuthResult(False, None, WRONG_CREDENTIALS)
    with read_session(engine) as session:
        candidate = _look_up(session, username, client, now)
    if candidate.locked_seconds is not None:
        return AuthResult(False, None, _lock_message(candidate.locked_seconds))

    # Outside any transaction: about 0.13 s of argon2 that no other writer waits for.
    good = users._verify(candidate.password_hash, password)
    new_hash = None
    if good and users.hasher.check_needs_rehash(candidate.password_hash or ""):
        new_hash = users.hash_password(password)

    # A failure writes only throttle rows, which no page shows: the caches stay.
    with write_session(engine, seen_by_pages=good and candidate.user_id is not None) as session:
        if not good or candidate.user_id is None:
            seconds = _count_failure(session, username, client, now)
            message = _lock_message(seconds) if seconds is not None else WRONG_CREDENTIALS
            return AuthResult(False, None, message)
        user = session.get(User, candidate.user_id)
        if user is None or not user.active or user.password_hash != candidate.password_hash:
            # Changed between the two steps (a password reset, disabled): not this one.
            _count_failure(session, username, client, now)
            return AuthResult(False, None, WRONG_CREDENTIALS)
        pair = session.get(SignInThrottle, pair_key(username, client))
        if pair is not None:
            session.delete(pair)
        if new_hash is not None:
            user.password_hash = new_hash
        session.flush()
        return AuthResult(True, actor_for(session, user), f"Signed in as {user.username}")
