"""Issue 14: a sign-in lasts in the browser (the HttpOnly cookie of /auth/sign-in): after a
reload, in a new tab, across a server restart on the same database; and signing out in
one tab signs the others out at their next page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from core.access import Actor
from db.engine import make_engine, write_session
from db.users import create_user
from tests.browser.conftest import demo_database, free_port, running_app, wait_for_app

pytestmark = pytest.mark.browser

PASSWORD = "long enough password"
SIGNED_IN = "Signed in as casey (editor)"


def _signed_in(page: Any) -> Any:
    return page.locator("[data-testid='stSidebar']").get_by_text(SIGNED_IN)


def test_a_sign_in_survives_reload_new_tab_and_restart_until_signed_out(
    page: Any, tmp_path: Path
) -> None:
    url = demo_database(tmp_path / "outcomes.db")
    engine = make_engine(url)
    with write_session(engine) as session:
        create_user(
            session,
            actor=Actor.system("test"),
            username="casey",
            role="editor",
            team_keys=["CHK"],
            password=PASSWORD,
        )
    engine.dispose()
    port = free_port()

    with running_app(url, log_path=tmp_path / "first.log", port=port) as base_url:
        # The page's own sign-in form posts to /auth/sign-in in this tab, which sets
        # the cookie and comes back to the page, query included.
        page.goto(f"{base_url}/record?team=CHK")
        wait_for_app(page)
        expect(_signed_in(page)).to_have_count(0)
        main = page.locator("[data-testid='stMain']")
        main.get_by_label("Username", exact=True).fill("casey")
        main.get_by_label("Password", exact=True).fill(PASSWORD)
        with page.expect_navigation():
            main.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/record\?team=CHK$"))
        assert len(page.context.pages) == 1
        wait_for_app(page)
        expect(_signed_in(page)).to_be_visible()
        cookie = next(c for c in page.context.cookies() if c["name"] == "outcomes_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

        page.reload()
        wait_for_app(page)
        expect(_signed_in(page)).to_be_visible()

        other = page.context.new_page()
        other.goto(f"{base_url}/team?team=CHK")
        wait_for_app(other)
        expect(_signed_in(other)).to_be_visible()

    # The server is gone; a new one on the same database and port.
    with running_app(url, log_path=tmp_path / "second.log", port=port) as base_url:
        page.reload()
        wait_for_app(page)
        expect(_signed_in(page)).to_be_visible()
        # Signed in: the update page shows its controls, not the way in.
        expect(
            page.locator("[data-testid='stMain'] [data-testid='outcomes-sign-in-form']")
        ).to_have_count(0)

        page.locator("[data-testid='stSidebar']").get_by_role("button", name="Sign out").click()
        wait_for_app(page)
        expect(_signed_in(page)).to_have_count(0)
        expect(page.locator("[data-testid='outcomes-sign-in-form']")).to_be_attached()

        other.reload()
        wait_for_app(other)
        expect(_signed_in(other)).to_have_count(0)
        page.reload()
        wait_for_app(page)
        expect(_signed_in(page)).to_have_count(0)
