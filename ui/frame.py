"""The one page frame every page starts with: page config, database, signed-in user,
grouped navigation that keeps the filters, and the access check for the page. The page
list and the `Frame` it returns live in ui/site.py, which imports nothing from ui/."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from core.access import Actor
from db.engine import read_session
from db.migrate import SchemaTooNewError
from ui.auth import current_actor, lost_session_notice, public_read, sign_in_form, sign_out
from ui.data import SchemaTooOldError, check_data_version, get_engine, is_demo_workspace
from ui.first_steps import demo_notice_text
from ui.setup import first_admin_setup
from ui.site import PAGES, SHARED_PARAMS, Frame, may_open
from ui.text import escape_markdown


def shared_query_params() -> dict[str, str]:
    return {name: st.query_params[name] for name in SHARED_PARAMS if name in st.query_params}


def page_frame(page_key: str) -> Frame:
    """Call first on every page (a test checks it)."""
    spec = PAGES[page_key]
    presenting = page_key == "present"
    st.set_page_config(
        page_title=f"{spec.title} · Outcome Board",
        page_icon=":material/flag:",
        layout="wide",
        initial_sidebar_state="collapsed" if presenting else "auto",
    )
    try:
        engine = get_engine()
        # Once per run: the data version every cached read of this run is keyed on, and
        # the check that the schema is still the one this code was written for.
        check_data_version()
    except (SchemaTooNewError, SchemaTooOldError) as error:
        st.error(str(error))
        st.stop()
    first_admin_setup(engine)
    actor = current_actor(engine)
    lost_session_notice(actor, needs_sign_in=spec.access != "read" or not public_read())

    if not public_read() and not actor.signed_in:
        st.title("Outcome Board")
        st.write("Sign in to see this workspace.")
        sign_in_form(engine)
        st.stop()

    _sidebar(engine, actor)

    if spec.access != "read" and not actor.signed_in:
        st.title(spec.title)
        st.info("Sign in to change data. Viewing needs no account.")
        sign_in_form(engine, key="sign_in_page")
        st.stop()
    if not may_open(actor, spec):
        st.title(spec.title)
        needed = "an editor or admin" if spec.access == "edit" else "an admin"
        st.warning(f"This page is for {needed}; you are signed in as a {actor.role}.")
        st.stop()
    if not presenting:
        _demo_notice(engine)
    return Frame(engine=engine, actor=actor, page=spec)


def recheck_frame(frame: Frame) -> None:
    """Call first in a fragment: a fragment rerun (a timer tick, or one a client forges)
    runs only the fragment, not the page's frame, so the sign-in (and whether this
    visitor may still see the page) is checked again here; when anything changed, the
    whole page reruns through its frame, which decides what to show."""
    actor = current_actor(frame.engine)
    if actor != frame.actor or (not public_read() and not actor.signed_in):
        st.rerun(scope="app")


def _sidebar(engine: Engine, actor: Actor) -> None:
    params = shared_query_params()
    with st.sidebar:
        st.markdown("**Outcome Board**")
        group = ""
        for spec in PAGES.values():
            if not may_open(actor, spec) and spec.access == "admin":
                continue
            if spec.access == "edit" and actor.signed_in and not may_open(actor, spec):
                continue
            if spec.group != group:
                group = spec.group
                st.caption(group)
            st.page_link(spec.path, label=spec.title, icon=spec.icon, query_params=params)
        st.divider()
        if actor.signed_in:
            st.caption(
                f"Signed in as {escape_markdown(actor.display_name or actor.username)} ({actor.role})"
            )
            if st.button("Sign out", key="sign_out"):
                sign_out(engine)
        else:
            with st.expander("Sign in"):
                sign_in_form(engine, key="sign_in_sidebar")


def _demo_notice(engine: Engine) -> None:
    if st.session_state.get("outcomes.demo_notice_dismissed"):
        return
    with read_session(engine) as session:
        demo = is_demo_workspace(session)
    if demo:
        st.info(demo_notice_text(engine), icon=":material/info:")
