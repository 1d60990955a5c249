"""Present mode's slides through AppTest (issue 14 item 6): the train slide lists the
train outcomes and the countdown counts down to the next slide. The keys, the clean
transitions and the themes are browser matters: tests/browser/test_present_keys.py."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from tests.pages.test_dashboards import texts
from tests.pages.test_partial_predictability import (  # noqa: F401 - fixture used by name
    ROOT,
    partial_ws,
)
from ui import state

pytestmark = pytest.mark.usefixtures("partial_ws")

SHOWN_AT = "present.shown_at"  # pages/present.py: when the slide on show was drawn


def present(interval: int, **session: object) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page("pages/present.py")
    at.query_params["pi"] = "PI 26.4"
    at.query_params["interval"] = str(interval)
    for name, value in session.items():
        at.session_state[name] = value
    at.run()
    assert not at.exception
    return at


def test_the_train_slide_lists_the_train_outcomes() -> None:
    at = present(20, **{state.PRESENT_SLIDE: 1})  # after the one team slide
    text = texts(at)
    assert at.title[0].value == "Payments train"
    assert "Train outcomes" in text
    assert "PAY-1 · Fewer abandoned payments" in text


def test_the_countdown_counts_down_and_then_advances() -> None:
    at = present(20)
    assert "Slide 1 of 3" in texts(at) and "Next slide in 20 s" in texts(at)
    # 7.2 s later (the page ticks every second): 13 s to go, still the first slide.
    at.session_state[SHOWN_AT] = time.monotonic() - 7.2
    at.run()
    assert "Slide 1 of 3" in texts(at) and "Next slide in 13 s" in texts(at)
    # Once the interval has passed the next slide shows with a fresh countdown.
    at.session_state[SHOWN_AT] = time.monotonic() - 20
    at.run()
    assert "Slide 2 of 3" in texts(at) and "Next slide in 20 s" in texts(at)
    assert at.title[0].value == "Payments train"


def test_a_paused_show_says_paused_and_does_not_advance() -> None:
    at = present(5, **{state.PRESENT_PAUSED: True, SHOWN_AT: time.monotonic() - 60})
    text = texts(at)
    assert "Slide 1 of 3" in text and "paused" in text and "Next slide in" not in text
