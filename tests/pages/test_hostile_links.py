"""Issue 15: a shared link is anyone's input. Numeric URL parameters are bounded and never
raise, and the unit an editor typed is never rendered as Markdown."""

from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from core.access import Actor
from db import users
from db.engine import make_engine, write_session
from db.models import Metric
from db.users import authenticate, create_user, set_password
from tests.pages.test_dashboards import (  # noqa: F401 - fixtures
    AS_OF,
    CURRENT_PI,
    Open,
    database,
    open_page,
    texts,
)
from ui.text import escape_markdown


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("3000000", "every 3600 s"),  # overflowed the browser's timer: a rerun loop
        ("inf", "every 3600 s"),  # raised OverflowError on the page
        ("1e400", "every 3600 s"),
        ("-inf", "every 3 s"),
        ("nan", "every 15 s"),
        ("9" * 5000, "every 15 s"),
    ],
)
def test_present_interval_from_a_hostile_link_is_bounded(
    open_page: Open,  # noqa: F811 - the fixture imported above
    raw: str,
    shown: str,
) -> None:
    at = open_page("pages/present.py", pi=CURRENT_PI, as_of=AS_OF, interval=raw)
    assert not at.exception
    assert shown in texts(at)


def test_metric_unit_is_not_markdown_in_the_evidence_tiles(open_page: Open, database: str) -> None:  # noqa: F811
    # Setup: an editor's unit that, as Markdown, makes every visitor's browser fetch a URL.
    unit = "![](//host/x)"
    engine = make_engine(database)
    with write_session(engine) as session:
        for metric in session.scalars(select(Metric)):
            metric.unit = unit
    engine.dispose()
    # Exercise
    at = open_page("pages/outcome.py", pi=CURRENT_PI, outcome="CHK-1", as_of=AS_OF)
    # Verify: the evidence tiles show the unit as text, escaped.
    values = [str(m.value) for m in at.metric]
    assert values and any(escape_markdown(unit) in value for value in values)
    assert not any("![](" in value for value in values)


def test_page_run_after_a_password_reset_asks_to_sign_in_again(
    open_page: Open,  # noqa: F811
    database: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Setup: ana signs in (her actor carries the session version), then an admin resets
    # her password.
    monkeypatch.setattr(users, "hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    engine = make_engine(database)
    admin = Actor.system("test-admin")
    with write_session(engine) as session:
        create_user(session, actor=admin, username="ana", role="admin", password="a password 1")
    with write_session(engine) as session:
        actor = authenticate(
            session, username="ana", password="a password 1", now=dt.datetime(2026, 11, 2)
        ).actor
    signed_in = open_page("pages/admin.py", actor)
    assert "Sign out" in [b.label for b in signed_in.sidebar.button]
    with write_session(engine) as session:
        set_password(session, actor=admin, username="ana", password="reset by admin")
    engine.dispose()
    # Exercise: the same session runs a page.
    at = open_page("pages/admin.py", actor)
    # Verify: signed out, asked to sign in.
    assert "Sign out" not in [b.label for b in at.sidebar.button]
    assert "Sign in to change data. Viewing needs no account." in [i.value for i in at.info]
