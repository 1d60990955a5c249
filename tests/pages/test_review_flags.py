"""PI review's actual-actual flags (issue 16, "collapse long lists"): a few flags are a
warning each; at train scale they are one table, so 50 flags do not draw 50 boxes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import streamlit as st

from db.engine import make_engine, write_session
from tests.conftest import hold_today
from tests.pages.test_partial_predictability import open_page
from tests.workspace import Builder
from ui.review_table import FLAG_WARNINGS_MAX

AS_OF = dt.date(2026, 11, 2)
TITLE = "Faster *checkout* <b>now</b>"  # user text: never read as markdown or HTML


def flagged_workspace(database_url: str, count: int) -> None:
    """Checkout with `count` outcomes whose one target is achieved but which were scored
    2 for business value: each is flagged "low score, targets achieved"."""
    engine = make_engine(database_url)
    with write_session(engine) as session:
        b = Builder(session)
        train = b.train("Payments")
        team = b.team("Checkout", "CHK", train=train)
        pi = b.pi("PI 26.4", dt.date(2026, 10, 5), dt.date(2026, 12, 18), train=train)
        for number in range(1, count + 1):
            metric = b.metric(team, f"Conversion {number}", unit="%")
            b.readings(metric, {dt.date(2026, 10, 20): 2.8})
            outcome = b.outcome(
                pi, team, f"CHK-{number}", f"{TITLE} {number}", planned_bv=8, committed=True
            )
            b.target(outcome, metric, baseline=2.1, baseline_date=dt.date(2026, 10, 5), target=2.6)
            b.score(outcome, 2)
    engine.dispose()


@pytest.fixture
def review_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    hold_today(monkeypatch, AS_OF)
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", database_url)
    monkeypatch.setenv("OUTCOMES_DEMO", "false")
    monkeypatch.setenv("OUTCOMES_PUBLIC_READ", "true")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield database_url
    st.cache_data.clear()
    st.cache_resource.clear()


def flag_warnings(at: object) -> list[str]:
    return [
        w.value for w in at.warning if "targets were achieved" in w.value or "disagree" in w.value
    ]  # type: ignore[attr-defined]


def test_a_few_flags_are_a_warning_each(review_env: str) -> None:
    flagged_workspace(review_env, 2)
    at = open_page("pages/review.py", pi="PI 26.4", as_of=AS_OF.isoformat())
    warnings = flag_warnings(at)
    assert len(warnings) == 2
    # Markdown escaped: the title's asterisks and tags stay literal characters.
    assert all(
        r"scored 2 for business value\, but its targets were achieved" in w for w in warnings
    )
    assert all(r"Faster \*checkout\* \<b\>now\<\/b\>" in w for w in warnings)
    # Only the grouped value table: no flag table.
    assert len(at.dataframe) == 1


def test_many_flags_are_one_table(review_env: str) -> None:
    count = FLAG_WARNINGS_MAX + 2
    flagged_workspace(review_env, count)
    at = open_page("pages/review.py", pi="PI 26.4", as_of=AS_OF.isoformat())
    assert flag_warnings(at) == [
        f"{count} outcomes' business value scores disagree with their metrics."
    ]
    tables = [
        d.value for d in at.dataframe if "Flag" in d.value.columns and "Team" in d.value.columns
    ]
    assert len(tables) == 1
    table = tables[0]
    assert len(table) == count
    assert set(table["Outcome"]) == {f"CHK-{n}" for n in range(1, count + 1)}
    assert table["Title"].iloc[0].startswith(TITLE)  # kept as plain text, not escaped
    assert set(table["Team"]) == {"Checkout"}
