"""Alignment on the pages: a train outcome lists its contributing team outcomes with
health, progress and links; a team outcome links up to its parent; the overview shows
the rollup (AppTest on the demo workspace, whose PAY-1 has CHK-1 and WAL-1 as
contributors)."""

from __future__ import annotations

from sqlalchemy import delete

from db.engine import make_engine, write_session
from db.models import Target
from tests.pages import test_dashboards
from tests.pages.test_dashboards import AS_OF, CURRENT_PI, Open, _outcome, plain, texts

# The demo database and page runner of the dashboard tests, shared.
database = test_dashboards.database
open_page = test_dashboards.open_page


def _links(at: object) -> list[tuple[str, str]]:
    """(label, query string) of every page link a run drew."""
    found = []
    for element in at.get("page_link"):  # type: ignore[attr-defined]
        proto = element.proto
        found.append((plain(proto.label), proto.query_string))
    return found


def test_train_outcome_page_lists_contributors_with_links(open_page: Open) -> None:
    at = open_page("pages/outcome.py", pi=CURRENT_PI, outcome="PAY-1", as_of=AS_OF)

    links = _links(at)
    body = texts(at)
    assert "Contributing team outcomes" in [s.value for s in at.subheader]
    assert "Judged by its own targets" in body  # PAY-1 has targets of its own
    contributor = [(label, query) for label, query in links if label.startswith("CHK-1")]
    assert contributor, links
    (_, query) = contributor[0]
    assert "outcome=CHK-1" in query and "team=CHK" in query and "pi=PI" in query


def test_team_outcome_links_to_its_parent(open_page: Open) -> None:
    at = open_page("pages/outcome.py", pi=CURRENT_PI, outcome="CHK-1", as_of=AS_OF)

    parent = [(label, query) for label, query in _links(at) if label.startswith("Contributes to")]

    assert parent and parent[0][0].startswith("Contributes to PAY-1")
    assert "outcome=PAY-1" in parent[0][1] and "team=" not in parent[0][1]


def test_train_outcome_without_targets_is_rolled_up_on_page_and_overview(
    open_page: Open, database: str
) -> None:
    engine = make_engine(database)
    with write_session(engine) as session:
        pay = _outcome(session, CURRENT_PI, "PAY-1")
        session.execute(delete(Target).where(Target.outcome_id == pay.id))
    engine.dispose()

    page = open_page("pages/outcome.py", pi=CURRENT_PI, outcome="PAY-1", as_of=AS_OF)
    overview = open_page("app.py", pi=CURRENT_PI, as_of=AS_OF)

    assert "rolled up from these team outcomes" in texts(page)
    assert "rolled up from 2 contributing team outcomes" in texts(page)
    expanders = [e.label for e in overview.expander]
    assert any("contributing team outcomes · health and progress rolled up" in e for e in expanders)


def test_overview_draws_a_train_outcomes_contributors_only_once_opened(
    open_page: Open,
) -> None:
    overview = open_page("app.py", pi=CURRENT_PI, as_of=AS_OF)
    assert not [label for label, _ in _links(overview) if label.startswith("CHK-1")]

    overview.session_state["overview.contributors.PAY-1"] = True  # the user opens it
    overview.run()

    assert not overview.exception
    opened = [query for label, query in _links(overview) if label.startswith("CHK-1")]
    assert opened and "outcome=CHK-1" in opened[0] and "team=CHK" in opened[0]
