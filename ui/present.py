"""The presentation's look and timing: big type, high contrast, seconds per slide."""

from __future__ import annotations

from core.validate import bounded_int

PRESENT_MIN_INTERVAL = 3
# Above this the browser's timer overflows (about 24.8 days, 2**31 ms) and fires at once:
# a shared link could make every open presentation rerun in a loop.
PRESENT_MAX_INTERVAL = 3600
PRESENT_DEFAULT_INTERVAL = 15


# A constant (no user text ever goes in here): big type, readable from the back of a room
# on a 1280x720 projector. Colours are left to the theme (light or dark, as the browser
# prefers): its text and buttons are high contrast on its own background, where a page
# forced white under the dark theme's light-on-dark buttons, badges and header icons mixed
# the two (issue 14 items 6 and 8; tests/browser/test_accessibility.py runs axe on both).
PRESENT_CSS = """<style>
.stMainBlockContainer { max-width: 100%; padding: 3rem 3vw 1rem 3vw; }
.stMainBlockContainer h1 { font-size: max(3.2rem, 5vw); font-weight: 800;
  padding: 0 0 0.4rem 0; }
.stMainBlockContainer h3 { font-size: max(1.7rem, 2.3vw); font-weight: 650;
  line-height: 1.25; padding: 0.2rem 0; }
.stMainBlockContainer [data-testid="stMarkdownContainer"] p { font-size: max(1.3rem, 1.6vw); }
.stMainBlockContainer .stMarkdownBadge { font-size: max(1.4rem, 1.9vw) !important;
  font-weight: 700; padding: 0.1em 0.45em; }
.stMainBlockContainer p:has(> .stMarkdownBadge) { margin: 0; }
.stMainBlockContainer button p { font-size: max(1.1rem, 1.2vw); }
.stMainBlockContainer button { border-width: 2px; }
.stMainBlockContainer [data-testid="stHeaderActionElements"] { display: none; }
.st-key-present-slide [data-stale="true"] { display: none; }
</style>"""


# Present mode's keyboard and clicker control, a constant script (no user text ever goes
# in here; tests/test_safe_rendering.py holds every st.html to a constant string). Tested
# in Chromium by tests/browser/test_present_keys.py.
PRESENT_KEYS = """<script>
// Present mode's keyboard and presentation-clicker control (issue 14). Constant markup,
// no user text. Clickers send PageUp/PageDown; keyboards use the arrows and Space.
// The keys press the page's own Previous/Next buttons (found by their Streamlit keys),
// so a key does exactly what a click does, through the same server-side callback.
(() => {
  if (window.__outcomesPresentKeys) return; // st.html reruns this on every redraw
  window.__outcomesPresentKeys = true;
  const NEXT = new Set(["ArrowRight", "PageDown", " ", "Spacebar"]);
  const PREVIOUS = new Set(["ArrowLeft", "PageUp"]);
  document.addEventListener(
    "keydown",
    (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey || event.repeat) return;
      const target = event.target;
      // Typing in a field (the sidebar's PI picker) keeps its keys.
      if (target && target.closest && target.closest("input, textarea, select, [contenteditable]")) {
        return;
      }
      const which = NEXT.has(event.key) ? "next" : PREVIOUS.has(event.key) ? "previous" : null;
      if (!which) return;
      // Only on the present page: elsewhere these buttons do not exist and keys scroll.
      const button = document.querySelector(`.st-key-present-${which} button`);
      if (!button || button.disabled) return;
      event.preventDefault();
      event.stopPropagation();
      button.click();
    },
    true,
  );
  // A focused button would take Space as its own click on key-up (say Pause, after a
  // click on it): on the present page Space belongs to "next" alone.
  document.addEventListener(
    "keyup",
    (event) => {
      if (event.key === " " && document.querySelector(".st-key-present-next button")) {
        const target = event.target;
        if (target && target.closest && target.closest("input, textarea, select")) return;
        event.preventDefault();
      }
    },
    true,
  );
})();
</script>"""


def present_interval(raw: str | None) -> int:
    """Seconds per slide from `interval=`: default 15, held to 3..3600."""
    return bounded_int(
        raw, default=PRESENT_DEFAULT_INTERVAL, low=PRESENT_MIN_INTERVAL, high=PRESENT_MAX_INTERVAL
    )
