"""With the HTTP API mounted (`app = st.App(...)` in app.py), a deep link as the very first
request after a start still runs its page with its filters (the trap of FACTS.md: no
legacy page list, no app.py run instead), and the API answers on the same server."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser.test_dashboards import AS_OF, EXCEPTION, PI, heading, wait_for_app


def test_deep_link_first_then_the_api_on_the_same_server(page: Any, fresh_demo_app: str) -> None:
    page.goto(f"{fresh_demo_app}/team?team=CHK&pi={PI}&as_of={AS_OF}")
    wait_for_app(page)

    assert heading(page) == "Checkout"
    assert page.locator(EXCEPTION).count() == 0
    assert page.locator("[data-testid='stSidebarNav']").count() == 0  # no legacy page list
    assert "team=CHK" in page.url
    health = httpx.get(f"{fresh_demo_app}/api/v1/health", timeout=30)
    assert health.status_code == 200 and health.json()["status"] == "ok"
