"""axe-core over every page, in the light and the dark theme, on a laptop and a phone.

One server on the demo workspace for the module; each page is loaded once in a fresh
browser context and audited in both themes at both sizes (the theme comes from the
browser's prefers-color-scheme, which Streamlit follows live when the app sets no fixed
theme base; switching it and the window size in place spares three loads and sign-ins of
four), and fails on any serious or critical violation, listing the rule, its impact and
the element it found. axe.js comes bundled with axe-playwright-python,
so no network is needed. Beside axe: one h1 per page in every state (visitor, signed in,
a private workspace's sign-in, empty pages), the captions' contrast measured as drawn, and
the overview's team table naming its columns on a laptop and on a phone (issue 14).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe

from core.access import Actor
from db.engine import make_engine, write_session
from db.migrate import upgrade
from db.users import create_user
from tests.browser.conftest import ROOT, demo_database, running_app, wait_for_app
from tests.browser.conftest import sign_in as sign_in_through_page
from ui.team_table import TEAM_COLUMNS

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
    """Sign in through the sign-in page (the one way browser tests do) and come back to
    the page open now."""
    here = urlsplit(page.url)
    sign_in_through_page(
        page, f"{here.scheme}://{here.netloc}", username, PASSWORD, f"{here.path}?{here.query}"
    )


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"])
        lines.append(f"{violation['id']} ({violation['impact']}): {targets}")
        lines.append(f"    {violation['help']}")
        lines.extend(f"    {node['failureSummary']}" for node in violation["nodes"][:3])
    return "\n".join(lines)


def shown_in(page: Any, theme: str, size: dict[str, int]) -> None:
    """Put the open page in `theme` at `size` as a browser would (the system preference
    changing, the window resized), without loading it again, and wait until it is drawn
    so: Streamlit follows prefers-color-scheme live when the app fixes no theme base."""
    page.set_viewport_size(size)
    page.emulate_media(color_scheme=theme)
    page.wait_for_function(
        """background => getComputedStyle(
            document.querySelector("[data-testid='stApp']")).backgroundColor === background""",
        arg=BACKGROUNDS[theme],
        timeout=30_000,
    )
    wait_for_app(page)


@pytest.mark.parametrize("path", PAGES)
def test_no_serious_violations(browser: Any, axe: Axe, audited_app: str, path: str) -> None:
    """Each page once loaded (and signed in where it needs it), then audited in both themes
    at both sizes; every serious or critical finding of the four is listed."""
    first_theme, first_viewport = next(iter(BACKGROUNDS)), next(iter(VIEWPORTS))
    context = browser.new_context(viewport=VIEWPORTS[first_viewport], color_scheme=first_theme)
    try:
        page = context.new_page()
        page.goto(f"{audited_app}{path}")
        wait_for_app(page)
        if PAGES[path]:
            sign_in(page, PAGES[path])
        assert not page.locator("[data-testid='stException']").count()
        if PAGES[path]:  # the page itself, not its sign-in form
            assert not page.get_by_role("button", name="Sign in").count()
        found = []
        for viewport, size in VIEWPORTS.items():
            for theme in BACKGROUNDS:
                shown_in(page, theme, size)
                results = axe.run(page)
                blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
                if blocking:
                    found.append(f"{path} in {theme} at {viewport}:\n{describe(blocking)}")
        assert not found, "\n".join(found)
    finally:
        context.close()


def h1_texts(page: Any) -> list[str]:
    return page.locator("[data-testid='stMain'] h1").all_inner_texts()


def test_one_h1_per_page(browser: Any, audited_app: str) -> None:
    """Every page has exactly one top-level heading, as a visitor and signed in (the
    outcome page's title was an h2; the sign-in state has the page's name as its h1)."""
    context = browser.new_context(viewport=VIEWPORTS["laptop"])
    try:
        page = context.new_page()
        headings = {}
        for path, role in PAGES.items():
            page.goto(f"{audited_app}{path}")
            wait_for_app(page)
            headings[path] = h1_texts(page)
            if role:  # the sign-in state above, the page itself here
                sign_in(page, role)
                headings[f"{path} as {role}"] = h1_texts(page)
        assert {where: len(texts) for where, texts in headings.items()} == dict.fromkeys(
            headings, 1
        ), headings
        assert headings["/outcome?team=CHK&outcome=CHK-1"][0].startswith("CHK-1 · ")
        assert headings["/record?team=CHK"] == ["Record"]  # the sign-in state's title
    finally:
        context.close()


@pytest.fixture(scope="module")
def empty_private_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A workspace with one admin and nothing else, that visitors must sign in to see."""
    folder = tmp_path_factory.mktemp("empty_private")
    url = f"sqlite:///{folder / 'outcomes.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with write_session(engine) as session:
        create_user(
            session,
            actor=Actor.system("test"),
            username="admin",
            role="admin",
            team_keys=[],
            password=PASSWORD,
        )
    engine.dispose()
    log_path = folder / "streamlit.log"
    with running_app(url, log_path=log_path, env={"OUTCOMES_PUBLIC_READ": "false"}) as base_url:
        yield base_url


def test_one_h1_per_page_when_private_and_empty(browser: Any, empty_private_app: str) -> None:
    """The sign-in wall of a private workspace and every page's "nothing here yet" state
    have one h1 each too, in the dark theme on a phone (where titles wrap)."""
    context = browser.new_context(viewport=VIEWPORTS["phone"], color_scheme="dark")
    try:
        page = context.new_page()
        walls, pages = {}, {}
        for path in PAGES:
            page.goto(f"{empty_private_app}{path}")
            wait_for_app(page)
            walls[path] = h1_texts(page)
        # One sign-in lasts (the cookie) for every page after it.
        sign_in(page, "admin")
        for path in PAGES:
            page.goto(f"{empty_private_app}{path}")
            wait_for_app(page)
            assert not page.locator("[data-testid='stException']").count(), path
            pages[path] = h1_texts(page)
        assert walls == {path: ["Outcome Board"] for path in PAGES}
        assert {path: len(texts) for path, texts in pages.items()} == dict.fromkeys(PAGES, 1), pages
    finally:
        context.close()


def test_axe_is_bundled() -> None:
    """The audit runs offline: axe.js ships inside the package."""
    import axe_playwright_python

    script = Path(axe_playwright_python.__file__).with_name("axe.min.js")
    assert script.read_text(encoding="utf-8").startswith("/*! axe v4.")


def cells_in_view(page: Any, locator: Any, width: int) -> list[str]:
    """The texts of `locator`'s elements that are shown whole within `width` pixels."""
    shown = []
    for index in range(locator.count()):
        cell = locator.nth(index)
        box = cell.bounding_box()
        if cell.is_visible() and box and box["x"] >= 0 and box["x"] + box["width"] <= width:
            shown.append(cell.inner_text())
    return shown


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_overview_team_table_keeps_its_headers(
    browser: Any, audited_app: str, viewport: str
) -> None:
    """On a laptop one header row names the columns; on a phone, where the columns stack,
    every team's values are each named on screen (the header row was a list of names
    above the first team, far from their values)."""
    size = VIEWPORTS[viewport]
    context = browser.new_context(viewport=size)
    try:
        page = context.new_page()
        page.goto(audited_app)
        wait_for_app(page)
        header = page.locator(".st-key-team-table-header [data-testid='stCaptionContainer']")
        rows = page.locator("[class*='st-key-team-row-']")
        teams = rows.count()
        assert teams == 5  # the demo's Payments teams
        names = list(TEAM_COLUMNS)
        if viewport == "laptop":
            assert cells_in_view(page, header, size["width"]) == names
            labels = page.locator("[class*='st-key-team-label-']")
            assert not cells_in_view(page, labels, size["width"])
        else:
            assert not header.first.is_visible()
            for index in range(teams):
                row = rows.nth(index)
                row.scroll_into_view_if_needed()
                labels = row.locator(
                    "[class*='st-key-team-label-'] [data-testid='stCaptionContainer']"
                )
                assert cells_in_view(page, labels, size["width"]) == names, index
    finally:
        context.close()


def luminance(rgb: tuple[float, ...]) -> float:
    """WCAG 2 relative luminance of an sRGB colour (0-255 channels)."""
    linear = [
        c / 255 / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def channels(css: str) -> tuple[float, ...]:
    return tuple(float(part) for part in css[css.index("(") + 1 : css.index(")")].split(",")[:3])


@pytest.mark.parametrize("theme", BACKGROUNDS)
def test_captions_reach_wcag_aa_contrast(browser: Any, audited_app: str, theme: str) -> None:
    """st.caption is the body text at reduced opacity: composed over the page, it must
    reach 4.5:1 in both themes (Streamlit's default light one was #828180, 3.88:1)."""
    context = browser.new_context(viewport=VIEWPORTS["laptop"], color_scheme=theme)
    try:
        page = context.new_page()
        page.goto(f"{audited_app}/outcome?team=CHK&outcome=CHK-1")
        wait_for_app(page)
        caption = page.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']").first
        colour, opacity = caption.evaluate(
            "e => [getComputedStyle(e).color, parseFloat(getComputedStyle(e).opacity)]"
        )
        background = channels(BACKGROUNDS[theme])
        shown = tuple(
            opacity * text + (1 - opacity) * back
            for text, back in zip(channels(colour), background, strict=True)
        )
        lighter, darker = sorted((luminance(shown), luminance(background)), reverse=True)
        assert (lighter + 0.05) / (darker + 0.05) >= 4.5, (theme, colour, opacity)
    finally:
        context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("theme", BACKGROUNDS)
def test_the_sign_in_page_has_no_serious_violations(
    browser: Any, axe: Axe, audited_app: str, theme: str, viewport: str
) -> None:
    """The server-rendered sign-in page (api/sign_in.py), as drawn and after a refused
    password (its message has colours of its own)."""
    context = browser.new_context(viewport=VIEWPORTS[viewport], color_scheme=theme)
    try:
        page = context.new_page()
        page.goto(f"{audited_app}/auth/sign-in?next=%2Frecord")
        assert page.locator("h1").count() == 1
        found = axe.run(page).response["violations"]
        page.get_by_label("Username", exact=True).fill("editor")
        page.get_by_label("Password", exact=True).fill("not the password")
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        assert page.locator("p.message").count() == 1
        found += axe.run(page).response["violations"]
        blocking = [v for v in found if v["impact"] in BLOCKING]
        assert not blocking, f"/auth/sign-in in {theme} at {viewport}:\n{describe(blocking)}"
    finally:
        context.close()
