"""Colours and words for health, verdicts and chart series, readable in light and dark themes.

Hues follow the Okabe-Ito colour-blind-safe palette, shifted to mid-tones: every colour
here has a contrast of at least 3:1 against both Streamlit's light background (#FFFFFF)
and its dark one (#0E1117), so no chart needs to know which theme is on. Colour is never
the only signal: every health and verdict also has a word.
"""

from __future__ import annotations

from core.model import HEALTH_ORDER as TARGET_HEALTH_ORDER
from core.model import HEALTH_WORDS, PREDICTABILITY_BANDS, UNMEASURABLE, VERDICTS

# Backgrounds the palette is checked against (tests/ui/test_charts.py).
LIGHT_BACKGROUND = "#FFFFFF"
DARK_BACKGROUND = "#0E1117"

# Worst first; an outcome without targets is unmeasurable, listed last as it has no rank.
HEALTH_ORDER: tuple[str, ...] = (*TARGET_HEALTH_ORDER, UNMEASURABLE)
HEALTH_LABEL: dict[str, str] = {h: HEALTH_WORDS[h].capitalize() for h in HEALTH_ORDER}
HEALTH_COLOR: dict[str, str] = {
    "missed": "#D55E00",  # vermillion
    "off_track": "#C0679D",  # reddish purple
    "at_risk": "#B07C00",  # amber (Okabe-Ito orange, darkened for white backgrounds)
    "stale": "#8A8A8A",  # grey: silence is never green
    "no_data": "#6F7782",  # slate grey
    "on_track": "#009E73",  # bluish green
    "achieved": "#2A7FB8",  # blue
    UNMEASURABLE: "#94846F",  # warm grey
}

VERDICT_ORDER: tuple[str, ...] = ("refuted", "inconclusive", "measuring", "untested", "supported")
VERDICT_LABEL: dict[str, str] = {v: v.capitalize() for v in VERDICTS}
VERDICT_COLOR: dict[str, str] = {
    "refuted": "#D55E00",
    "inconclusive": "#B07C00",
    "measuring": "#2A7FB8",
    "untested": "#8A8A8A",
    "supported": "#009E73",
}

DECISION_LABEL: dict[str, str] = {"persevere": "Persevere", "pivot": "Pivot", "stop": "Stop"}

PREDICTABILITY_BAND_LABEL: dict[str, str] = dict(PREDICTABILITY_BANDS)
HEALTHY_BAND = (80.0, 100.0)

# Chart series. Text marks default to black in Vega-Lite and Streamlit's theme does not
# recolour them, so annotation text uses a grey with about 4.3:1 on both backgrounds.
TEXT_MUTED = "#787878"
SERIES_COLOR: dict[str, str] = {
    "readings": "#2A7FB8",
    "target": "#009E73",
    "baseline": "#8A8A8A",
    "expected": "#8A8A8A",
    "forecast": "#B07C00",
    "release": "#A07DB5",
    "as_of": TEXT_MUTED,
    "window_before": "#8A8A8A",
    "window_after": "#2A7FB8",
    "trend": "#D55E00",  # Okabe-Ito vermillion: apart from every other series
    "bar": "#2A7FB8",
    "track": "#8A8A8A",
}


def health_label(health: str) -> str:
    """The plain word for a health code; an unknown code is shown as itself."""
    return HEALTH_LABEL.get(health, health.replace("_", " ").capitalize())


def verdict_label(verdict: str) -> str:
    return VERDICT_LABEL.get(verdict, verdict.replace("_", " ").capitalize())
