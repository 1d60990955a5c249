"""The dashboards (overview, team, outcome, review, present) on the demo workspace, through
Streamlit's AppTest: the right content for the URL, clear messages for unknown names, as-of
views, scoring on the review page, and user text never rendered as markdown."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

import db.digest
import db.queries
import db.report
from core.access import Actor
from core.digest import digest_markdown
from core.model import PISnapshot
from db.engine import make_engine, read_session, write_session
from db.migrate import upgrade
from db.models import PI, AuditEvent, Hypothesis, Outcome, Team
from db.writes import score_outcome
from tests.conftest import DEMO_TODAY
from ui import reads, state
from ui.digest import digest_document
from ui.present import present_interval
from ui.text import WORD_JOINER as WJ
from ui.text import escape_markdown, safe_url

ROOT = Path(__file__).resolve().parents[2]
AS_OF = DEMO_TODAY.isoformat()
CURRENT_PI = "PI 26.4"  # the demo's PI running on DEMO_TODAY
PAST_PI = "PI 26.3"
TEAMS = ["Checkout", "Insights", "Risk", "Settlements", "Wallet"]
HEALTH_WORDS = ["On track", "At risk", "Achieved", "Off track", "Missed", "Stale"]


@pytest.fixture
def database(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    path = tmp_path / "outcomes.db"
    shutil.copy(demo_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", url)
    monkeypatch.setenv("OUTCOMES_DEMO", "false")
    monkeypatch.setenv("OUTCOMES_PUBLIC_READ", "true")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield url
    st.cache_data.clear()
    st.cache_resource.clear()


Open = Callable[..., AppTest]


@pytest.fixture
def open_page(database: str) -> Open:
    """Run a page with query parameters (and a signed-in actor when given)."""

    def run(page: str, actor: Actor | None = None, **params: str) -> AppTest:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
        if page != "app.py":
            at.switch_page(page)
        if actor is not None:
            at.session_state[state.ACTOR] = actor
        for name, value in params.items():
            at.query_params[name] = value
        at.run()
        assert not at.exception
        return at

    return run


def plain(text: object) -> str:
    """Rendered text as a reader sees it: markdown escapes removed."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", str(text)).replace(WJ, "")


def title(at: AppTest) -> str:
    return plain(at.title[0].value)


def raw_texts(at: AppTest) -> str:
    """Every markdown, caption, title, header and warning text of a run, as sent."""
    parts = [e.value for e in at.markdown]
    parts += [e.value for e in at.caption]
    parts += [e.value for e in at.title]
    parts += [e.value for e in at.header]
    parts += [e.value for e in at.subheader]
    parts += [e.value for e in at.warning]
    parts += [e.value for e in at.info]
    return "\n".join(str(p) for p in parts)


def texts(at: AppTest) -> str:
    return plain(raw_texts(at))


def _outcome(session: Session, pi_name: str, key: str) -> Outcome:
    return session.scalars(
        select(Outcome)
        .join(PI, Outcome.pi_id == PI.id)
        .where(PI.name == pi_name, Outcome.key == key)
    ).one()


def warnings(at: AppTest) -> str:
    return plain("\n".join(str(w.value) for w in at.warning))


# ---------------------------------------------------------------- overview


def test_overview_opens_without_parameters(open_page: Open) -> None:
    at = open_page("app.py")
    assert at.title and title(at).endswith("overview")
    assert at.selectbox(key="filter.pi").value is not None


def test_overview_shows_the_current_pi_as_of_a_date(open_page: Open) -> None:
    at = open_page("app.py", as_of=AS_OF)
    assert title(at) == f"{CURRENT_PI} overview"
    assert at.selectbox(key="filter.pi").value == CURRENT_PI
    assert at.selectbox(key="filter.train").value == "Payments"
    body = texts(at)
    for word in ("On track", "At risk", "Achieved", "Supported", "Refuted"):
        assert word in body
    assert [m.label for m in at.metric][:4] == [
        "Outcomes",
        "Predictability",
        "Metrics on time",
        "Hypotheses",
    ]


def test_overview_links_every_team_to_its_page_with_the_filters(open_page: Open) -> None:
    at = open_page("app.py", as_of=AS_OF)
    links = [link for link in at.get("page_link") if link.proto.page == "team"]
    labels = [plain(link.proto.label) for link in links]
    assert [name for name in TEAMS if name in labels] == TEAMS
    checkout = next(link for link in links if link.proto.label == "Checkout")
    assert "team=CHK" in checkout.proto.query_string
    assert "as_of=" + AS_OF in checkout.proto.query_string


def test_overview_as_of_in_an_earlier_pi_defaults_to_that_pi(open_page: Open) -> None:
    at = open_page("app.py", as_of="2026-08-01")
    assert title(at) == f"{PAST_PI} overview"


def test_overview_unknown_pi_says_so_and_shows_the_default(open_page: Open) -> None:
    at = open_page("app.py", pi="PI 99.9", as_of=AS_OF)
    assert "There is no PI “PI 99.9”" in warnings(at)
    assert title(at) == f"{CURRENT_PI} overview"


def test_overview_unknown_train_says_so(open_page: Open) -> None:
    at = open_page("app.py", train="Nowhere", as_of=AS_OF)
    assert "There is no train “Nowhere”" in warnings(at)


def test_overview_bad_as_of_says_so(open_page: Open) -> None:
    at = open_page("app.py", as_of="yesterday")
    assert "is not a date" in warnings(at)


def test_overview_writes_its_filters_to_the_url(open_page: Open) -> None:
    at = open_page("app.py", as_of=AS_OF)
    assert at.query_params["pi"] == CURRENT_PI
    assert at.query_params["train"] == "Payments"
    at.selectbox(key="filter.pi").select(PAST_PI).run()
    assert not at.exception
    assert at.query_params["pi"] == PAST_PI
    assert title(at) == f"{PAST_PI} overview"


# ---------------------------------------------------------------- team


def test_team_page_shows_the_team_name_as_heading_and_its_outcomes(open_page: Open) -> None:
    at = open_page("pages/team.py", team="CHK", pi=CURRENT_PI, as_of=AS_OF)
    assert title(at) == "Checkout"
    body = texts(at)
    assert "CHK-1" in body and "Raise checkout conversion" in body
    assert "Achieved" in body and "At risk" in body
    assert "Why this health" in body
    assert "Confidence 9/10" in body
    outcome_links = [plain(link.proto.label) for link in at.get("page_link")]
    assert {"Open CHK-1", "Open CHK-2", "Open CHK-3"} <= set(outcome_links)


def test_team_page_draws_progress_and_sparklines(open_page: Open) -> None:
    at = open_page("pages/team.py", team="CHK", pi=CURRENT_PI, as_of=AS_OF)
    charts = at.get("vega_lite_chart")
    # A progress chart per outcome and a sparkline per target (CHK: 3 outcomes, 4 targets).
    assert len(charts) == 3 + 4


def test_team_page_builds_the_digest_only_when_downloaded(
    open_page: Open, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It read the team's PI twice (now and a week before) on every run.
    builds: list[str | None] = []
    scope = db.digest.digest_scope

    def counted(session: Session, **kwargs: Any) -> Any:
        builds.append(kwargs.get("team_key"))
        return scope(session, **kwargs)

    monkeypatch.setattr(db.digest, "digest_scope", counted)
    at = open_page("pages/team.py", team="CHK", pi=CURRENT_PI, as_of=AS_OF)

    assert "Download this week's digest (Markdown)" in [d.label for d in at.download_button]
    assert builds == []
    engine = make_engine(database)
    text = digest_document(engine, "CHK", DEMO_TODAY)
    with read_session(engine) as session:
        expected = digest_markdown(
            db.digest.build_digest(session, team_key="CHK", today=DEMO_TODAY)
        )
    engine.dispose()
    assert builds == ["CHK", "CHK"]
    assert text == expected
    assert "Checkout" in text


def test_team_page_without_parameters_shows_a_team(open_page: Open) -> None:
    at = open_page("pages/team.py")
    assert title(at) in TEAMS


def test_team_page_unknown_team_says_so(open_page: Open) -> None:
    at = open_page("pages/team.py", team="NOPE", as_of=AS_OF)
    assert "There is no team “NOPE”" in warnings(at)
    assert title(at) in TEAMS


def test_team_page_unknown_pi_says_so(open_page: Open) -> None:
    at = open_page("pages/team.py", team="WAL", pi="PI 0", as_of=AS_OF)
    assert "There is no PI “PI 0”" in warnings(at)
    assert title(at) == "Wallet"


def test_team_page_shows_quality_checks_with_the_rewrite_hint(open_page: Open) -> None:
    at = open_page("pages/team.py", team="INS", pi=CURRENT_PI, as_of=AS_OF)
    body = texts(at)
    assert "reads like a task" in body
    assert "try:" in body


def test_team_page_as_of_before_a_reading_changes_the_view(open_page: Open) -> None:
    now = texts(open_page("pages/team.py", team="CHK", pi=CURRENT_PI, as_of=AS_OF))
    early = texts(open_page("pages/team.py", team="CHK", pi=CURRENT_PI, as_of="2026-09-20"))
    assert "as of 2 Nov 2026" in now
    assert "as of 20 Sep 2026" in early
    assert early != now


# ---------------------------------------------------------------- outcome


def test_outcome_page_draws_one_chart_per_target(open_page: Open) -> None:
    at = open_page("pages/outcome.py", pi=CURRENT_PI, outcome="CHK-2", as_of=AS_OF)
    assert plain(at.title[0].value).startswith("CHK-2 · ")
    assert len(at.get("vega_lite_chart")) == 2
    body = texts(at)
    assert "If" in body and "we expect" in body
    assert "Measuring" in body
    assert at.query_params["team"] == "CHK"


def test_outcome_page_shows_evidence_and_check_ins(open_page: Open) -> None:
    at = open_page("pages/outcome.py", pi=CURRENT_PI, outcome="CHK-1", as_of=AS_OF)
    labels = [m.label for m in at.metric]
    assert any(label.startswith("Before") for label in labels)
    assert "p-value" in labels
    assert "Supported" in texts(at)
    assert len(at.dataframe) >= 1  # the check-ins


def test_outcome_page_without_parameters_shows_an_outcome(open_page: Open) -> None:
    at = open_page("pages/outcome.py")
    assert at.title and "·" in at.title[0].value  # the one h1 (issue 14)


def test_outcome_page_unknown_outcome_says_so(open_page: Open) -> None:
    at = open_page("pages/outcome.py", pi=CURRENT_PI, outcome="ZZZ-9", as_of=AS_OF)
    assert "There is no outcome “ZZZ-9”" in warnings(at)


def test_outcome_page_team_parameter_picks_that_teams_first_outcome(open_page: Open) -> None:
    at = open_page("pages/outcome.py", pi=CURRENT_PI, team="WAL", as_of=AS_OF)
    assert at.query_params["outcome"] == "WAL-1"


def test_outcome_page_offers_check_in_only_to_editors_of_the_team(open_page: Open) -> None:
    visitor = open_page("pages/outcome.py", pi=CURRENT_PI, outcome="CHK-1", as_of=AS_OF)
    assert not [b for b in visitor.button if b.label == "Check in"]
    with read_session(make_engine()) as session:
        team_id = session.scalar(select(Team.id).where(Team.key == "CHK"))
    editor = Actor(username="ed", role="editor", team_ids=frozenset({team_id}))
    at = open_page("pages/outcome.py", actor=editor, pi=CURRENT_PI, outcome="CHK-1", as_of=AS_OF)
    assert [b for b in at.button if b.label == "Check in"]


def test_outcome_page_lists_history_from_the_audit_log(open_page: Open, database: str) -> None:
    engine = make_engine(database)
    with write_session(engine) as session:
        outcome = _outcome(session, CURRENT_PI, "CHK-1")
        score_outcome(
            session,
            actor=Actor(username="olga", role="admin"),
            outcome_id=outcome.id,
            actual_bv=8,
            expected_version=outcome.version,
        )
    engine.dispose()
    at = open_page("pages/outcome.py", pi=CURRENT_PI, outcome="CHK-1", as_of=AS_OF)
    history = at.dataframe[-1].value
    assert "olga" in list(history["actor"])


# ---------------------------------------------------------------- review


def test_review_of_an_ended_pi_shows_predictability(open_page: Open) -> None:
    at = open_page("pages/review.py", pi=PAST_PI, as_of=AS_OF)
    assert title(at) == f"{PAST_PI} review"
    values = {m.label: m.value for m in at.metric}
    assert values["Predictability (pooled)"].endswith("%")
    assert values["Mean of teams"].endswith("%")
    assert at.get("vega_lite_chart")
    assert [d.label for d in at.download_button] == ["Markdown", "JSON"]


def test_review_reads_its_pi_once_and_offers_the_report_of_that_view(
    open_page: Open, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The downloads are shaped from the view the page shows when someone clicks; they
    # once loaded and evaluated the PI twice more on every run (bench/RESULTS.md).
    loads: list[str] = []

    def counted(load: Callable[..., PISnapshot]) -> Callable[..., PISnapshot]:
        def load_counted(session: Session, **kwargs: Any) -> PISnapshot:
            loads.append(kwargs["pi_name"])
            return load(session, **kwargs)

        return load_counted

    monkeypatch.setattr(db.queries, "load_pi_snapshot", counted(db.queries.load_pi_snapshot))
    monkeypatch.setattr(db.report, "load_pi_snapshot", counted(db.report.load_pi_snapshot))
    at = open_page("pages/review.py", pi=PAST_PI, as_of=AS_OF)

    assert loads.count(PAST_PI) == 1
    assert [d.label for d in at.download_button] == ["Markdown", "JSON"]
    monkeypatch.undo()
    engine = make_engine(database)
    with read_session(engine) as session:
        view = reads.pi_view.__wrapped__(session, pi_name=PAST_PI, as_of=DEMO_TODAY)
        markdown = db.report.report_markdown_text(session, pi_name=PAST_PI, as_of=DEMO_TODAY)
        document = db.report.report_json(session, pi_name=PAST_PI, as_of=DEMO_TODAY)
    engine.dispose()
    assert reads.report_markdown_document(view) == markdown
    assert json.loads(reads.report_json_document(view)) == document


def test_review_lists_every_hypothesis_in_inspect_and_adapt_waiting_ones_first(
    open_page: Open, database: str
) -> None:
    at = open_page("pages/review.py", pi=CURRENT_PI, as_of=AS_OF)

    assert "Inspect & Adapt" in [h.value for h in at.header]
    waiting = next(w.value for w in at.warning if "Window closed, no decision yet" in w.value)
    tables = [d.value for d in at.dataframe if "learning" in d.value.columns]
    engine = make_engine(database)
    with read_session(engine) as session:
        stored = session.scalar(
            select(func.count())
            .select_from(Hypothesis)
            .join(Outcome)
            .join(PI)
            .where(PI.name == CURRENT_PI, Hypothesis.archived.is_(False))
            .where(Outcome.status != "archived")
        )
    engine.dispose()
    assert sum(len(t) for t in tables) == stored
    first = tables[0]
    assert (first["decision"] == "").all()  # the waiting group comes first
    assert f"{len(first)} hypothes" in waiting
    assert set(tables[1]["decision"]) == {"Persevere"}


def test_review_of_the_running_pi_says_partial_and_not_yet_scored(open_page: Open) -> None:
    at = open_page("pages/review.py", as_of=AS_OF)
    assert title(at) == f"{CURRENT_PI} review"
    tile = [m for m in at.metric if m.label == "Predictability (pooled)"]
    assert tile and tile[0].value == "Partial"
    assert re.search(r"\d+ of \d+ scored \(\d+ not yet scored\)", texts(at))


def test_review_offers_scoring_to_admins_only(open_page: Open) -> None:
    visitor = open_page("pages/review.py", pi=CURRENT_PI, as_of=AS_OF)
    assert not [b for b in visitor.button if b.label == "Save scores"]
    admin = open_page("pages/review.py", actor=Actor.system("boss"), pi=CURRENT_PI, as_of=AS_OF)
    assert [b for b in admin.button if b.label == "Save scores"]


def _score_input(at: AppTest, key: str) -> object:
    return next(n for n in at.number_input if n.label.startswith(escape_markdown(key)))


def test_review_scoring_saves_the_score_with_an_audit_event(open_page: Open, database: str) -> None:
    at = open_page("pages/review.py", actor=Actor.system("boss"), pi=CURRENT_PI, as_of=AS_OF)
    _score_input(at, "CHK-1").set_value(9)  # type: ignore[attr-defined]
    next(b for b in at.button if b.label == "Save scores").click().run()
    assert not at.exception
    assert "Saved 1 business value score" in "\n".join(str(s.value) for s in at.success)
    engine = make_engine(database)
    with read_session(engine) as session:
        outcome = _outcome(session, CURRENT_PI, "CHK-1")
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.entity == "outcome", AuditEvent.actor == "boss")
        ).all()
    engine.dispose()
    assert outcome.actual_bv == 9
    assert len(events) == 1


def test_review_scoring_a_changed_outcome_reports_the_conflict(
    open_page: Open, database: str
) -> None:
    at = open_page("pages/review.py", actor=Actor.system("boss"), pi=CURRENT_PI, as_of=AS_OF)
    engine = make_engine(database)
    with write_session(engine) as session:  # someone else scores it meanwhile
        outcome = _outcome(session, CURRENT_PI, "CHK-1")
        score_outcome(
            session,
            actor=Actor(username="olga", role="admin"),
            outcome_id=outcome.id,
            actual_bv=4,
            expected_version=outcome.version,
        )
    _score_input(at, "CHK-1").set_value(9)  # type: ignore[attr-defined]
    next(b for b in at.button if b.label == "Save scores").click().run()
    assert not at.exception
    assert "changed by olga" in warnings(at)
    with read_session(engine) as session:
        stored = _outcome(session, CURRENT_PI, "CHK-1")
    engine.dispose()
    assert stored.actual_bv == 4


def test_review_draws_one_value_table_with_the_team_as_a_column(open_page: Open) -> None:
    at = open_page("pages/review.py", pi=PAST_PI, as_of=AS_OF)
    tables = [d.value for d in at.dataframe if "planned_bv" in d.value.columns]
    assert len(tables) == 1  # one grouped table, not one per team (issue 16)
    table = tables[0]
    assert "Checkout" not in [h.value for h in at.subheader]  # no per-team blocks left
    assert {"CHK-1"} <= set(table["key"])
    assert table.loc[table["key"] == "CHK-1", "team"].iloc[0] == "Checkout"
    assert table["team_predictability"].str.len().min() > 0


def test_review_scores_the_team_the_admin_picks(open_page: Open, database: str) -> None:
    at = open_page("pages/review.py", actor=Actor.system("boss"), pi=CURRENT_PI, as_of=AS_OF)
    assert len([b for b in at.button if b.label == "Save scores"]) == 1
    picker = next(s for s in at.selectbox if s.label == "Team to score")
    other = next(o for o in picker.options if o != picker.value)
    picker.set_value(other).run()
    assert not at.exception
    labels = [n.label for n in at.number_input]
    assert labels and not any(label.startswith("CHK-") for label in labels)


def test_review_unknown_pi_says_so(open_page: Open) -> None:
    at = open_page("pages/review.py", pi="PI 1.0", as_of=AS_OF)
    assert "There is no PI “PI 1.0”" in warnings(at)


# ---------------------------------------------------------------- present


def test_present_starts_with_the_first_team_as_heading(open_page: Open) -> None:
    at = open_page("pages/present.py", pi=CURRENT_PI, as_of=AS_OF)
    assert title(at) == TEAMS[0]
    assert f"Slide 1 of {len(TEAMS) + 2}" in texts(at)  # the teams, the train, I&A


def test_present_buttons_step_through_teams_then_the_train(open_page: Open) -> None:
    at = open_page("pages/present.py", pi=CURRENT_PI, as_of=AS_OF)
    next_button = next(b for b in at.button if b.label == "Next")
    next_button.click().run()
    assert title(at) == TEAMS[1]
    next(b for b in at.button if b.label == "Previous").click().run()
    next(b for b in at.button if b.label == "Previous").click().run()
    assert title(at) == "Inspect & Adapt"  # the last slide
    assert "Window closed, no decision yet" in texts(at)
    next(b for b in at.button if b.label == "Previous").click().run()
    assert title(at) == "Payments train"
    assert "Predictability" in texts(at)


def test_present_has_no_editing_controls(open_page: Open) -> None:
    at = open_page("pages/present.py", pi=CURRENT_PI, as_of=AS_OF)
    main = at.main  # the sidebar keeps its sign-in form for the navigation
    assert not main.text_input and not main.number_input and not main.text_area
    assert not main.get("form")
    assert {b.label for b in main.button} == {"Previous", "Pause", "Next"}


def test_present_interval_below_three_seconds_is_raised(open_page: Open) -> None:
    at = open_page("pages/present.py", pi=CURRENT_PI, as_of=AS_OF, interval="1")
    assert "every 3 s" in texts(at)


def test_present_unknown_pi_says_so(open_page: Open) -> None:
    at = open_page("pages/present.py", pi="PI 7", as_of=AS_OF)
    assert "There is no PI “PI 7”" in warnings(at)
    assert title(at) == TEAMS[0]


# ---------------------------------------------------------------- user text stays text


def test_user_text_is_never_rendered_as_markdown(open_page: Open, database: str) -> None:
    title = "[win](javascript:alert(1)) **now** :red[x] $x$ <b>hi</b>"
    engine = make_engine(database)
    with write_session(engine) as session:
        _outcome(session, CURRENT_PI, "CHK-1").title = title
        session.scalars(select(Team).where(Team.key == "CHK")).one().name = "*Check* [out](x)"
    engine.dispose()
    team = open_page("pages/team.py", team="CHK", pi=CURRENT_PI, as_of=AS_OF)
    outcome = open_page("pages/outcome.py", pi=CURRENT_PI, outcome="CHK-1", as_of=AS_OF)
    assert team.title[0].value == escape_markdown("*Check* [out](x)")
    for at in (team, outcome):
        body = raw_texts(at)
        assert "](javascript" not in body
        assert "**now**" not in body
        assert escape_markdown(title) in body


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain words", "plain words"),
        ("[a](http://x.y)", r"\[a\]\(http" + WJ + r"\:\/\/x\.y\)"),
        ("see www.x.y or me@x.y", r"see www" + WJ + r"\.x\.y or me\@" + WJ + r"x\.y"),
        ("**bold** _it_", r"\*\*bold\*\* \_it\_"),
        (":red[alarm] :material/home:", r"\:red\[alarm\] \:material\/home\:"),
        ("$5 and $6", r"\$5 and \$6"),
        ("# heading\n- item", r"\# heading \- item"),
        ("<script>x</script>", r"\<script\>x\<\/script\>"),
        (None, ""),
    ],
)
def test_escape_markdown_escapes_everything_markdown_acts_on(text: str | None, shown: str) -> None:
    assert escape_markdown(text) == shown


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://example.com/a?b=1", "https://example.com/a?b=1"),
        ("http://example.com", "http://example.com"),
        ("javascript:alert(1)", None),
        ("data:text/html,hi", None),
        ("//example.com", None),
        ("", None),
        (None, None),
    ],
)
def test_only_http_links_are_links(url: str | None, safe: str | None) -> None:
    assert safe_url(url) == safe


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        (None, 15),
        ("", 15),
        ("20", 20),
        ("3", 3),
        ("2", 3),
        ("0", 3),
        ("-5", 3),
        ("7.9", 7),
        ("x", 15),
    ],
)
def test_present_interval_defaults_to_15_and_is_at_least_3(raw: str | None, seconds: int) -> None:
    assert present_interval(raw) == seconds


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("app.py", "There is no PI yet"),
        ("pages/team.py", "There are no teams yet"),
        ("pages/outcome.py", "There is no PI yet"),
        ("pages/review.py", "There is no PI yet"),
        ("pages/present.py", "There is no PI to present yet"),
    ],
)
def test_an_empty_workspace_gets_a_clear_message(
    path: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "empty.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("OUTCOMES_DEMO", "false")
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    if path != "app.py":
        at.switch_page(path)
    at.run()
    assert not at.exception
    assert message in texts(at)
    st.cache_data.clear()
    st.cache_resource.clear()
