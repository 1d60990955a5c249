"""Plan page: outcomes, targets and hypotheses created and edited with the quality checks
beside the form; stale versions refused with the input kept; copying into the next PI."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from core.access import Actor
from core.changes import HypothesisChanges, OutcomeChanges, TargetChanges
from db import writes
from db.engine import write_session
from db.models import Hypothesis, Outcome, Target
from tests.pages.update_workspace import (
    ADMIN,
    TODAY,
    Workspace,
    button,
    by_label,
    page,
    texts,
    unescape,
)
from ui import state


def plan(ws: Workspace, actor: Actor | None = None, **params: str) -> AppTest:
    defaults = {"pi": "PI now", "team": "CHK", "outcome": "CHK-1"}
    at = page("pages/plan.py", actor or ws.editor, **(defaults | params))
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> str:
    return unescape("\n".join(e.value for e in at.error))


def field(widgets: object, form: str, name: str, generation: int = 0) -> object:
    return widgets(key=f"{form}#{generation}.{name}")  # type: ignore[operator]


# ---------------------------------------------------------------- scope


def test_an_editor_plans_only_their_teams(ws: Workspace) -> None:
    at = plan(ws, team="SRC")

    assert "You may not plan for team SRC" in texts(at)
    assert by_label(at.selectbox, "Team").options == ["Checkout"]


def test_an_admin_can_plan_train_level_outcomes(ws: Workspace) -> None:
    at = plan(ws, ADMIN, team="train", outcome="TR-1")

    assert "Train-level outcomes" in by_label(at.selectbox, "Team").options
    assert by_label(at.text_input, "Title").value == "Grow online revenue"


# ---------------------------------------------------------------- outcomes


def test_creating_an_outcome_lands_with_its_audit_and_opens_it(ws: Workspace) -> None:
    at = plan(ws, outcome="_new")
    assert by_label(at.text_input, "Key").value == "CHK-2"
    by_label(at.text_input, "Title").set_value("Fewer failed payments")
    by_label(at.number_input, "Planned business value").set_value(5)
    by_label(at.selectbox, "Parent train outcome").set_value(ws.train_outcome)

    button(at, "Create outcome").click().run()

    assert not at.exception
    assert "Created outcome CHK-2" in unescape(texts(at))
    assert at.query_params["outcome"] == "CHK-2"
    assert by_label(at.text_input, "Title").value == "Fewer failed payments"
    created = ws.audit("outcome", "create")[-1]
    assert created.summary == "outcome CHK-2"
    assert ws.count(Outcome, Outcome.key == "CHK-2", Outcome.parent_id == ws.train_outcome) == 1


@pytest.mark.parametrize(
    ("key", "title", "message"),
    [
        ("CHK-2", "", "**Title**: is required"),
        ("", "Fewer failed payments", "**Key**: is required"),
        ("CHK 2!", "Fewer failed payments", "**Key**: use letters, digits"),
        ("CHK-1", "Fewer failed payments", "**Key**: CHK-1 is already used in this PI"),
    ],
)
def test_an_invalid_outcome_field_is_named_and_nothing_is_written(
    ws: Workspace, key: str, title: str, message: str
) -> None:
    at = plan(ws, outcome="_new")
    by_label(at.text_input, "Key").set_value(key)
    by_label(at.text_input, "Title").set_value(title)

    button(at, "Create outcome").click().run()

    assert message in errors(at)
    assert ws.count(Outcome) == 2
    assert by_label(at.text_input, "Key").value == key  # the input is kept


def test_a_stale_outcome_is_refused_with_what_changed_and_the_input_kept(ws: Workspace) -> None:
    at = plan(ws)
    by_label(at.text_input, "Title").set_value("Raise conversion for returning buyers")
    with write_session(ws.engine) as session:  # someone else saves first
        writes.update_outcome(
            session,
            actor=ADMIN,
            outcome_id=ws.outcome,
            expected_version=1,
            changes=OutcomeChanges(owner="Maya"),
        )

    button(at, "Save outcome").click().run()

    warning = unescape(at.warning[0].value)
    assert "changed by test-admin" in warning and "Your input is kept" in warning
    changes = next(t.value for t in at.dataframe if "now" in t.value.columns)
    assert changes.iloc[0].to_dict() == {"field": "Owner", "when you opened it": "", "now": "Maya"}
    assert by_label(at.text_input, "Title").value == "Raise conversion for returning buyers"
    assert ws.get(Outcome, ws.outcome).title == "Raise checkout conversion"

    button(at, "Save outcome").click().run()  # saving again, having seen it, goes through

    stored = ws.get(Outcome, ws.outcome)
    assert (stored.title, stored.owner) == ("Raise conversion for returning buyers", "Maya")


def test_renaming_an_outcome_key_keeps_it_open(ws: Workspace) -> None:
    at = plan(ws)
    by_label(at.text_input, "Key").set_value("CHK-9")

    button(at, "Save outcome").click().run()

    assert at.query_params["outcome"] == "CHK-9"
    assert by_label(at.text_input, "Key").value == "CHK-9"
    assert "Saved outcome CHK-9" in unescape(texts(at))
    before, after = (
        ws.audit("outcome", "update")[-1].before,
        ws.audit("outcome", "update")[-1].after,
    )
    assert '"key": "CHK-1"' in before and '"key": "CHK-9"' in after


def test_discarding_after_a_conflict_loads_the_stored_values(ws: Workspace) -> None:
    at = plan(ws)
    by_label(at.text_input, "Title").set_value("Mine")
    with write_session(ws.engine) as session:
        writes.update_outcome(
            session,
            actor=ADMIN,
            outcome_id=ws.outcome,
            expected_version=1,
            changes=OutcomeChanges(title="Theirs"),
        )
    button(at, "Save outcome").click().run()

    button(at, "Discard my changes").click().run()

    assert by_label(at.text_input, "Title").value == "Theirs"
    assert not at.warning


def test_the_same_outcome_submission_twice_writes_once(ws: Workspace) -> None:
    form = f"plan.outcome.new.{ws.pi}.CHK"
    at = plan(ws, outcome="_new")
    at.session_state[state.SUBMISSIONS] = {form: "outcome-click-1"}
    by_label(at.text_input, "Title").set_value("Fewer failed payments")
    button(at, "Create outcome").click().run()

    at.query_params["outcome"] = "_new"
    at.run()
    at.session_state[state.SUBMISSIONS] = {form: "outcome-click-1"}
    by_label(at.text_input, "Key").set_value("CHK-3")
    by_label(at.text_input, "Title").set_value("Fewer failed payments")
    button(at, "Create outcome").click().run()

    assert "Already saved" in unescape(texts(at))
    assert ws.count(Outcome) == 3


def test_a_task_title_gets_live_advice_with_a_rewrite(ws: Workspace) -> None:
    at = plan(ws)

    by_label(at.text_input, "Title").set_value("Build one-click pay").run()

    advice = unescape(texts(at))
    assert "reads like a task" in advice
    rewrite = "Increase Checkout conversion from 2.1% to 2.6% by"
    assert any(t.value.startswith(rewrite) for t in at.text)
    assert ws.get(Outcome, ws.outcome).title == "Raise checkout conversion"  # advice only

    button(at, "Use this title").click().run()

    assert by_label(at.text_input, "Title").value.startswith(rewrite)


def test_a_new_outcome_is_told_what_it_lacks(ws: Workspace) -> None:
    at = plan(ws, outcome="_new")

    advice = unescape(texts(at))
    assert "no target" in advice and "no hypothesis" in advice
    assert "committed without planned business value" in advice


def test_archiving_an_outcome_keeps_it_restorable(ws: Workspace) -> None:
    at = plan(ws)

    button(at, "Archive this outcome").click().run()

    assert ws.get(Outcome, ws.outcome).status == "archived"
    button(at, "Restore this outcome").click().run()
    assert ws.get(Outcome, ws.outcome).status == "draft"


# ---------------------------------------------------------------- targets


def test_adding_a_target_lands_with_its_audit(ws: Workspace) -> None:
    form = f"plan.target.new.{ws.outcome}"
    at = plan(ws)
    field(at.selectbox, form, "metric_id").set_value(ws.latency)
    field(at.number_input, form, "baseline").set_value(2.4)
    field(at.date_input, form, "baseline_date").set_value(TODAY - dt.timedelta(days=20))
    field(at.number_input, form, "target").set_value(1.6)

    button(at, "Add target").click().run()

    assert not at.exception
    assert "Added the target" in unescape(texts(at))
    assert ws.count(Target, Target.metric_id == ws.latency, Target.kind == "decrease") == 1
    assert len(ws.audit("target", "create")) == 2


@pytest.mark.parametrize(
    ("kind", "baseline", "target", "message"),
    [
        ("decrease", 2.4, 2.4, "**Target value**: must differ from the baseline"),
        ("maintain", None, None, "**Band low**: is required for a maintain target"),
        ("increase", 2.4, 1.6, "**Kind**: is increase but the target is below the baseline"),
        ("", None, None, "**Kind**: is required when baseline or target is unknown"),
    ],
)
def test_an_invalid_target_field_is_named_and_nothing_is_written(
    ws: Workspace, kind: str, baseline: float | None, target: float | None, message: str
) -> None:
    form = f"plan.target.new.{ws.outcome}"
    at = plan(ws)
    field(at.selectbox, form, "metric_id").set_value(ws.latency)
    field(at.selectbox, form, "kind").set_value(kind)
    field(at.number_input, form, "baseline").set_value(baseline)
    field(at.number_input, form, "target").set_value(target)

    button(at, "Add target").click().run()

    assert message in errors(at)
    assert ws.count(Target) == 1


def test_a_stale_target_is_refused_with_the_input_kept(ws: Workspace) -> None:
    form = f"plan.target.{ws.target}"
    at = plan(ws)
    field(at.number_input, form, "target").set_value(2.8)
    with write_session(ws.engine) as session:
        writes.update_target(
            session,
            actor=ADMIN,
            target_id=ws.target,
            expected_version=1,
            changes=TargetChanges(baseline=2.0),
        )

    button(at, "Save target").click().run()

    assert "changed by test-admin" in unescape(at.warning[0].value)
    assert field(at.number_input, form, "target").value == 2.8
    assert ws.get(Target, ws.target).target == 2.6


# ---------------------------------------------------------------- hypotheses


def test_adding_a_hypothesis_lands_with_its_audit(ws: Workspace) -> None:
    form = f"plan.hypothesis.new.{ws.outcome}"
    at = plan(ws)
    field(at.text_input, form, "if_text").set_value("we cache the payment page")
    field(at.text_input, form, "expect_text").set_value("faster payment pages")
    field(at.selectbox, form, "metric_id").set_value(ws.latency)
    field(at.selectbox, form, "direction").set_value("decrease")
    field(at.number_input, form, "min_effect").set_value(10.0)
    field(at.selectbox, form, "min_effect_unit").set_value("percent")

    button(at, "Add hypothesis").click().run()

    assert not at.exception
    stored = ws.count(
        Hypothesis, Hypothesis.if_text == "we cache the payment page", Hypothesis.min_effect == 10
    )
    assert stored == 1
    assert len(ws.audit("hypothesis", "create")) == 2


def test_a_hypothesis_without_if_or_expect_names_both_and_writes_nothing(ws: Workspace) -> None:
    at = plan(ws)

    button(at, "Add hypothesis").click().run()

    assert "**If we build**: is required" in errors(at)
    assert "**We expect**: is required" in errors(at)
    assert ws.count(Hypothesis) == 1


def test_a_stale_hypothesis_is_refused_with_the_input_kept(ws: Workspace) -> None:
    form = f"plan.hypothesis.{ws.hypothesis}"
    at = plan(ws)
    field(at.text_input, form, "because_text").set_value("buyers told us so")
    with write_session(ws.engine) as session:
        writes.update_hypothesis(
            session,
            actor=ADMIN,
            hypothesis_id=ws.hypothesis,
            expected_version=1,
            changes=HypothesisChanges(window_days=14),
        )

    button(at, "Save hypothesis").click().run()

    assert "changed by test-admin" in unescape(at.warning[0].value)
    assert field(at.text_input, form, "because_text").value == "buyers told us so"


# ---------------------------------------------------------------- copy


def test_copying_takes_unfinished_outcomes_and_open_hypotheses_to_the_next_pi(
    ws: Workspace,
) -> None:
    at = plan(ws)

    button(at, "Copy unfinished outcomes and open hypotheses to PI next").click().run()

    assert "Copied 1 outcome into PI next. CHK-1 copied with 1 open hypothesis." in unescape(
        texts(at)
    )
    assert ws.count(Outcome, Outcome.pi_id == ws.next_pi, Outcome.status == "draft") == 1
    copied = plan(ws, pi="PI next")
    assert by_label(copied.text_input, "Title").value == "Raise checkout conversion"
    assert ws.count(Hypothesis) == 2 and ws.count(Target) == 2


def test_copying_takes_the_next_free_key_and_then_skips_what_is_already_there(
    ws: Workspace,
) -> None:
    with write_session(ws.engine) as session:
        writes.update_outcome(
            session,
            actor=ADMIN,
            outcome_id=ws.outcome,
            expected_version=None,
            changes=OutcomeChanges(title="Raise checkout conversion to 3% by 1 Jan"),
        )
        writes.create_outcome(
            session, actor=ADMIN, pi_id=ws.next_pi, team_id=ws.chk, key="CHK-1", title="Other"
        )
    copy = "Copy unfinished outcomes and open hypotheses to PI next"
    at = plan(ws)

    button(at, copy).click().run()

    said = unescape(texts(at))
    assert "CHK-1 copied as CHK-2 (CHK-1 is already used in PI next)" in said
    assert "Its title names a date (“1 Jan”) but its targets now run to the end of PI next" in said
    assert ws.count(Outcome, Outcome.pi_id == ws.next_pi, Outcome.key == "CHK-2") == 1

    at = plan(ws)
    button(at, copy).click().run()

    assert "CHK-1 skipped: already in PI next as CHK-2 (same title)." in unescape(texts(at))
    assert ws.count(Outcome, Outcome.pi_id == ws.next_pi) == 2
