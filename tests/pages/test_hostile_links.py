"""Issue 15: a shared link is anyone's input. Numeric URL parameters are bounded and never
raise, and the unit an editor typed is never rendered as Markdown."""

from __future__ import annotations

import pytest

from tests.pages.test_dashboards import (  # noqa: F401 - fixtures
    AS_OF,
    CURRENT_PI,
    Open,
    database,
    demo_template,
    open_page,
    texts,
)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("3000000", "every 3600 s"),  # overflowed the browser's timer: a rerun loop
        ("inf", "every 3600 s"),  # raised OverflowError on the page
        ("1e400", "every 3600 s"),
        ("-inf", "every 3 s"),
        ("nan", "every 15 s"),
        ("9" * 5000, "every 15 s"),
    ],
)
def test_present_interval_from_a_hostile_link_is_bounded(
    open_page: Open,  # noqa: F811 - the fixture imported above
    raw: str,
    shown: str,
) -> None:
    at = open_page("pages/present.py", pi=CURRENT_PI, as_of=AS_OF, interval=raw)
    assert not at.exception
    assert shown in texts(at)
