"""The outcome page's hypothesis evidence under the trend-adjusted verdict: method, effect
with its 95% interval, p, both means and counts, and the projected pre-release trend on the
chart (AppTest on the demo workspace: STL-1's rise is the trend's, not the release's)."""

from __future__ import annotations

import json

from tests.pages import test_dashboards
from tests.pages.test_dashboards import AS_OF, CURRENT_PI, Open, texts

database = test_dashboards.database
open_page = test_dashboards.open_page


def test_trend_evidence_reads_as_a_sentence_with_interval(open_page: Open) -> None:
    at = open_page("pages/outcome.py", pi=CURRENT_PI, outcome="STL-1", as_of=AS_OF)

    body = texts(at)
    metrics = {m.label: m.value for m in at.metric}
    assert "Inconclusive" in body
    assert "where the pre-release trend was heading, 95% interval" in body
    assert "before/after means" in body and "(4 and 4 readings" in body
    assert "Method: against the pre-release trend" in body
    assert " to " in metrics["95% interval"]
    assert metrics["p-value"] != "—"


def test_chart_projects_the_pre_release_trend(open_page: Open) -> None:
    at = open_page("pages/outcome.py", pi=CURRENT_PI, outcome="STL-1", as_of=AS_OF)

    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]

    names = {layer.get("name") for spec in specs for layer in spec.get("layer", [])}
    assert {"trend_fitted", "trend_projected"} <= names


def test_means_method_says_so_and_has_no_interval(open_page: Open) -> None:
    # CHK-2: one reading since its release five days ago
    at = open_page("pages/outcome.py", pi=CURRENT_PI, outcome="CHK-2", as_of=AS_OF)

    metrics = {m.label: m.value for m in at.metric}
    assert "Method: before/after means" in texts(at)
    assert metrics["95% interval"] == "—"
