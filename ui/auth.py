"""Sign-in, sign-out, single sign-on and the signed-in user of this browser session."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.access import Actor
from db.browser_sessions import BROWSER_COOKIE, browser_actor, revoke_browser_session
from db.engine import read_session, write_session
from db.users import actor_for, user_by_email, user_by_username
from ui import state
from ui.setup import setup_form
from ui.text import escape_markdown

# Prefix of the username of a single sign-on visitor without an account. No account can
# carry it (usernames never contain ":"), so such a visitor can never be mistaken for one.
SSO_GUEST_PREFIX = "sso:"


def public_read() -> bool:
    """`OUTCOMES_PUBLIC_READ` (default true): anyone may view without an account."""
    value = os.environ.get("OUTCOMES_PUBLIC_READ", "true").strip().lower()
    return value not in {"0", "false", "no", "off"}


def _auth_section() -> Mapping[str, Any]:
    try:
        section = st.secrets.get("auth")
    except Exception:  # no or unreadable secrets.toml: no single sign-on
        return {}
    return section if isinstance(section, Mapping) else {}


def sso_configured() -> bool:
    """Whether `.streamlit/secrets.toml` has an `[auth]` section (OIDC via st.login)."""
    return bool(_auth_section())


def sso_providers() -> list[tuple[str | None, str]]:
    """(provider for st.login, button label) for each configured identity provider:
    the default one when `[auth]` holds `client_id` itself, and one per `[auth.NAME]`."""
    section = _auth_section()
    providers: list[tuple[str | None, str]] = []
    if "client_id" in section or "default" in section:
        providers.append((None, "Sign in with single sign-on"))
    for name, value in section.items():
        if isinstance(value, Mapping) and name != "default":
            providers.append((name, f"Sign in with {name.replace('-', ' ').title()}"))
    return providers


# ---------------------------------------------------------------- single sign-on mapping


@dataclass(frozen=True)
class SsoSignIn:
    """What an identity from the provider becomes here: an actor, or a refusal (`actor`
    None) with the reason to show."""

    actor: Actor | None
    message: str = ""


def _claim_true(value: object) -> bool:
    return value is True or str(value).strip().lower() == "true"


def sso_sign_in(session: Session, *, claims: Mapping[str, Any], public_read: bool) -> SsoSignIn:
    """Map the identity provider's claims (`st.user`) to an actor.

    The e-mail address picks the account (its role and teams). A provider that says the
    address is unverified (`email_verified: false`) is not trusted with it: anyone could
    type a colleague's address at some providers. An identity without an account views
    like an anonymous visitor when public read is on, and is refused when it is off: a
    provider such as Google admits every account in the world."""
    email = str(claims.get("email") or "").strip().lower()
    name = str(claims.get("name") or "").strip()
    verified = "email_verified" not in claims or _claim_true(claims.get("email_verified"))
    user = user_by_email(session, email=email) if email and verified else None
    if user is not None:
        if not user.active:
            return SsoSignIn(None, f"The account for {email} is disabled. Ask an admin.")
        return SsoSignIn(actor_for(session, user))

    if email and not verified:
        reason = f"Your identity provider has not verified {email}"
    elif email:
        reason = f"{email} has no account here"
    else:
        reason = "Your identity provider sent no e-mail address"
    if not public_read:
        return SsoSignIn(None, f"{reason}: ask an admin to add it.")
    subject = email or str(claims.get("sub") or "unknown")
    guest = Actor(
        username=f"{SSO_GUEST_PREFIX}{subject}",
        role="viewer",
        display_name=name or email or "single sign-on visitor",
    )
    return SsoSignIn(guest, f"{reason}: you may view; ask an admin for an account to edit.")


def _sso_claims() -> dict[str, Any] | None:
    """The signed-in identity of the provider, or None (single sign-on off or signed out)."""
    if not sso_configured():
        return None
    try:
        claims = st.user.to_dict()
    except Exception:  # no script context (tests calling helpers directly)
        return None
    return claims if claims.get("is_logged_in") else None


def _sso_decision(engine: Engine) -> SsoSignIn | None:
    claims = _sso_claims()
    if claims is None:
        return None
    with read_session(engine) as session:
        return sso_sign_in(session, claims=claims, public_read=public_read())


# ---------------------------------------------------------------- the signed-in user


def _refreshed(engine: Engine, actor: Actor) -> Actor | None:
    """The account's current role and teams, so that a change an admin makes (another
    role, other teams, disabled) applies on the next run, not at the next sign-in.
    None: the account was disabled. An actor with no account row (tests, single sign-on
    visitors) is kept as it is: only server code can put one in session state."""
    if actor.username.startswith(SSO_GUEST_PREFIX):
        return actor
    with read_session(engine) as session:
        user = user_by_username(session, username=actor.username)
        if user is None:
            # A signed-in session whose account is gone (a restore without it) has ended.
            return None if actor.session_version is not None else actor
        if not user.active:
            return None
        if actor.session_version is not None and user.session_version != actor.session_version:
            return None  # password, role or active flag changed, or a restore: sign in again
        return actor_for(session, user)


def browser_cookie() -> str | None:
    """The id of this browser's lasting sign-in (the HttpOnly cookie that
    `/auth/sign-in` sets), as the browser sent it when this session connected; None
    without one (or without a browser: AppTest, helpers called directly)."""
    try:
        value = st.context.cookies.get(BROWSER_COOKIE)
    except Exception:  # no browser behind this run
        return None
    return value if isinstance(value, str) and value else None


def _browser_actor(engine: Engine) -> Actor | None:
    browser_id = browser_cookie()
    if browser_id is None:
        return None
    with read_session(engine) as session:
        return browser_actor(session, browser_id=browser_id, now=_now())


def current_actor(engine: Engine) -> Actor:
    """The signed-in user of this browser session, or anonymous.

    A sign-in through `/auth/sign-in` lives in this browser's cookie and is checked on
    every run (so a sign-out in another tab, an expiry or a disabled account applies on
    the next click); one made in session state (first-admin setup; tests) lasts while
    the browser session lasts; a single sign-on identity lives in Streamlit's identity
    cookie and is mapped to an account on every run."""
    actor = st.session_state.get(state.ACTOR)
    if isinstance(actor, Actor):
        fresh = _refreshed(engine, actor)
        if fresh is not None:
            if fresh != actor:
                st.session_state[state.ACTOR] = fresh
            return fresh
        st.session_state.pop(state.ACTOR, None)
    from_cookie = _browser_actor(engine)
    if from_cookie is not None:
        return from_cookie
    decision = _sso_decision(engine)
    if decision is not None and decision.actor is not None:
        return decision.actor
    return Actor.anonymous()


LOST_SIGN_IN = (
    "The server restarted, so this page started a new session and you are signed out. "
    "Sign in again, then check what you were entering: anything not saved yet may be "
    "gone and need typing again."
)
LOST_INPUT = (
    "The server restarted, so this page started a new session. Check what you were "
    "entering: anything not saved yet may be gone and need typing again."
)


def _replaces_lost_session() -> bool:
    """Whether this browser tab reconnected after the server lost its session (a restart,
    or a session dropped after a long disconnect). On a reconnect, and only then,
    Streamlit's frontend names its last session as the third entry of the WebSocket
    handshake's Sec-WebSocket-Protocol header; a session the server still holds resumes
    with its state, so a first run that sees the entry stands in for a lost session."""
    try:
        offered = st.context.headers.get("Sec-Websocket-Protocol") or ""
    except Exception:  # no browser behind this run (AppTest, helpers called directly)
        return False
    entries = [entry.strip() for entry in offered.split(",")]
    return len(entries) >= 3 and bool(entries[2])


def lost_session_notice(actor: Actor, *, needs_sign_in: bool) -> None:
    """Warn when a restart took the sign-in and unsaved input with it: the page still
    shows what was typed until the next click, which then runs in a new, signed-out
    session. Shown on that first run and, until the user signs in again, on every page
    that asks for a sign-in.

    "May be gone": Streamlit keeps the values the browser sends for widgets this session
    has not drawn yet, so a form submitted in that first click is carried out after the
    sign-in when its widget keys are unchanged (a form never saved before the restart),
    and lost otherwise, with anything typed in other forms."""
    first = state.SESSION_CHECKED not in st.session_state
    if first:
        st.session_state[state.SESSION_CHECKED] = True
        if _replaces_lost_session():
            st.session_state[state.SESSION_LOST] = True
    if not st.session_state.get(state.SESSION_LOST):
        return
    if actor.signed_in:  # single sign-on survives a restart; typed input does not
        st.session_state.pop(state.SESSION_LOST, None)
        if first:
            st.warning(LOST_INPUT, icon=":material/sync_problem:")
    elif first or needs_sign_in:
        st.warning(LOST_SIGN_IN, icon=":material/sync_problem:")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# The way in, as constant HTML (no user text can enter it): a plain form that posts to
# the sign-in route (api/sign_in.py), which sets the lasting cookie and returns to this
# page by the Referer (a path of this site only), and a link to the same route's page
# for the sidebar. Plain HTML in the page keeps the browser in this tab (st.link_button
# and markdown links open a new one) and sends the password in the POST body only.
# The route accepts this form without a CSRF token when the browser's Origin header
# names this site.
SIGN_IN_FORM = """<style>
.outcomes-sign-in label { display: block; margin: .6rem 0 .25rem; font-size: .875rem; }
.outcomes-sign-in input { width: 100%; max-width: 24rem; box-sizing: border-box;
  padding: .5rem .75rem; border: 1px solid rgba(49, 51, 63, .4); border-radius: .5rem;
  font: inherit; color: inherit; background: transparent; }
.outcomes-sign-in button { display: block; margin-top: .9rem; padding: .4rem .9rem; border: 0;
  border-radius: .5rem; background: #b3261e; color: #fff; font: inherit;
  font-weight: 600; cursor: pointer; }
</style>
<form class="outcomes-sign-in" method="post" action="/auth/sign-in"
 data-testid="outcomes-sign-in-form">
<label for="outcomes-username">Username</label>
<input id="outcomes-username" name="username" type="text" autocomplete="username" required>
<label for="outcomes-password">Password</label>
<input id="outcomes-password" name="password" type="password"
 autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>"""
SIGN_IN_LINK = (
    '<a href="/auth/sign-in" data-testid="outcomes-sign-in" '
    'style="display:inline-block;padding:.4rem .9rem;border-radius:.5rem;'
    'background:#b3261e;color:#fff;text-decoration:none;font-weight:600">Sign in</a>'
)


def sign_in_form(engine: Engine, *, key: str = "sign_in") -> None:
    """The way in: the sign-in form (the sidebar: a link to the sign-in page); a sign-in
    there lasts in this browser. Then single sign-on and, while no admin exists,
    first-time setup."""
    in_sidebar = key == "sign_in_sidebar"
    if in_sidebar:
        st.html(SIGN_IN_LINK)
    else:
        st.html(SIGN_IN_FORM)
    _sso_controls(engine, key=key)
    setup_form(engine, key=key, compact=in_sidebar)


def _sso_controls(engine: Engine, *, key: str) -> None:
    if not sso_configured():
        return
    decision = _sso_decision(engine)
    if decision is not None:
        if decision.actor is None:
            # Signed in at the provider but not let in here: say why, offer another account.
            # The message holds the provider's e-mail claim: text, never markdown.
            st.warning(escape_markdown(decision.message))
            if st.button("Sign out of single sign-on", key=f"{key}_sso_out"):
                st.logout()
        return
    for provider, label in sso_providers():
        if st.button(label, key=f"{key}_sso_{provider or 'default'}"):
            try:
                if provider is None:
                    st.login()
                else:
                    st.login(provider)
            except Exception as error:  # missing Authlib or an incomplete [auth] section
                st.error(f"Single sign-on is not set up correctly: {error}")


def sign_out(engine: Engine) -> None:
    """Sign this browser out: revoke its lasting sign-in (the cookie's id then signs
    nobody in, in any tab), forget a sign-in held in session state, and end single
    sign-on's identity cookie when there is one."""
    browser_id = browser_cookie()
    if browser_id is not None:
        with write_session(engine, seen_by_pages=False) as session:
            revoke_browser_session(session, browser_id=browser_id, now=_now())
    st.session_state.pop(state.ACTOR, None)
    if _sso_claims() is not None:
        st.logout()
    st.rerun()
