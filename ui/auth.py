"""Sign-in, sign-out and the signed-in user of this browser session."""

from __future__ import annotations

import datetime as dt
import os

import streamlit as st
from sqlalchemy import Engine

from core.access import Actor
from db.engine import read_session, write_session
from ui import state


def public_read() -> bool:
    """`OUTCOMES_PUBLIC_READ` (default true): anyone may view without an account."""
    return os.environ.get("OUTCOMES_PUBLIC_READ", "true").strip().lower() not in {"0", "false", "no"}


def sso_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all
        return False


def current_actor(engine: Engine) -> Actor:
    """The signed-in user of this browser session, or anonymous."""
    actor = st.session_state.get(state.ACTOR)
    if isinstance(actor, Actor):
        return actor
    if sso_configured() and getattr(st.user, "is_logged_in", False):
        from db.users import actor_for, user_by_email

        email = str(st.user.get("email") or "")
        with read_session(engine) as session:
            user = user_by_email(session, email=email) if email else None
            if user is not None and user.active:
                actor = actor_for(session, user)
                st.session_state[state.ACTOR] = actor
                return actor
        # Known to the identity provider but not to us: a viewer.
        return Actor(username=email or "sso-user", role="viewer", display_name=email)
    return Actor.anonymous()


def sign_in_form(engine: Engine, *, key: str = "sign_in") -> None:
    """Username and password form; a successful sign-in lasts the browser session."""
    from db.users import authenticate

    with st.form(key, clear_on_submit=False):
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        with write_session(engine) as session:
            result = authenticate(
                session,
                username=username.strip(),
                password=password,
                now=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            )
        if result.ok and result.actor is not None:
            st.session_state[state.ACTOR] = result.actor
            st.rerun()
        st.error(result.message)
    if sso_configured() and st.button("Sign in with single sign-on", key=f"{key}_sso"):
        st.login()


def sign_out() -> None:
    st.session_state.pop(state.ACTOR, None)
    if sso_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()
    st.rerun()
