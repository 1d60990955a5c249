"""PI review's "Across PIs" section: the train's predictability and share of outcomes
achieved over its last PIs, as a chart (AppTest on the demo workspace)."""

from __future__ import annotations

from tests.pages import test_dashboards
from tests.pages.test_dashboards import AS_OF, CURRENT_PI, PAST_PI, Open, texts

database = test_dashboards.database
open_page = test_dashboards.open_page


def _track_record_charts(at: object) -> list[dict]:
    charts = []
    for element in at.get("vega_lite_chart"):  # type: ignore[attr-defined]
        spec = element.proto.spec
        if "Predictability (pooled) and the share of team outcomes achieved" in spec:
            charts.append(spec)
    return charts


def test_review_shows_the_train_across_its_pis(open_page: Open) -> None:
    at = open_page("pages/review.py", pi=CURRENT_PI, as_of=AS_OF)

    assert "Across PIs" in [h.value for h in at.header]
    (spec,) = _track_record_charts(at)
    assert PAST_PI in spec and f"{CURRENT_PI} (running)" in spec


def test_review_of_the_first_pi_says_the_track_record_comes_later(open_page: Open) -> None:
    at = open_page("pages/review.py", pi=PAST_PI, as_of=AS_OF)

    assert not _track_record_charts(at)
    assert "appears here from its second PI on" in texts(at)
