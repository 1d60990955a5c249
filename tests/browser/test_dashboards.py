"""The dashboards in Chromium: a deep link as the very first request renders its page,
charts draw marks, filters write the URL, the presentation advances on its own, and every
page shows its heading on the first screen at projector and desktop sizes."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import wait_for_app
from tests.conftest import DEMO_TODAY

pytestmark = pytest.mark.browser

AS_OF = DEMO_TODAY.isoformat()
PI = "PI+26.4"
TEAMS = ["Checkout", "Insights", "Risk", "Settlements", "Wallet"]
SHOTS = Path(os.environ.get("OUTCOMES_SCREENSHOTS", "/tmp/shots"))
EXCEPTION = "[data-testid='stException']"


def heading(page: Any) -> str:
    return page.locator("h1").first.inner_text().strip()


def test_first_request_after_start_is_a_deep_link_to_a_team_page(
    page: Any, fresh_demo_app: str
) -> None:
    page.goto(f"{fresh_demo_app}/team?team=WAL&pi={PI}&as_of={AS_OF}")
    wait_for_app(page)
    assert heading(page) == "Wallet"
    assert page.get_by_text("WAL-1 · Raise top-up success").first.is_visible()
    assert page.locator(EXCEPTION).count() == 0
    assert "team=WAL" in page.url


def test_outcome_page_draws_chart_marks(page: Any, demo_app: str) -> None:
    page.goto(f"{demo_app}/outcome?pi={PI}&outcome=CHK-2&as_of={AS_OF}")
    wait_for_app(page)
    charts = page.locator("[data-testid='stVegaLiteChart']")
    assert charts.count() == 2
    marks = page.locator("[data-testid='stVegaLiteChart'] svg [role='graphics-symbol']")
    assert marks.count() > 10
    assert page.locator("[data-testid='stVegaLiteChart'] svg .mark-line path").count() >= 2


def test_changing_a_filter_changes_the_url(page: Any, demo_app: str) -> None:
    page.goto(f"{demo_app}/?as_of={AS_OF}")
    wait_for_app(page)
    assert "pi=PI+26.4" in page.url
    page.locator("[data-testid='stSelectbox']").filter(has_text="PI").first.click()
    page.get_by_role("option", name=re.compile(r"^PI 26\.3")).click()
    page.wait_for_url(re.compile(r"pi=PI\+26\.3"), timeout=20_000)
    wait_for_app(page)
    assert heading(page) == "PI 26.3 overview"


def test_a_filter_whose_choices_change_still_writes_a_key(page: Any, demo_app: str) -> None:
    """The Outcome select box offers another PI's outcomes once the PI changes; a pick
    among them must put that outcome's key in the URL and show it (Streamlit keeps a
    keyed widget's browser-side value across changed options, by label)."""
    page.goto(f"{demo_app}/outcome?pi={PI}&outcome=CHK-2&as_of={AS_OF}")
    wait_for_app(page)
    page.locator("[data-testid='stSelectbox']").filter(has_text="PI").first.click()
    page.get_by_role("option", name=re.compile(r"^PI 26\.3")).click()
    page.wait_for_url(re.compile(r"pi=PI\+26\.3"), timeout=20_000)
    wait_for_app(page)
    for _ in range(2):
        shown = re.search(r"outcome=([A-Z]+-\d+)", page.url)
        assert shown, page.url
        page.locator("[data-testid='stSelectbox']").filter(has_text="Outcome").first.click()
        labels = page.get_by_role("option").all_inner_texts()
        key = next(k for k in (t.split(" · ")[0].strip() for t in labels) if k != shown[1])
        page.get_by_role("option", name=re.compile(rf"^{key} · ")).click()
        page.wait_for_url(re.compile(rf"outcome={key}(&|$)"), timeout=20_000)
        wait_for_app(page)
        title = page.locator("h1, h2").first.inner_text().strip()
        assert title.startswith(f"{key} · "), title
    assert page.locator(EXCEPTION).count() == 0


def test_presentation_advances_by_itself(page: Any, demo_app: str) -> None:
    slides = [*TEAMS, "Payments train"]
    page.goto(f"{demo_app}/present?pi={PI}&as_of={AS_OF}&interval=3")
    wait_for_app(page)
    first = heading(page)  # the first slide, or the second on a slow machine
    assert first in slides[:2]
    page.wait_for_function(
        "first => { const h = document.querySelector('h1');"
        " return h && h.innerText.trim() !== first; }",
        arg=first,
        timeout=12_000,
    )
    assert heading(page) == slides[slides.index(first) + 1]


PAGES = {
    "overview": f"/?pi={PI}&as_of={AS_OF}",
    "team": f"/team?team=CHK&pi={PI}&as_of={AS_OF}",
    "outcome": f"/outcome?pi={PI}&outcome=CHK-2&as_of={AS_OF}",
    "metric": f"/metric?team=CHK&metric=Checkout+conversion&pi={PI}",
    "review": f"/review?pi=PI+26.3&as_of={AS_OF}",
    "present": f"/present?pi={PI}&as_of={AS_OF}&interval=600",
}
HEADINGS = {
    "overview": "PI 26.4 overview",
    "team": "Checkout",
    "outcome": "CHK-2 · Cut the time buyers wait for the payment page from 2.4 s to 1.6 s",
    "metric": "Checkout conversion · history",
    "review": "PI 26.3 review",
    "present": "Checkout",
}


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)], ids=["720p", "1080p"])
@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_shows_its_heading_on_the_first_screen(
    page: Any, demo_app: str, name: str, size: tuple[int, int]
) -> None:
    width, height = size
    page.set_viewport_size({"width": width, "height": height})
    page.goto(demo_app + PAGES[name])
    wait_for_app(page)
    assert page.locator(EXCEPTION).count() == 0
    title = page.locator("h1, h2").first
    assert title.inner_text().strip() == HEADINGS[name]
    box = title.bounding_box()
    assert box is not None and box["y"] + box["height"] <= height
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{width}x{height}.png"))
