"""axe-core over every page, in the light and the dark theme, on a laptop and a phone.

One server on the demo workspace for the module; each case opens a fresh browser context
(the theme comes from the browser's prefers-color-scheme, which Streamlit follows when the
app sets no fixed theme base) and fails on any serious or critical violation, listing the
rule, its impact and the element it found. axe.js comes bundled with axe-playwright-python,
so no network is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from core.access import Actor
from db.engine import make_engine, write_session
from db.users import create_user
from tests.browser.conftest import ROOT, demo_database, running_app, wait_for_app

pytestmark = pytest.mark.browser

PASSWORD = "accessible secret"
BLOCKING = ("serious", "critical")
VIEWPORTS = {"laptop": {"width": 1280, "height": 720}, "phone": {"width": 390, "height": 844}}
# The page background Streamlit paints for each theme: proves the theme really switched.
BACKGROUNDS = {"light": "rgb(255, 255, 255)", "dark": "rgb(23, 22, 20)"}
# Path, and who must be signed in to see the page itself rather than a sign-in form.
PAGES: dict[str, str | None] = {
    "/": None,
    "/team?team=CHK": None,
    "/outcome?team=CHK&outcome=CHK-1": None,
    "/review": None,
    "/present?interval=600": None,
    "/record?team=CHK": "editor",
    "/plan?team=CHK": "editor",
    "/admin": "admin",
}
if (ROOT / "pages" / "metric.py").exists():  # the metric history page, where it exists
    PAGES["/metric?team=CHK"] = None


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.fixture(scope="module")
def audited_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("accessibility")
    url = demo_database(folder / "outcomes.db")
    engine = make_engine(url)
    with write_session(engine) as session:
        for username, role in (("editor", "editor"), ("admin", "admin")):
            create_user(
                session,
                actor=Actor.system("test"),
                username=username,
                role=role,
                team_keys=["CHK"],
                password=PASSWORD,
            )
    engine.dispose()
    with running_app(url, log_path=folder / "streamlit.log") as base_url:
        yield base_url


def sign_in(page: Any, username: str) -> None:
    form = page.locator("[data-testid='stMain'] [data-testid='stForm']").first
    form.get_by_role("textbox", name="Username").fill(username)
    form.get_by_role("textbox", name="Password").fill(PASSWORD)
    form.get_by_role("button", name="Sign in").click()
    page.wait_for_timeout(300)  # let the rerun start before waiting for it to finish
    wait_for_app(page)


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"])
        lines.append(f"{violation['id']} ({violation['impact']}): {targets}")
        lines.append(f"    {violation['help']}")
        lines.extend(f"    {node['failureSummary']}" for node in violation["nodes"][:3])
    return "\n".join(lines)


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("theme", BACKGROUNDS)
@pytest.mark.parametrize("path", PAGES)
def test_no_serious_violations(
    browser: Any, axe: Axe, audited_app: str, path: str, theme: str, viewport: str
) -> None:
    if path.startswith("/present") and theme == "dark":
        # Not fixed yet (issue 14 item 6): PRESENT_CSS paints the slide white in every
        # theme while Streamlit styles its buttons for the dark theme.
        pytest.xfail("present mode's buttons are dark-on-dark in the dark theme")
    context = browser.new_context(viewport=VIEWPORTS[viewport], color_scheme=theme)
    try:
        page = context.new_page()
        page.goto(f"{audited_app}{path}")
        wait_for_app(page)
        if PAGES[path]:
            sign_in(page, PAGES[path])
        assert not page.locator("[data-testid='stException']").count()
        background = page.locator("[data-testid='stApp']").evaluate(
            "element => getComputedStyle(element).backgroundColor"
        )
        assert background == BACKGROUNDS[theme], f"the {theme} theme is not on: {background}"
        if PAGES[path]:  # the page itself, not its sign-in form
            assert not page.get_by_role("button", name="Sign in").count()
        results = axe.run(page)
        blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
        assert not blocking, f"{path} in {theme} at {viewport}:\n{describe(blocking)}"
    finally:
        context.close()


@pytest.mark.xfail(reason="the outcome page's title is still an h2 (issue 14 item 8)")
def test_one_h1_per_page(browser: Any, audited_app: str) -> None:
    """Every page has exactly one top-level heading (the outcome page's title was an h2)."""
    context = browser.new_context(viewport=VIEWPORTS["laptop"])
    try:
        page = context.new_page()
        counts = {}
        for path, role in PAGES.items():
            page.goto(f"{audited_app}{path}")
            wait_for_app(page)
            if role:
                sign_in(page, role)
            counts[path] = page.locator("[data-testid='stMain'] h1").count()
        assert counts == dict.fromkeys(PAGES, 1)
    finally:
        context.close()


def test_axe_is_bundled() -> None:
    """The audit runs offline: axe.js ships inside the package."""
    import axe_playwright_python

    script = Path(axe_playwright_python.__file__).with_name("axe.min.js")
    assert script.read_text(encoding="utf-8").startswith("/*! axe v4.")
