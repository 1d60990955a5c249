"""Copy link in Chromium: one click copies a link, and there are two: this view frozen at
its as-of date, and live; each says what the person who opens it will see (issue 14)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.format import day_text
from tests.browser.conftest import wait_for_app
from tests.conftest import DEMO_TODAY

pytestmark = pytest.mark.browser

PI = "PI+26.4"


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # Reading the clipboard back needs the permission; writing it does not on a click.
    return {**browser_context_args, "permissions": ["clipboard-read", "clipboard-write"]}


def clipboard(page: Any) -> str:
    return str(page.evaluate("navigator.clipboard.readText()"))


def test_one_click_copies_the_frozen_link_and_one_the_live_link(page: Any, demo_app: str) -> None:
    page.goto(f"{demo_app}/team?team=CHK&pi={PI}")
    wait_for_app(page)
    today = DEMO_TODAY  # the server's today (tests/app_server.py)
    clicks = 0

    page.get_by_role("button", name=re.compile(f"^Frozen at {day_text(today)}: ")).click()
    clicks += 1
    frozen = clipboard(page)
    said = page.locator(".ob-status").inner_text()

    assert clicks == 1
    assert frozen.startswith(f"{demo_app}/team?")
    assert f"as_of={today.isoformat()}" in frozen and "team=CHK" in frozen
    assert said == f"Copied: opens this view as of {day_text(today)}."

    page.get_by_role("button", name=re.compile(r"^Live: ")).click()
    live = clipboard(page)
    assert "as_of" not in live and "team=CHK" in live and f"pi={PI}" in live
    assert "live" in page.locator(".ob-status").inner_text()


def test_the_frozen_link_of_a_past_view_opens_that_view(page: Any, demo_app: str) -> None:
    page.goto(f"{demo_app}/team?team=CHK&pi={PI}&as_of={DEMO_TODAY.isoformat()}")
    wait_for_app(page)

    page.get_by_role("button", name=re.compile(r"^Frozen at ")).click()
    frozen = clipboard(page)
    page.goto(frozen)
    wait_for_app(page)

    assert f"as_of={DEMO_TODAY.isoformat()}" in page.url
    assert page.locator("h1").first.inner_text().strip() == "Checkout"
    assert f"as of {day_text(DEMO_TODAY)}" in page.locator("body").inner_text()
