"""The learning loop in Chromium: an editor records a hypothesis's decision and learning on
the outcome page, then sees it in PI review's Inspect & Adapt section and in the report
that `python manage.py report --format json` prints."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from core.access import Actor
from db.engine import make_engine, read_session, write_session
from db.queries import current_pi
from db.users import create_user
from tests.browser.conftest import (
    ROOT,
    choose,
    demo_database,
    running_app,
    sign_in,
    wait_for_app,
)
from tests.conftest import DEMO_TODAY

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("OUTCOMES_SCREENSHOTS", "/tmp/shots"))
PASSWORD = "inspect and adapt"
EXCEPTION = "[data-testid='stException']"
# The demo's RSK-2 hypothesis: its window closed on DEMO_TODAY's PI without a decision.
OUTCOME = "RSK-2"
LEARNING = "Analysts skipped the pre-filled panel; they trust the raw ledger more."


@dataclass(frozen=True)
class App:
    base_url: str
    database_url: str
    pi: str


@pytest.fixture
def learning_app(tmp_path: Path) -> Iterator[App]:
    url = demo_database(tmp_path / "outcomes.db")
    engine = make_engine(url)
    with write_session(engine) as session:
        create_user(
            session,
            actor=Actor.system("test"),
            username="riley",
            role="editor",
            team_keys=["RSK"],
            password=PASSWORD,
        )
    with read_session(engine) as session:
        pi = current_pi(session, today=DEMO_TODAY)
    engine.dispose()
    assert pi is not None
    with running_app(url, log_path=tmp_path / "streamlit.log") as base_url:
        yield App(base_url, url, pi.name)


def main_text(page: Any) -> str:
    return page.locator("[data-testid='stMain']").inner_text()


def report(app: App) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "manage.py", "report", "--pi", app.pi, "--as-of",
         DEMO_TODAY.isoformat(), "--format", "json"],
        cwd=ROOT,
        env={**os.environ, "OUTCOMES_DATABASE_URL": app.database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def waiting_count(text: str) -> int:
    found = re.search(r"Window closed, no decision yet: (\d+) hypothes", text)
    return int(found.group(1)) if found else 0


def pivot_count(text: str) -> int:
    found = re.search(r"Pivot \((\d+)\)", text)
    return int(found.group(1)) if found else 0


def rsk2_hypothesis(document: dict[str, Any]) -> dict[str, Any]:
    risk = next(t for t in document["teams"] if t["team"] == "Risk")
    outcome = next(o for o in risk["outcomes"] if o["key"] == OUTCOME)
    return outcome["hypotheses"][0]


def test_a_decision_recorded_on_the_outcome_page_reaches_review_and_the_report(
    page: Any, learning_app: App
) -> None:
    before = rsk2_hypothesis(report(learning_app))
    assert (before["decision"], before["learning"]) == (None, "")
    # The demo is placed around DEMO_TODAY: every view is as of that day.
    pi = f"{learning_app.pi.replace(' ', '+')}&as_of={DEMO_TODAY.isoformat()}"
    sidebar = page.locator("[data-testid='stSidebar']")

    # Before: PI review flags the hypothesis as waiting for a decision.
    page.goto(f"{learning_app.base_url}/review?pi={pi}")
    wait_for_app(page)
    # The demo's counts move with its verdicts: count them here, compare after.
    waiting_before = waiting_count(main_text(page))
    pivots_before = pivot_count(main_text(page))
    assert waiting_before >= 1

    # Sign in through the sign-in page (a sign-in lasts in this browser), back on Record,
    # then open the outcome from the navigation, which keeps the URL's outcome.
    sign_in(
        page,
        learning_app.base_url,
        "riley",
        PASSWORD,
        f"/record?team=RSK&pi={pi}&outcome={OUTCOME}",
    )
    expect(sidebar.get_by_text("Signed in as riley (editor)")).to_be_visible(timeout=30_000)
    wait_for_app(page)
    sidebar.get_by_role("link", name=re.compile(r"Outcome$")).click()
    # The navigation is client-side (no load event): poll the address instead.
    expect(page).to_have_url(re.compile(rf"/outcome\?.*outcome={OUTCOME}(&|$)"), timeout=20_000)
    wait_for_app(page)
    assert page.locator("h2, h1").first.inner_text().startswith(f"{OUTCOME} ·")

    # Record the learning and the decision.
    page.get_by_text("Record the learning and decision").click()
    learning = page.get_by_role("textbox", name="Learning")
    expect(learning).to_be_visible(timeout=10_000)
    learning.fill(LEARNING)
    choose(page, "Decision", "Pivot")
    page.get_by_role("button", name="Save learning").click()
    expect(page.get_by_text(re.compile(r"Saved the learning on .*: pivot\."))).to_be_visible(
        timeout=30_000
    )
    wait_for_app(page)
    assert f"Decision: Pivot. Learning: {LEARNING}" in main_text(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "learning_outcome.png"), full_page=True)

    # PI review: nothing waits any more, and the pivot group holds it.
    sidebar.get_by_role("link", name=re.compile(r"PI review$")).click()
    expect(page).to_have_url(re.compile(r"/review\?"), timeout=20_000)
    expect(page.get_by_role("heading", name="Inspect & Adapt")).to_be_visible(timeout=30_000)
    wait_for_app(page)
    review = main_text(page)
    assert "Inspect & Adapt" in review
    assert waiting_count(review) == waiting_before - 1
    assert pivot_count(review) == pivots_before + 1
    page.get_by_role("heading", name="Inspect & Adapt").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "learning_review.png"))
    assert page.locator(EXCEPTION).count() == 0

    # The report carries the decision and the learning.
    after = rsk2_hypothesis(report(learning_app))
    assert (after["decision"], after["learning"]) == ("pivot", LEARNING)
