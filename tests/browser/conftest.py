"""Browser fixtures: Debian's Chromium driven by pytest-playwright, and the app under
`streamlit run` on a free port with its own SQLite file (the recipe of Streamlit's own e2e
suite: poll /_stcore/health, then wait for the script to finish in the page)."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from db.engine import make_engine
from db.migrate import upgrade
from seed.demo import load_demo
from tests.app_server import app_command, free_port
from tests.conftest import DEMO_TODAY, skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
APP_READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
START_TIMEOUT_S = 90


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch options, pointed at Debian's Chromium (its
    `--browser-channel` cannot name an executable)."""
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def running_app(
    database_url: str,
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    port: int | None = None,
    day: dt.date | None = DEMO_TODAY,
) -> Iterator[str]:
    """`streamlit run app.py` on a free loopback port (or `port`, to restart a server
    where its open tabs reconnect) against `database_url`, with today held at `day` (None:
    the real clock); yields the base URL once /_stcore/health answers, and stops the server afterwards."""
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "OUTCOMES_DATABASE_URL": database_url,
        "OUTCOMES_DEMO": "false",
        **(env or {}),
    }
    command = app_command(port, day=day)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not _healthy(base_url):
                if process.poll() is not None:
                    pytest.fail(f"streamlit exited with {process.returncode}: see {log_path}")
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not answer within {START_TIMEOUT_S} s")
                time.sleep(0.2)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def demo_database(path: Path) -> str:
    """A fresh SQLite file with the demo workspace placed around DEMO_TODAY."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    load_demo(engine, today=DEMO_TODAY)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server on the demo workspace for a test module; yields its base URL."""
    folder = tmp_path_factory.mktemp("demo_app")
    url = demo_database(folder / "outcomes.db")
    with running_app(url, log_path=folder / "streamlit.log") as base_url:
        yield base_url


@pytest.fixture
def fresh_demo_app(tmp_path: Path) -> Iterator[str]:
    """A server that has not served any request yet (for first-request behaviour)."""
    url = demo_database(tmp_path / "outcomes.db")
    with running_app(url, log_path=tmp_path / "streamlit.log") as base_url:
        yield base_url


def wait_for_app(page: Any, *, timeout_ms: int = 60_000) -> None:
    """Wait until the page's script run has finished and no element is still loading."""
    page.wait_for_selector(APP_READY, timeout=timeout_ms)
    page.wait_for_function(
        """() => {
            const app = document.querySelector("[data-testid='stApp']");
            if (!app || app.dataset.testScriptState !== 'notRunning') return false;
            if (document.querySelector("[data-testid='stSkeleton']")) return false;
            return Array.from(document.querySelectorAll("[data-testid='stVegaLiteChart']"))
                .every(chart => chart.querySelector('svg, canvas'));
        }""",
        timeout=timeout_ms,
        polling=100,
    )


def choose(page: Any, label: str, option: str | re.Pattern[str]) -> None:
    """Pick `option` (a name, or a pattern for names that go on with a key) in the select
    box or multiselect labelled `label`. On a loaded machine a click can land while the
    page is still being swapped or rerun, and the list closes before the option shows:
    the list is opened again (a few times); an option not in it fails."""
    box = page.locator("[data-testid='stSelectbox'], [data-testid='stMultiSelect']").filter(
        has=page.get_by_text(label, exact=True)
    )
    if isinstance(option, str):
        choice = page.get_by_role("option", name=option, exact=True)
    else:
        choice = page.get_by_role("option", name=option)
    for _ in range(3):
        box.first.get_by_role("combobox").click()
        try:
            choice.click(timeout=5_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    raise AssertionError(f"no option {option!r} in {label!r}")


def sign_in(page: Any, base_url: str, username: str, password: str, next_path: str) -> None:
    """Sign in through the sign-in page (`/auth/sign-in`, api/sign_in.py), which sets the
    lasting cookie and returns to `next_path` (a path of the app with its query); wait
    for that page. The one way every browser test signs in."""
    page.goto(f"{base_url}/auth/sign-in?next={quote(next_path, safe='')}")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    landed = urlsplit(page.url)
    if landed.path.startswith("/auth/"):
        message = page.locator("p.message")
        said = message.inner_text() if message.count() else "no message"
        raise AssertionError(f"sign-in as {username} refused: {said}")
    wait_for_app(page)
