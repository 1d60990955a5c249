"""Issue 15: a shared link is anyone's input. Numeric URL parameters are bounded and never
raise, and the unit an editor typed is never rendered as Markdown."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.engine import make_engine, write_session
from db.models import Metric
from tests.pages.test_dashboards import (  # noqa: F401 - fixtures
    AS_OF,
    CURRENT_PI,
    Open,
    database,
    demo_template,
    open_page,
    texts,
)
from ui.text import escape_markdown


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


def test_metric_unit_is_not_markdown_in_the_evidence_tiles(open_page: Open, database: str) -> None:  # noqa: F811
    # Setup: an editor's unit that, as Markdown, makes every visitor's browser fetch a URL.
    unit = "![](//host/x)"
    engine = make_engine(database)
    with write_session(engine) as session:
        for metric in session.scalars(select(Metric)):
            metric.unit = unit
    engine.dispose()
    # Exercise
    at = open_page("pages/outcome.py", pi=CURRENT_PI, outcome="CHK-1", as_of=AS_OF)
    # Verify: the evidence tiles show the unit as text, escaped.
    values = [str(m.value) for m in at.metric]
    assert values and any(escape_markdown(unit) in value for value in values)
    assert not any("![](" in value for value in values)
