"""What a new workspace says to the people who open it first: how to start when it is
empty, and which database the demo lives in (issue 14, point 9)."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from core.access import Actor
from ui.cards import no_data_message
from ui.site import Frame
from ui.text import escape_markdown

SETUP_HINT = (
    "No admin yet? The server printed a one-time setup code to its log (the line "
    "“Outcome Board setup code: …”): enter it on Admin under **First-time setup**. Or run "
    "`python manage.py create-user YOU --role admin` on the server."
)


def empty_workspace_message(frame: Frame, what: str) -> None:
    """`what` (e.g. "There are no teams yet."), then how to start: a link to Admin for
    everyone (a visitor not signed in gets its sign-in or first-time setup form there),
    and for a visitor who is not an admin, how the first admin is made."""
    no_data_message(what + " An admin adds trains, teams and PIs on the Admin page.")
    st.page_link("pages/admin.py", label="Open Admin", icon=":material/settings:")
    if not _is_admin(frame.actor):
        st.caption(SETUP_HINT)


def no_pi_message() -> None:
    """No PI to show yet: say so, with the way to Admin where PIs are added (a link, not
    only its name)."""
    no_data_message("There is no PI yet. An admin adds PIs on the Admin page.")
    st.page_link("pages/admin.py", label="Open Admin", icon=":material/settings:")


def _is_admin(actor: Actor) -> bool:
    return actor.role == "admin"


def database_name(engine: Engine) -> str:
    """The database in use, as an admin would name it: a SQLite file's path, or the URL
    with any password masked (the notice is shown to every visitor)."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database:
        return url.database
    return url.render_as_string(hide_password=True)


def demo_notice_text(engine: Engine) -> str:
    """The demo notice, naming the database actually in use (`OUTCOMES_DATABASE_URL`)."""
    name = escape_markdown(database_name(engine))
    if engine.url.get_backend_name() == "sqlite":
        empty = f"delete the file {name}"
    else:
        empty = f"drop and recreate the database {name}"
    return (
        f"This is the demo workspace, loaded on first start into {name}. To start empty: "
        f"stop the app, {empty}, run `python manage.py init` and "
        "`python manage.py create-user YOU --role admin`, then start the app again "
        "(or set `OUTCOMES_DEMO=false`)."
    )
