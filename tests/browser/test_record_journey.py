"""The post-release journey in Chromium: open Record for a team, log the release with the
hypothesis it ships, type three metrics into the grid, save once, and see the values on
the team page. Counts the interactions it takes (clicks, typed entries, choices)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from core.access import Actor
from db.engine import make_engine, read_session, write_session
from db.models import Hypothesis, Reading, Release
from db.queries import current_pi
from db.users import create_user
from tests.browser.conftest import demo_database, running_app, wait_for_app
from tests.browser.conftest import sign_in as sign_in_through_page
from tests.conftest import DEMO_TODAY

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("OUTCOMES_SCREENSHOTS", "/tmp/shots"))
PASSWORD = "release day secret"
EXCEPTION = "[data-testid='stException']"
# The grid's column widths as pages/record.py sets them; rows are 35 px high.
NEW_VALUE_X = 220 + 90 + 90 + 100 + 55
ROW_HEIGHT = 35
# Metrics of the demo's Checkout team, in the grid's (alphabetical) order.
GRID_ROWS = (
    "Average order value",
    "Cart abandonment",
    "Checkout conversion",
    "Checkout errors",
    "Payment page load time (p95)",
    "Weekly paying customers",
)
TYPED = {"Cart abandonment": "64.3", "Checkout conversion": "2.71", "Checkout errors": "3.55"}
SHOWN = {
    "Cart abandonment": "64.3%",
    "Checkout conversion": "2.71%",
    "Checkout errors": "3.55 per 1k sessions",
}


@dataclass
class Journey:
    """The page, with every user interaction counted."""

    page: Any
    steps: list[str] = field(default_factory=list)

    def count(self, step: str) -> None:
        self.steps.append(step)


@dataclass(frozen=True)
class App:
    base_url: str
    database_url: str
    pi: str


@pytest.fixture
def record_app(tmp_path: Path) -> Iterator[App]:
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
        create_user(
            session,
            actor=Actor.system("test"),
            username="morgan",
            role="editor",
            team_keys=["CHK", "WAL"],
            password=PASSWORD,
        )
    with read_session(engine) as session:
        pi = current_pi(session, today=DEMO_TODAY)
    engine.dispose()
    assert pi is not None
    with running_app(url, log_path=tmp_path / "streamlit.log") as base_url:
        yield App(base_url, url, pi.name)


def sign_in(page: Any, username: str = "casey") -> None:
    """Sign in through the sign-in page and come back to the page open now."""
    here = urlsplit(page.url)
    base_url = f"{here.scheme}://{here.netloc}"
    sign_in_through_page(page, base_url, username, PASSWORD, f"{here.path}?{here.query}")


def type_into_grid(journey: Journey, values: dict[str, str]) -> None:
    """Double-click the first cell to type into, then type each value and press Enter:
    Enter moves down a row, so consecutive rows need no more clicks."""
    page = journey.page
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    rows = [GRID_ROWS.index(name) for name in values]
    assert rows == list(range(rows[0], rows[0] + len(rows))), "consecutive rows"
    y = box["y"] + ROW_HEIGHT * (rows[0] + 1) + ROW_HEIGHT / 2
    page.mouse.dblclick(box["x"] + NEW_VALUE_X, y)
    journey.count("open the first New value cell")
    page.wait_for_timeout(400)  # a person's pace: the cell editor opens first
    for name, value in values.items():
        # The first key of a selected cell opens its editor; the rest goes into it.
        page.keyboard.type(value[0])
        page.wait_for_timeout(300)
        page.keyboard.type(value[1:], delay=60)
        page.keyboard.press("Enter")
        page.wait_for_timeout(300)
        journey.count(f"type {name}")


def test_after_a_release_record_it_all_and_see_it_on_the_team_page(
    page: Any, record_app: App
) -> None:
    page.goto(f"{record_app.base_url}/record?team=CHK&pi={record_app.pi.replace(' ', '+')}")
    wait_for_app(page)
    sign_in(page)  # a sign-in lasts the browser session; not counted as the journey
    journey = Journey(page)
    assert page.locator("h1").first.inner_text().strip() == "Record"

    # 1. Log the release and the hypothesis it ships.
    page.get_by_role("textbox", name="Release name").fill("v2.4")
    journey.count("type the release name")
    page.locator("[data-testid='stMultiSelect']").filter(has_text="Hypotheses it ships").click()
    journey.count("open Hypotheses it ships")
    page.get_by_role("option", name=re.compile(r"^CHK-3 \(PI 26\.4\)")).click()
    journey.count("choose the hypothesis")
    page.keyboard.press("Escape")  # the list stays open for more choices, over the button
    journey.count("close the list")
    page.get_by_role("button", name="Log release").click()
    journey.count("click Log release")
    expect(page.get_by_text("Logged release v2.4")).to_be_visible(timeout=30_000)
    wait_for_app(page)

    # 2. This week's readings: three metrics in the grid, saved at once.
    type_into_grid(journey, TYPED)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "upd_record_journey_grid.png"))
    page.get_by_role("button", name="Save readings").click()
    journey.count("click Save readings")
    expect(page.get_by_text(re.compile(r"Saved 3 readings \(3 new\)"))).to_be_visible(
        timeout=30_000
    )
    wait_for_app(page)
    page.screenshot(path=str(SHOTS / "upd_record_journey_saved.png"))

    # 3. See them on the team page.
    page.get_by_role("link", name="See them on the team page").click()
    journey.count("click See them on the team page")
    page.wait_for_url(re.compile(r"/team\?.*team=CHK"), timeout=20_000)
    wait_for_app(page)
    assert page.locator("h1").first.inner_text().strip() == "Checkout"
    text = page.locator("[data-testid='stMain']").inner_text()
    for name, shown in SHOWN.items():
        assert re.search(rf"{re.escape(name)}\s*·\s*{re.escape(shown)} now", text), name
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=str(SHOTS / "upd_record_journey_team.png"))

    engine = make_engine(record_app.database_url)
    with read_session(engine) as session:
        release = session.scalars(select(Release).where(Release.name == "v2.4")).one()
        shipped = session.scalars(
            select(Hypothesis.id).where(Hypothesis.release_id == release.id)
        ).all()
        bulk = session.scalars(select(Reading.value).where(Reading.source == "bulk")).all()
    engine.dispose()
    assert len(shipped) == 1
    assert sorted(bulk) == sorted(float(v) for v in TYPED.values())

    print(f"\npost-release journey: {len(journey.steps)} interactions: {journey.steps}")
    assert len(journey.steps) == 11


def test_a_double_click_on_save_writes_once(page: Any, record_app: App) -> None:
    page.goto(f"{record_app.base_url}/record?team=CHK")
    wait_for_app(page)
    sign_in(page)
    page.get_by_role("textbox", name="Release name").fill("v2.5")
    journey = Journey(page)
    type_into_grid(journey, {"Average order value": "41.5"})

    page.get_by_role("button", name="Log release").dblclick()
    # Which message stays depends on whether the second click reached the server before
    # the first run ended: "Logged" if it was dropped, "Already saved" if it was refused.
    # Either way the database must hold one release (checked below).
    expect(page.get_by_text(re.compile(r"Logged release v2\.5|Already saved"))).to_be_visible(
        timeout=30_000
    )
    wait_for_app(page)
    page.get_by_role("button", name="Save readings").dblclick()
    expect(page.get_by_text(re.compile(r"Saved 1 reading|Already saved"))).to_be_visible(
        timeout=30_000
    )
    wait_for_app(page)

    engine = make_engine(record_app.database_url)
    with read_session(engine) as session:
        releases = session.scalars(select(Release.id).where(Release.name == "v2.5")).all()
        bulk = session.scalars(select(Reading.value).where(Reading.source == "bulk")).all()
    engine.dispose()
    assert len(releases) == 1
    assert bulk == [41.5]
    assert page.locator(EXCEPTION).count() == 0

    page.get_by_role("tab", name="Export").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    exported = Path(download.value.path()).read_text("utf-8-sig")
    assert exported.startswith("team,metric,date,value,note")
    assert "Checkout,Average order value," in exported and ",41.5," in exported


def choose(page: Any, label: str, option: str) -> None:
    page.locator("[data-testid='stSelectbox']").filter(has_text=label).first.click()
    page.get_by_role("option", name=re.compile(rf"^{re.escape(option)}")).click()


def test_team_choices_carry_keys_between_pages_with_other_teams(page: Any, record_app: App) -> None:
    """The Team page offers every team, Record only the editor's; one URL parameter (and
    one select box key) serves both. Each pick must write that team's key."""
    sidebar = page.locator("[data-testid='stSidebar']")
    pi = record_app.pi.replace(" ", "+")
    page.goto(f"{record_app.base_url}/record?team=CHK&pi={pi}")
    wait_for_app(page)
    sign_in(page, "morgan")
    for _ in range(2):
        sidebar.get_by_role("link", name=re.compile(r"Team$")).click()
        wait_for_app(page)
        choose(page, "Team", "Risk")
        page.wait_for_url(re.compile(r"team=RSK(&|$)"), timeout=20_000)
        wait_for_app(page)
        assert page.locator("h1").first.inner_text().strip() == "Risk"
        sidebar.get_by_role("link", name=re.compile(r"Record$")).click()
        wait_for_app(page)
        choose(page, "Team", "Wallet")
        page.wait_for_url(re.compile(r"/record\?.*team=WAL(&|$)"), timeout=20_000)
        wait_for_app(page)
        choose(page, "Team", "Checkout")
        page.wait_for_url(re.compile(r"/record\?.*team=CHK(&|$)"), timeout=20_000)
        wait_for_app(page)
    assert page.locator(EXCEPTION).count() == 0
