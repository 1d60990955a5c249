"""Present mode in a real browser (issue 14 item 6): the keys a keyboard and a
presentation clicker send move between slides, the countdown counts down, and the
buttons are readable in the light and the dark theme."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import wait_for_app
from tests.conftest import DEMO_TODAY

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "test-results" / "present"
TITLE = "[data-testid='stMain'] h1"
# The longest interval, so no timer advance lands in the middle of the key sequence.
STILL = f"/present?interval=3600&as_of={DEMO_TODAY.isoformat()}"


class Counted:
    """The page with every user interaction counted (the issue's measure of effort)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.interactions = 0

    def press(self, key: str) -> str:
        """Press `key` and return the slide title once the new slide is drawn; fail if
        any animation frame showed the new title with a row of the old slide."""
        before = slide_title(self.page)
        self.page.evaluate(WATCH_MIXED_FRAMES, [TITLE, before])
        self.interactions += 1
        self.page.keyboard.press(key)
        self.page.wait_for_function(
            "([selector, before]) => {"
            "  const h = document.querySelector(selector);"
            "  return h && h.innerText.trim() !== before; }",
            arg=[TITLE, before],
            timeout=20_000,
        )
        wait_for_app(self.page)
        self.page.wait_for_timeout(300)  # a few more frames after the run has ended
        mixed = self.page.evaluate(
            "() => { window.__presentWatch = false; return window.__mixed; }"
        )
        assert mixed == [], f"a frame mixed two slides: {mixed}"
        return slide_title(self.page)


# Every animation frame until told to stop: once the title is no longer the old slide's,
# none of the old slide's rows (its h3 lines) may still be on screen.
WATCH_MIXED_FRAMES = """([selector, before]) => {
  const main = document.querySelector("[data-testid='stMain']");
  // Only rows on screen: the page hides the old slide's stale rows (display: none).
  const rows = (root) =>
    Array.from(root.querySelectorAll("h3"))
      .filter((h) => h.checkVisibility())
      .map((h) => h.innerText.trim());
  const old = new Set(rows(main).filter((text) => text));
  window.__mixed = [];
  window.__presentWatch = true;
  const frame = () => {
    if (!window.__presentWatch) return;
    const h = document.querySelector(selector);
    const title = h ? h.innerText.trim() : "";
    if (title && title !== before) {
      const left = rows(main).filter((text) => old.has(text));
      if (left.length) window.__mixed.push(title + " with " + left[0]);
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
}"""


def slide_title(page: Any) -> str:
    return page.locator(TITLE).first.inner_text().strip()


def luminance(rgb: str) -> float:
    def channel(value: str) -> float:
        c = int(value) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in re.findall(r"\d+", rgb)[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, two: str) -> float:
    high, low = sorted((luminance(one), luminance(two)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def open_present(browser: Any, base_url: str, scheme: str, path: str = STILL) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 720}, color_scheme=scheme)
    page = context.new_page()
    page.goto(base_url + path)
    wait_for_app(page)
    page.wait_for_selector(TITLE)
    return page


def test_keys_and_clicker_keys_move_between_slides(browser: Any, demo_app: str) -> None:
    page = open_present(browser, demo_app, "light")
    counted = Counted(page)
    first = slide_title(page)
    second = counted.press("ArrowRight")
    third = counted.press("PageDown")
    assert len({first, second, third}) == 3
    assert counted.press("ArrowLeft") == second
    assert counted.press("PageUp") == first
    assert counted.press("Space") == second
    assert counted.interactions == 5  # one key per slide change, nothing else
    assert re.search(r"Slide 2 of \d+", page.locator("[data-testid='stMain']").inner_text())
    page.context.close()


def test_the_countdown_counts_down(browser: Any, demo_app: str) -> None:
    page = open_present(browser, demo_app, "light", f"/present?interval=20&as_of={DEMO_TODAY}")
    main = page.locator("[data-testid='stMain']")

    def seconds_left() -> int:
        found = re.search(r"Next slide in (\d+) s", main.inner_text())
        assert found, "no countdown on the slide"
        return int(found.group(1))

    start = seconds_left()
    page.wait_for_timeout(3_500)
    assert seconds_left() < start
    page.context.close()


def test_the_show_advances_on_its_own(browser: Any, demo_app: str) -> None:
    page = open_present(browser, demo_app, "light", f"/present?interval=3&as_of={DEMO_TODAY}")
    first = slide_title(page)
    page.wait_for_function(
        "([selector, first]) => document.querySelector(selector).innerText.trim() !== first",
        arg=[TITLE, first],
        timeout=10_000,
    )
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_buttons_are_readable_in_both_themes(browser: Any, demo_app: str, scheme: str) -> None:
    page = open_present(browser, demo_app, scheme)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"present-{scheme}.png"), full_page=True)
    Counted(page).press("PageUp")  # back from the first slide: Inspect & Adapt
    assert Counted(page).press("PageUp").endswith("train")
    page.screenshot(path=str(SHOTS / f"present-train-{scheme}.png"), full_page=True)
    for key in ("previous", "pause", "next"):
        # .first: Streamlit draws a button with a help tooltip twice (one hidden copy).
        button = page.locator(f".st-key-present-{key} button").first.first
        colours = button.evaluate(
            "b => { const s = getComputedStyle(b);"
            " const label = b.querySelector('p') || b;"
            " return [getComputedStyle(label).color, s.backgroundColor]; }"
        )
        # WCAG AA for normal text.
        assert contrast(*colours) >= 4.5, (scheme, key, colours)
    page.context.close()
