"""Read queries of the update pages: what an edit form opens, the choices it offers, and
the audit log with its filters and before/after differences."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine

from core.access import Actor
from core.changes import MetricChanges, OutcomeChanges
from db import edit_queries, writes
from db.engine import read_session, write_session


@pytest.fixture
def team(engine: Engine, admin: Actor) -> dict[str, int]:
    with write_session(engine) as s:
        chk = writes.create_team(s, actor=admin, name="Checkout", key="CHK")
        pi = writes.create_pi(
            s,
            actor=admin,
            name="PI 1",
            start_date=dt.date(2026, 1, 5),
            end_date=dt.date(2026, 3, 20),
        )
        later = writes.create_pi(
            s,
            actor=admin,
            name="PI 2",
            start_date=dt.date(2026, 3, 23),
            end_date=dt.date(2026, 6, 5),
        )
        metric = writes.create_metric(s, actor=admin, team_id=chk.id, name="Conversion")
        outcome = writes.create_outcome(
            s, actor=admin, pi_id=pi.id, team_id=chk.id, key="CHK-1", title="Raise conversion"
        )
        hypothesis = writes.add_hypothesis(
            s,
            actor=admin,
            outcome_id=outcome.id,
            metric_id=metric.id,
            if_text="we add one-click pay",
            expect_text="more orders",
        )
        return {
            "team": chk.id,
            "pi": pi.id,
            "later": later.id,
            "metric": metric.id,
            "outcome": outcome.id,
            "hypothesis": hypothesis.id,
        }


def test_an_edit_record_carries_its_version(
    engine: Engine, admin: Actor, team: dict[str, int]
) -> None:
    with write_session(engine) as s:
        writes.update_outcome(
            s,
            actor=admin,
            outcome_id=team["outcome"],
            expected_version=1,
            changes=OutcomeChanges(owner="Maya"),
        )

    with read_session(engine) as s:
        (outcome,) = edit_queries.pi_outcomes(s, pi_id=team["pi"], team_id=team["team"])
        version = edit_queries.current_version(s, entity="outcome", record_id=team["outcome"])

    assert (outcome.version, outcome["owner"], version) == (2, "Maya", 2)


def test_open_hypotheses_leave_out_shipped_ones(
    engine: Engine, admin: Actor, team: dict[str, int]
) -> None:
    with read_session(engine) as s:
        before = edit_queries.open_hypotheses(s, team_id=team["team"])
    with write_session(engine) as s:
        writes.create_release(
            s,
            actor=admin,
            team_id=team["team"],
            name="v1",
            date=dt.date(2026, 2, 1),
            hypothesis_ids=[team["hypothesis"]],
        )

    with read_session(engine) as s:
        after = edit_queries.open_hypotheses(s, team_id=team["team"])

    assert [h.label for h in before] == ["CHK-1 (PI 1): if we add one-click pay"]
    assert after == []


def test_later_pis_are_where_work_can_be_copied(engine: Engine, team: dict[str, int]) -> None:
    with read_session(engine) as s:
        assert [p.name for p in edit_queries.later_pis(s, pi_id=team["pi"])] == ["PI 2"]
        assert edit_queries.later_pis(s, pi_id=team["later"]) == []


def test_the_checks_input_holds_the_plan_as_the_rules_read_it(
    engine: Engine, team: dict[str, int]
) -> None:
    with read_session(engine) as s:
        plan = edit_queries.plan_checks_input(s, pi_id=team["pi"], team_id=team["team"])

    (outcome,) = plan.outcomes
    assert (outcome.key, len(outcome.targets), len(outcome.hypotheses)) == ("CHK-1", 0, 1)
    assert set(plan.metrics) == {team["metric"]}
    assert plan.pi_end == dt.date(2026, 3, 20)


@pytest.mark.parametrize(
    ("before", "after", "changed"),
    [
        (None, {"id": 1, "name": "A", "version": 1}, (["id", "name"], {}, {"id": 1, "name": "A"})),
        (
            {"name": "A", "key": "K", "version": 1},
            {"name": "B", "key": "K", "version": 2},
            (["name"], {"name": "A"}, {"name": "B"}),
        ),
        ({"id": 3, "value": 2.0}, None, (["id", "value"], {"id": 3, "value": 2.0}, {})),
        ({"x": 1}, {"x": 1}, ([], {}, {})),
    ],
)
def test_audit_diff_keeps_only_what_changed(
    before: dict | None, after: dict | None, changed: tuple
) -> None:
    assert edit_queries.audit_diff(before, after) == changed


def test_the_audit_log_filters_by_who_what_and_which_record(
    engine: Engine, admin: Actor, team: dict[str, int]
) -> None:
    editor = Actor("edith", "editor", frozenset({team["team"]}))
    with write_session(engine) as s:
        writes.update_metric(
            s,
            actor=editor,
            metric_id=team["metric"],
            expected_version=1,
            changes=MetricChanges(unit="%"),
        )

    with read_session(engine) as s:
        mine = edit_queries.audit_events(s, actors=["edith"])
        creates = edit_queries.audit_events(s, actions=["create"], entities=["metric"])
        today = dt.datetime.now(dt.UTC).date()
        none_yet = edit_queries.audit_events(s, end=today - dt.timedelta(days=1))
        facets = edit_queries.audit_facets(s)

    assert list(mine["summary"]) == ["metric Conversion"]
    assert (json.loads(mine.iloc[0]["before"]), json.loads(mine.iloc[0]["after"])) == (
        {"unit": ""},
        {"unit": "%"},
    )
    assert list(creates["entity"]) == ["metric"]
    assert none_yet.empty
    assert "edith" in facets.actors and "metric" in facets.entities


def test_outcome_history_lists_its_own_records_newest_first_and_no_other_outcome(
    engine: Engine, admin: Actor, team: dict[str, int]
) -> None:
    with write_session(engine) as s:
        other = writes.create_outcome(
            s, actor=admin, pi_id=team["pi"], team_id=team["team"], key="CHK-2", title="Other"
        )
        writes.add_checkin(s, actor=admin, outcome_id=team["outcome"], confidence=4)
        writes.update_outcome(
            s,
            actor=admin,
            outcome_id=team["outcome"],
            expected_version=1,
            changes=OutcomeChanges(owner="Maya"),
        )
        writes.update_outcome(
            s,
            actor=admin,
            outcome_id=other.id,
            expected_version=1,
            changes=OutcomeChanges(owner="X"),
        )

    with read_session(engine) as s:
        history = edit_queries.outcome_history(s, outcome_id=team["outcome"])

    assert list(history.columns) == edit_queries.HISTORY_COLUMNS
    assert list(history["record"]) == ["outcome", "checkin", "hypothesis", "outcome"]
    assert history["action"].iloc[0] == "update"
    assert "owner" in history["fields"].iloc[0].split(", ")
    assert "Other" not in " ".join(history["summary"])
