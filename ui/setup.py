"""First run: while no admin exists, a one-time setup code printed to the server log lets
the first admin be created in the app."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from dataclasses import dataclass, field

import streamlit as st
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine

from core.access import Actor
from core.errors import Problem, ValidationError
from db.engine import read_session, write_session
from db.users import (
    FIRST_LOCK_SECONDS,
    MAX_FAILED_SIGN_INS,
    MAX_LOCK_SECONDS,
    actor_for,
    admin_exists,
    create_user,
    hash_password,
    hasher,
)
from ui import state
from ui.text import escape_markdown

log = logging.getLogger("outcomes.setup")

# No 0/O, 1/I/L: the code is read off a terminal and typed. 8 characters of 32 give 40
# bits; with the lockout below, guessing takes longer than any first run lasts.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
SETUP_CLOSED = "First-time setup is closed: an admin account exists. Sign in instead."
WRONG_CODE = "Wrong setup code"


@dataclass
class _PendingCode:
    """This process's code for one database: only its argon2 hash is kept, in memory
    (never in the database), with the failed attempts that lock it for a while."""

    code_hash: str
    failures: int = 0
    lockouts: int = 0
    locked_until: dt.datetime | None = None


@dataclass(frozen=True)
class SetupResult:
    ok: bool
    actor: Actor | None
    message: str
    problems: tuple[Problem, ...] = field(default_factory=tuple)


# Keyed by database URL. Each app process prints its own code; with several processes
# behind sticky sessions the code printed by the process a browser talks to is the one
# that works there (or create the first admin with `manage.py create-user`).
_pending: dict[str, _PendingCode] = {}
_closed: set[str] = set()
_lock = threading.Lock()


def _database_key(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def new_setup_code() -> str:
    """A random code shaped XXXX-XXXX."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{chars[:4]}-{chars[4:]}"


def _normalized(code: str) -> str:
    """People type codes with spaces, without the dash, in lower case."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def _code_matches(code_hash: str, code: str) -> bool:
    try:
        return hasher.verify(code_hash, _normalized(code))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def setup_code_needed(engine: Engine) -> bool:
    """True while the database has no active admin. The first call that finds none makes
    this process's code and prints it to the log (WARNING, so a default logging setup
    shows it); once an admin exists the code is forgotten and never works again."""
    key = _database_key(engine)
    if key in _closed:
        return False
    with read_session(engine) as session:
        needed = not admin_exists(session)
    with _lock:
        if not needed:
            _pending.pop(key, None)
            # An admin, once there, stays: the last active admin cannot be demoted.
            _closed.add(key)
            return False
        if key not in _pending:
            code = new_setup_code()
            _pending[key] = _PendingCode(code_hash=hash_password(_normalized(code)))
            log.warning("Outcome Board setup code: %s (create the first admin at /admin)", code)
    return True


def first_admin_setup(engine: Engine) -> None:
    """Called by the page frame on every run, so the code is in the log from the first
    page anyone opens; the form itself is in the sign-in area (`setup_form`)."""
    setup_code_needed(engine)


def _lock_message(until: dt.datetime, now: dt.datetime) -> str:
    seconds = max(1, int(-(-(until - now).total_seconds() // 1)))
    return f"Too many attempts: try again in {seconds} s"


def redeem_setup_code(
    engine: Engine,
    *,
    code: str,
    username: str,
    password: str,
    now: dt.datetime,
    display_name: str = "",
    email: str | None = None,
) -> SetupResult:
    """Create the first admin when `code` is this process's setup code and no admin
    exists yet. Wrong codes count like wrong passwords (5, then a lock of 60 s doubling)."""
    key = _database_key(engine)
    # One redemption at a time: two visitors racing with the same code make one admin.
    with _lock:
        pending = _pending.get(key)
        if pending is None:
            return SetupResult(False, None, SETUP_CLOSED)
        if pending.locked_until is not None and now < pending.locked_until:
            return SetupResult(False, None, _lock_message(pending.locked_until, now))
        if not _code_matches(pending.code_hash, code):
            pending.failures += 1
            if pending.failures < MAX_FAILED_SIGN_INS:
                return SetupResult(False, None, WRONG_CODE)
            pending.failures = 0
            pending.lockouts += 1
            seconds = min(FIRST_LOCK_SECONDS * 2 ** min(pending.lockouts - 1, 32), MAX_LOCK_SECONDS)
            pending.locked_until = now + dt.timedelta(seconds=seconds)
            return SetupResult(False, None, _lock_message(pending.locked_until, now))
        try:
            with write_session(engine) as session:
                if admin_exists(session):
                    actor = None
                else:
                    user = create_user(
                        session,
                        actor=Actor.system("setup"),
                        username=username,
                        role="admin",
                        password=password,
                        display_name=display_name,
                        email=email or None,
                    )
                    actor = actor_for(session, user)
        except ValidationError as error:
            # The code was right: keep it, so a too-short password can be fixed.
            return SetupResult(False, None, "Not created", tuple(error.problems))
        del _pending[key]
        _closed.add(key)
    if actor is None:
        return SetupResult(False, None, SETUP_CLOSED)
    log.warning("Outcome Board: first admin %s created with the setup code", actor.username)
    return SetupResult(True, actor, f"Created the admin account {actor.username}.")


def setup_form(engine: Engine, *, key: str = "sign_in", compact: bool = False) -> None:
    """The "First-time setup" form in the sign-in area while no admin exists. `compact` (the
    sidebar) only points to the page that has the form."""
    if not setup_code_needed(engine):
        return
    if compact:
        st.caption("No admin account yet: open **Admin** for first-time setup.")
        return
    with st.expander("First-time setup", icon=":material/key:"):
        st.write(
            "No admin account exists yet. The app has printed a one-time setup code to its "
            "log (the line “Outcome Board setup code: …”). Enter it here to create the "
            "first admin; it stops working once an admin exists."
        )
        with st.form(f"{key}_first_admin_setup", clear_on_submit=False):
            code = st.text_input("Setup code", placeholder="XXXX-XXXX", autocomplete="off")
            username = st.text_input("Admin username", autocomplete="off")
            display_name = st.text_input("Display name (optional)")
            password = st.text_input("Admin password", type="password", autocomplete="new-password")
            repeat = st.text_input("Repeat password", type="password", autocomplete="new-password")
            submitted = st.form_submit_button("Create admin")
        if not submitted:
            return
        if password != repeat:
            st.error("The two passwords differ.")
            return
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        result = redeem_setup_code(
            engine,
            code=code,
            username=username,
            password=password,
            display_name=display_name,
            now=now,
        )
        if result.ok and result.actor is not None:
            st.session_state[state.ACTOR] = result.actor
            st.session_state[state.FLASH] = result.message
            st.rerun()
        if result.problems:
            st.error(
                "Not created. Please fix:\n"
                + "\n".join(
                    f"- {escape_markdown(p.where)}: {escape_markdown(p.message)}"
                    for p in result.problems
                )
            )
        else:
            st.error(result.message)
