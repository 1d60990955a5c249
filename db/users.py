"""Accounts: argon2 password hashes, sign-in with per-account throttling, the acting user
of an account, and the first-admin check. Passwords and hashes never reach the audit log."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2 import extract_parameters as argon2_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import Actor, can_administer
from core.errors import PermissionDenied, Problem, ValidationError
from core.validate import unstorable
from db.audit import record_audit
from db.models import ROLES, SignInThrottle, Team, User, UserTeam
from db.sessions import check_session, end_sessions
from db.submissions import claim_submission

MAX_FAILED_SIGN_INS = 5
FIRST_LOCK_SECONDS = 60
# Doubling without end would overflow a datetime after about 40 lockouts; a day is as
# good as forever against guessing, and an admin can unlock sooner (set_password).
MAX_LOCK_SECONDS = 24 * 60 * 60
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
WRONG_CREDENTIALS = "Wrong username or password"
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]*$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Module-level so tests can swap in cheap parameters (argon2's defaults take ~0.13 s).
hasher = PasswordHasher()


@dataclass(frozen=True)
class AuthResult:
    """The outcome of one sign-in attempt; `message` is what the form shows."""

    ok: bool
    actor: Actor | None
    message: str


@dataclass(frozen=True, kw_only=True)
class UserInfo:
    """An account as the admin page lists it (never the hash)."""

    id: int
    username: str
    display_name: str
    email: str | None
    role: str
    active: bool
    team_keys: tuple[str, ...]
    has_password: bool
    locked_until: dt.datetime | None


def hash_password(password: str) -> str:
    return hasher.hash(password)


@functools.lru_cache(maxsize=4)
def _dummy_hash(hasher_: PasswordHasher) -> str:
    return hasher_.hash("not a password of anyone")


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return hasher.verify(password_hash or _dummy_hash(hasher), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _naive_utc(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is not None:
        return now.astimezone(dt.UTC).replace(tzinfo=None)
    return now


def _lock_message(seconds: float) -> str:
    return f"Too many attempts: try again in {max(1, math.ceil(seconds))} s"


# ---------------------------------------------------------------- reads


def user_by_username(session: Session, *, username: str) -> User | None:
    """Usernames are unique regardless of case, so look them up that way."""
    if not isinstance(username, str) or unstorable(username):
        return None  # no account has such a name (and the database could not compare it)
    return session.scalars(
        select(User).where(func.lower(User.username) == username.strip().lower())
    ).first()


def user_by_email(session: Session, *, email: str) -> User | None:
    """The account single sign-on maps an e-mail address to (active or not: callers
    check `active`)."""
    if not email.strip():
        return None
    return session.scalars(select(User).where(User.email == email.strip().lower())).first()


def team_keys_of(session: Session, user: User) -> tuple[str, ...]:
    return tuple(
        session.scalars(
            select(Team.key)
            .join(UserTeam, UserTeam.team_id == Team.id)
            .where(UserTeam.user_id == user.id)
            .order_by(Team.key)
        )
    )


def actor_for(session: Session, user: User) -> Actor:
    """The acting user of an account: role and the teams an editor may change."""
    team_ids = session.scalars(select(UserTeam.team_id).where(UserTeam.user_id == user.id))
    return Actor(
        username=user.username,
        role=user.role,
        team_ids=frozenset(team_ids),
        display_name=user.display_name or user.username,
        session_version=user.session_version,
    )


def admin_exists(session: Session) -> bool:
    """Whether an active admin account exists (else the app offers its setup code)."""
    return (
        session.scalars(
            select(User.id).where(User.role == "admin", User.active.is_(True)).limit(1)
        ).first()
        is not None
    )


def list_users(session: Session) -> list[UserInfo]:
    keys: dict[int, list[str]] = {}
    for user_id, key in session.execute(
        select(UserTeam.user_id, Team.key).join(Team, Team.id == UserTeam.team_id)
    ):
        keys.setdefault(user_id, []).append(key)
    users = session.scalars(select(User)).all()
    return [
        UserInfo(
            id=u.id,
            username=u.username,
            display_name=u.display_name,
            email=u.email,
            role=u.role,
            active=bool(u.active),
            team_keys=tuple(sorted(keys.get(u.id, []))),
            has_password=u.password_hash is not None,
            locked_until=u.locked_until,
        )
        for u in sorted(users, key=lambda u: u.username.lower())
    ]


# ---------------------------------------------------------------- writes


def _public(session: Session, user: User) -> dict[str, object]:
    """What the audit log may hold about an account: no hash, no counters."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "role": user.role,
        "active": bool(user.active),
        "teams": list(team_keys_of(session, user)) if user.id else [],
        "has_password": user.password_hash is not None,
    }


def _text_problems(where: str, value: object, max_length: int) -> list[Problem]:
    """An optional text field: text that can be stored, at most `max_length` long."""
    if value is None:
        return []
    if not isinstance(value, str):
        return [Problem(where, "must be text")]
    why = unstorable(value)
    if why:
        return [Problem(where, why)]
    if len(value) > max_length:
        return [Problem(where, f"is too long (at most {max_length} characters)")]
    return []


def username_problems(username: object) -> list[Problem]:
    """create-user's rule for a username: letters, digits and . _ @ + - (so never a
    single sign-on guest's "sso:" name, a space or a right-to-left override)."""
    if not isinstance(username, str) or not username.strip():
        return [Problem("username", "is required")]
    username = username.strip()
    if len(username) > 120 or not USERNAME_PATTERN.match(username):
        return [Problem("username", "use letters, digits and . _ @ + - (at most 120 characters)")]
    return []


def password_hash_problems(password_hash: object) -> list[Problem]:
    """A stored hash must be one argon2 reads (a restore must not bring in garbage that
    fails every sign-in with an error, or another scheme's hash)."""
    if password_hash is None:
        return []
    if not isinstance(password_hash, str) or unstorable(password_hash) or len(password_hash) > 200:
        return [Problem("password_hash", "must be an argon2 hash")]
    try:
        argon2_parameters(password_hash)
    except InvalidHashError:
        return [Problem("password_hash", "must be an argon2 hash")]
    return []


def account_problems(
    *, username: object, display_name: object, email: object, password_hash: object
) -> list[Problem]:
    """The account rules of create-user, for accounts that arrive whole (a JSON
    backup): the same words, fields named as create-user names them."""
    problems = username_problems(username)
    problems += _text_problems("display_name", display_name, 120)
    if email is not None and (
        not isinstance(email, str)
        or len(email) > 254
        or unstorable(email)
        or not EMAIL_PATTERN.match(email.strip())
    ):
        problems.append(Problem("email", "is not an e-mail address"))
    problems += password_hash_problems(password_hash)
    return problems


def _password_problems(password: str) -> list[Problem]:
    if not isinstance(password, str):
        return [Problem("password", "must be text")]
    if unstorable(password):
        return [Problem("password", unstorable(password) or "")]
    if len(password) < MIN_PASSWORD_LENGTH:
        return [Problem("password", f"must have at least {MIN_PASSWORD_LENGTH} characters")]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [Problem("password", f"must have at most {MAX_PASSWORD_LENGTH} characters")]
    return []


def _resolve_teams(
    session: Session, team_keys: Iterable[str], problems: list[Problem]
) -> list[int]:
    """Team ids by key, ignoring case (keys are shown upper-case, typed any way)."""
    if not isinstance(team_keys, list | tuple | set | frozenset) or not all(
        isinstance(k, str) and not unstorable(k) for k in team_keys
    ):
        problems.append(Problem("team", "must be a list of team keys"))
        return []
    wanted = [k.strip() for k in team_keys if k and k.strip()]
    query = select(Team.key, Team.id).where(func.upper(Team.key).in_([k.upper() for k in wanted]))
    found = {key.upper(): id_ for key, id_ in session.execute(query)}
    for key in wanted:
        if key.upper() not in found:
            problems.append(Problem("team", f"no team with key “{key}”"))
    return sorted({found[k.upper()] for k in wanted if k.upper() in found})


def _check_email(
    session: Session, email: str | None, problems: list[Problem], *, user_id: int | None
) -> str | None:
    if email is None:
        return None
    if not isinstance(email, str):
        problems.append(Problem("email", "must be text"))
        return None
    if not email.strip():
        return None
    email = email.strip().lower()
    if len(email) > 254 or unstorable(email) or not EMAIL_PATTERN.match(email):
        problems.append(Problem("email", f"“{email}” is not an e-mail address"))
        return None
    other = user_by_email(session, email=email)
    if other is not None and other.id != user_id:
        problems.append(Problem("email", f"“{email}” belongs to user “{other.username}”"))
    return email


def create_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    role: str,
    team_keys: Iterable[str] = (),
    password: str | None = None,
    display_name: str = "",
    email: str | None = None,
    submission_key: str | None = None,
) -> User:
    """Create an account (admins only). Without a password it can sign in only through
    single sign-on (matched by e-mail)."""
    if not can_administer(actor):
        raise PermissionDenied("Only an admin may create users.")
    problems: list[Problem] = []
    problems.extend(username_problems(username))
    username = username.strip() if isinstance(username, str) else ""
    if not problems and user_by_username(session, username=username) is not None:
        problems.append(Problem("username", f"“{username}” is taken"))
    if role not in ROLES:
        problems.append(Problem("role", f"“{role}” is not one of {', '.join(ROLES)}"))
    problems.extend(_text_problems("display_name", display_name, 120))
    team_ids = _resolve_teams(session, team_keys, problems)
    email = _check_email(session, email, problems, user_id=None)
    if password is not None:
        problems.extend(_password_problems(password))
    if problems:
        raise ValidationError(problems)
    claim_submission(session, key=submission_key)

    user = User(
        username=username,
        role=role,
        display_name=(display_name or "").strip(),
        email=email,
        password_hash=hash_password(password) if password is not None else None,
        active=True,
        failed_attempts=0,
        lockouts=0,
    )
    session.add(user)
    session.flush()
    session.add_all(UserTeam(user_id=user.id, team_id=team_id) for team_id in team_ids)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="create",
        entity="user",
        entity_id=user.id,
        summary=f"Created user {username} ({role})",
        after=_public(session, user),
    )
    return user


def update_user(
    session: Session,
    *,
    actor: Actor,
    username: str,
    role: str | None = None,
    team_keys: Iterable[str] | None = None,
    display_name: str | None = None,
    email: str | None = None,
    active: bool | None = None,
    submission_key: str | None = None,
) -> User:
    """Change an account's role, teams, name, e-mail or active flag (admins only); None
    leaves a field as it is, `email=""` clears it. The last active admin stays one."""
    if not can_administer(actor):
        raise PermissionDenied("Only an admin may change users.")
    user = user_by_username(session, username=username)
    if user is None:
        raise ValidationError(Problem("username", f"no user “{username}”"))
    problems: list[Problem] = []
    if role is not None and role not in ROLES:
        problems.append(Problem("role", f"“{role}” is not one of {', '.join(ROLES)}"))
    problems.extend(_text_problems("display_name", display_name, 120))
    if active is not None and not isinstance(active, bool):
        problems.append(Problem("active", "must be true or false"))
    team_ids = _resolve_teams(session, team_keys, problems) if team_keys is not None else None
    new_email = _check_email(session, email, problems, user_id=user.id)
    stays_admin = (role or user.role) == "admin" and (user.active if active is None else active)
    if user.role == "admin" and user.active and not stays_admin:
        others = session.scalars(
            select(func.count(User.id)).where(
                User.role == "admin", User.active.is_(True), User.id != user.id
            )
        ).one()
        if not others:
            problems.append(Problem("role", "the last active admin must stay an active admin"))
    if problems:
        raise ValidationError(problems)
    claim_submission(session, key=submission_key)

    before = _public(session, user)
    if (role is not None and role != user.role) or (active is not None and active != user.active):
        # A demoted or disabled account's open sessions end now. The actor's own session
        # is checked first, as the audit event would check it after the change.
        check_session(session, actor)
        actor = dataclasses.replace(actor, session_version=None)
        end_sessions(user)
    if role is not None:
        user.role = role
    if display_name is not None:
        user.display_name = display_name.strip()
    if email is not None:
        user.email = new_email
    if active is not None:
        user.active = active
    if team_ids is not None:
        for link in session.scalars(select(UserTeam).where(UserTeam.user_id == user.id)):
            session.delete(link)
        session.flush()
        session.add_all(UserTeam(user_id=user.id, team_id=team_id) for team_id in team_ids)
    session.flush()
    after = _public(session, user)
    if after != before:
        record_audit(
            session,
            actor=actor,
            action="update",
            entity="user",
            entity_id=user.id,
            summary=f"Changed user {user.username}",
            before=before,
            after=after,
        )
    return user


def set_password(
    session: Session,
    *,
    actor: Actor,
    username: str,
    password: str,
    submission_key: str | None = None,
) -> None:
    """Set an account's password (an admin, or the user themself) and lift any lock."""
    user = user_by_username(session, username=username)
    if not can_administer(actor) and (user is None or actor.username != user.username):
        raise PermissionDenied("Only an admin or the user themself may set a password.")
    if user is None:
        raise ValidationError(Problem("username", f"no user “{username}”"))
    problems = _password_problems(password)
    if problems:
        raise ValidationError(problems)
    claim_submission(session, key=submission_key)
    before = _public(session, user)
    # A new password signs out every session of the account, the changer's own too when
    # it is theirs; their own session is checked first, before its version changes.
    check_session(session, actor)
    actor = dataclasses.replace(actor, session_version=None)
    user.password_hash = hash_password(password)
    end_sessions(user)
    # Lift every client's sign-in lock on the account (db.sign_in's "pair:CLIENT:NAME").
    name = user.username.lower()
    for row in session.scalars(select(SignInThrottle).where(SignInThrottle.key.like("pair:%"))):
        if row.key.endswith(f":{name}"):
            session.delete(row)
    user.failed_attempts = 0
    user.lockouts = 0
    user.locked_until = None
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="update",
        entity="user",
        entity_id=user.id,
        summary=f"Set the password of {user.username}",
        before=before,
        after=_public(session, user),
    )


def authenticate(session: Session, *, username: str, password: str, now: dt.datetime) -> AuthResult:
    """Check a sign-in (run it in a write session: it counts failures).

    After MAX_FAILED_SIGN_INS failures in a row the account is locked for 60 s, doubling
    with each further lockout; during a lock even the right password is refused. An
    unknown or inactive user gets the same message as a wrong password, after the same
    amount of hashing work."""
    now = _naive_utc(now)
    username, password = username or "", password or ""
    if not (isinstance(username, str) and isinstance(password, str)) or (
        unstorable(username) or unstorable(password)
    ):
        _verify(None, "")  # no account matches: the same answer after the same work
        return AuthResult(False, None, WRONG_CREDENTIALS)
    user = session.scalars(
        select(User)
        .where(func.lower(User.username) == username.strip().lower())
        .with_for_update()  # PostgreSQL: concurrent attempts count one after another
    ).first()
    if user is None or not user.active or user.password_hash is None:
        _verify(None, password)
        return AuthResult(False, None, WRONG_CREDENTIALS)
    if user.locked_until is not None and now < user.locked_until:
        return AuthResult(False, None, _lock_message((user.locked_until - now).total_seconds()))

    if not _verify(user.password_hash, password):
        user.failed_attempts = (user.failed_attempts or 0) + 1
        if user.failed_attempts < MAX_FAILED_SIGN_INS:
            session.flush()
            return AuthResult(False, None, WRONG_CREDENTIALS)
        user.lockouts = (user.lockouts or 0) + 1
        seconds = min(FIRST_LOCK_SECONDS * 2 ** min(user.lockouts - 1, 32), MAX_LOCK_SECONDS)
        user.failed_attempts = 0
        user.locked_until = now + dt.timedelta(seconds=seconds)
        session.flush()
        record_audit(
            session,
            actor=Actor.system("sign-in"),
            action="update",
            entity="user",
            entity_id=user.id,
            summary=(
                f"Sign-in of {user.username} locked for {seconds} s after "
                f"{MAX_FAILED_SIGN_INS} failed attempts"
            ),
        )
        return AuthResult(False, None, _lock_message(seconds))

    user.failed_attempts = 0
    user.lockouts = 0
    user.locked_until = None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.flush()
    return AuthResult(True, actor_for(session, user), f"Signed in as {user.username}")
