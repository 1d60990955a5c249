"""Issue 14: a sign-in lasts in the browser (the HttpOnly cookie of /auth/sign-in): after a
reload, in a new tab, across a server restart on the same database; and signing out in
one tab signs the others out at their next page."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from core.access import Actor
from db.engine import make_engine, write_session
from db.users import create_user
from tests.app_server import free_port
from tests.browser.conftest import demo_database, running_app, sign_in, wait_for_app

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


class _CuttableProxy:
    """A TCP relay in front of the server whose open connections can be cut, as a flaky
    network or a proxy's restart does, while the server itself keeps running."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.writers: list[asyncio.StreamWriter] = []
        started = threading.Event()
        threading.Thread(target=self._run, args=(started,), daemon=True).start()
        started.wait(10)

    def _run(self, started: threading.Event) -> None:
        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()

        async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
            self.writers += [client_w, server_w]
            await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

        async def main() -> None:
            server = await asyncio.start_server(handle, "127.0.0.1", self.port)
            started.set()
            await server.serve_forever()

        self.loop.run_until_complete(main())

    def cut(self) -> None:
        def abort() -> None:
            for writer in self.writers:
                writer.transport.abort()
            self.writers.clear()

        self.loop.call_soon_threadsafe(abort)


def test_unsaved_input_survives_a_reconnect_to_the_same_server(page: Any, tmp_path: Path) -> None:
    """Streamlit's own reconnect: when the WebSocket drops and the server still holds the
    session, the tab resumes that session (so no "server restarted" notice, which a new
    session standing in for a lost one shows), still signed in, with what was typed but
    not saved still in the form."""
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
    with running_app(url, log_path=tmp_path / "app.log") as base_url:
        proxy = _CuttableProxy(int(base_url.rsplit(":", 1)[1]))
        front = f"http://127.0.0.1:{proxy.port}"
        sign_in(page, front, "casey", PASSWORD, "/record?team=CHK")
        sockets: list[str] = []
        page.on("websocket", lambda socket: sockets.append(socket.url))
        release = page.get_by_role("textbox", name="Release name")
        release.fill("typed before the drop")

        proxy.cut()
        page.wait_for_timeout(1000)
        expect(release).to_have_value("typed before the drop")
        deadline = time.monotonic() + 30
        while not sockets and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        assert sockets, "the tab did not reconnect"
        wait_for_app(page)
        expect(page.get_by_text("The server restarted")).to_have_count(0)
        expect(_signed_in(page)).to_be_visible()
        expect(release).to_have_value("typed before the drop")
