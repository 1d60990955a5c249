"""The presentation's look and timing: big type, high contrast, seconds per slide."""

from __future__ import annotations

from pathlib import Path

from core.validate import bounded_int

PRESENT_MIN_INTERVAL = 3
# Above this the browser's timer overflows (about 24.8 days, 2**31 ms) and fires at once:
# a shared link could make every open presentation rerun in a loop.
PRESENT_MAX_INTERVAL = 3600
PRESENT_DEFAULT_INTERVAL = 15


# A constant (no user text ever goes in here): big type and high contrast, readable from
# the back of a room on a 1280x720 projector. The page is white in either theme, so the
# buttons and header controls are drawn dark on white too (the dark theme's own buttons
# would be dark on this white page).
PRESENT_CSS = """<style>
.stApp, .stApp [data-testid="stHeader"] { background: #ffffff; color: #000000; }
.stMainBlockContainer { max-width: 100%; padding: 3rem 3vw 1rem 3vw; }
.stMainBlockContainer h1 { font-size: max(3.2rem, 5vw); font-weight: 800; color: #000000;
  padding: 0 0 0.4rem 0; }
.stMainBlockContainer h3 { font-size: max(1.7rem, 2.3vw); font-weight: 650; color: #000000;
  line-height: 1.25; padding: 0.2rem 0; }
.stMainBlockContainer [data-testid="stMarkdownContainer"] p { font-size: max(1.3rem, 1.6vw);
  color: #000000; }
.stMainBlockContainer .stMarkdownBadge { font-size: max(1.4rem, 1.9vw) !important;
  font-weight: 700; padding: 0.1em 0.45em; }
.stMainBlockContainer p:has(> .stMarkdownBadge) { margin: 0; }
.stMainBlockContainer button p { font-size: max(1.1rem, 1.2vw); color: inherit; }
.stMainBlockContainer button { background: #ffffff; color: #000000; border: 2px solid #31333f; }
.stMainBlockContainer button:hover, .stMainBlockContainer button:focus-visible {
  background: #f0f2f6; color: #000000; border-color: #000000; }
.stMainBlockContainer button [data-testid="stIconMaterial"] { color: #000000; }
.stMainBlockContainer [data-testid="stHeaderActionElements"] { display: none; }
.stApp [data-testid="stHeader"] button { color: #31333f; }
.st-key-present-slide [data-stale="true"] { display: none; }
</style>"""


# The keyboard and clicker script, a constant file beside this module (see its comments).
PRESENT_KEYS = (Path(__file__).parent / "present_keys.html").read_text(encoding="utf-8")


def present_interval(raw: str | None) -> int:
    """Seconds per slide from `interval=`: default 15, held to 3..3600."""
    return bounded_int(
        raw, default=PRESENT_DEFAULT_INTERVAL, low=PRESENT_MIN_INTERVAL, high=PRESENT_MAX_INTERVAL
    )
