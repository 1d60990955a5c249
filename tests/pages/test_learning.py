"""The learning log on the outcome page: learning, decision and an override written by
the team's editors (validated, audited, versioned, once per submission), read-only for
everyone else."""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core.access import Actor
from core.changes import HypothesisChanges
from db import writes
from db.engine import write_session
from db.models import AuditEvent, Hypothesis
from tests.pages.update_workspace import (
    ADMIN,
    Workspace,
    audit_json,
    button,
    page,
    texts,
    unescape,
)
from ui import state


def learning_app(hypothesis_id: int, team_id: int | None) -> None:
    import streamlit as st

    from ui import state
    from ui.data import get_engine
    from ui.frame import PAGES, Frame
    from ui.learning import learning_form

    actor = st.session_state[state.ACTOR]
    frame = Frame(get_engine(), actor, PAGES["outcome"])
    learning_form(frame, hypothesis_id=hypothesis_id, team_id=team_id, label="If one-click pay")


def run(ws: Workspace, actor: Actor, team_id: int | None = None) -> AppTest:
    at = AppTest.from_function(
        learning_app,  # type: ignore[arg-type]
        args=(ws.hypothesis, ws.chk if team_id is None else team_id),
        default_timeout=60,
    )
    at.session_state[state.ACTOR] = actor
    at.run()
    assert not at.exception, at.exception
    return at


def field(at: AppTest, ws: Workspace, name: str, gen: int = 0) -> Any:
    key = f"learning.{ws.hypothesis}#{gen}.{name}"
    widgets = {"learning": at.text_area, "override_reason": at.text_input}.get(name, at.selectbox)
    return widgets(key=key)


def errors(at: AppTest) -> str:
    return unescape("\n".join(e.value for e in at.error))


def test_a_learning_and_decision_land_with_their_audit(ws: Workspace) -> None:
    at = run(ws, ws.editor)
    field(at, ws, "learning").input("Buyers used it twice as often on mobile")
    field(at, ws, "decision").set_value("persevere")

    button(at, "Save learning").click().run()

    assert not at.exception
    assert "Saved the learning on “If one-click pay”: persevere." in unescape(texts(at))
    stored = ws.get(Hypothesis, ws.hypothesis)
    assert (stored.learning, stored.decision) == (
        "Buyers used it twice as often on mobile",
        "persevere",
    )
    before, after = audit_json(ws.audit("hypothesis", "update")[-1])
    assert (before["decision"], after["decision"]) == (None, "persevere")
    assert ws.audit("hypothesis", "update")[-1].actor == "edith"


def test_an_override_lands_with_its_reason(ws: Workspace) -> None:
    at = run(ws, ws.editor)
    field(at, ws, "override").set_value("supported")
    field(at, ws, "override_reason").input("seen in every interview")

    button(at, "Save learning").click().run()

    stored = ws.get(Hypothesis, ws.hypothesis)
    assert (stored.override, stored.override_reason) == ("supported", "seen in every interview")
    assert ws.audit("hypothesis", "update")[-1].summary == "verdict override on CHK-1"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("learning", "x" * 5001, "**Learning**: is too long"),
        ("override", "refuted", "**Reason for the override**: is required"),
    ],
)
def test_an_invalid_field_is_named_and_nothing_is_written(
    ws: Workspace, name: str, value: str, message: str
) -> None:
    at = run(ws, ws.editor)
    widget = field(at, ws, name)
    widget.input(value) if name == "learning" else widget.set_value(value)
    field(at, ws, "decision").set_value("pivot")

    button(at, "Save learning").click().run()

    assert message in errors(at)
    stored = ws.get(Hypothesis, ws.hypothesis)
    assert (stored.decision, stored.override, stored.version) == (None, None, 1)
    assert ws.audit("hypothesis", "update") == []
    assert field(at, ws, name).value == value  # the input is kept


def test_a_stale_learning_is_refused_with_the_input_kept(ws: Workspace) -> None:
    at = run(ws, ws.editor)
    field(at, ws, "learning").input("ours")
    with write_session(ws.engine) as session:
        writes.update_hypothesis(
            session,
            actor=ADMIN,
            hypothesis_id=ws.hypothesis,
            expected_version=1,
            changes=HypothesisChanges(learning="theirs"),
        )

    button(at, "Save learning").click().run()

    assert "changed by test-admin" in unescape(at.warning[0].value)
    assert field(at, ws, "learning").value == "ours"
    assert ws.get(Hypothesis, ws.hypothesis).learning == "theirs"


def test_the_same_learning_submission_twice_writes_once(ws: Workspace) -> None:
    form = f"learning.{ws.hypothesis}"
    at = run(ws, ws.editor)
    at.session_state[state.SUBMISSIONS] = {form: "learning-click-1"}
    field(at, ws, "learning").input("first")
    button(at, "Save learning").click().run()

    at.session_state[state.SUBMISSIONS] = {form: "learning-click-1"}
    field(at, ws, "learning", gen=1).input("second")
    button(at, "Save learning").click().run()

    assert "Already saved" in unescape(texts(at))
    assert ws.get(Hypothesis, ws.hypothesis).learning == "first"
    assert len(ws.audit("hypothesis", "update")) == 1


@pytest.mark.parametrize("who", ["viewer", "other team's editor"])
def test_no_learning_form_for_who_may_not_edit_the_team(ws: Workspace, who: str) -> None:
    actor = ws.viewer if who == "viewer" else ws.editor
    at = run(ws, actor, team_id=ws.chk if who == "viewer" else ws.src)

    assert not at.button and not at.text_area and not at.selectbox


def test_the_outcome_page_shows_the_learning_to_viewers_and_the_form_to_editors(
    ws: Workspace,
) -> None:
    with write_session(ws.engine) as session:
        writes.update_hypothesis(
            session,
            actor=ADMIN,
            hypothesis_id=ws.hypothesis,
            expected_version=None,
            changes=HypothesisChanges(learning="Wallets beat cards", decision="pivot"),
        )
    params = {"pi": "PI now", "team": "CHK", "outcome": "CHK-1"}

    viewer = page("pages/outcome.py", ws.viewer, **params)
    editor = page("pages/outcome.py", ws.editor, **params)

    assert not viewer.exception and not editor.exception
    assert "**Decision:** Pivot. **Learning:** Wallets beat cards" in unescape(texts(viewer))
    assert not [b for b in viewer.button if b.label == "Save learning"]
    assert [b for b in editor.button if b.label == "Save learning"]
    assert editor.selectbox(key=f"learning.{ws.hypothesis}#0.decision").value == "pivot"


def test_audit_events_name_the_hypothesis(ws: Workspace) -> None:
    at = run(ws, ws.editor)
    field(at, ws, "decision").set_value("stop")
    field(at, ws, "override").set_value("refuted")
    field(at, ws, "override_reason").input("the numbers lag")

    button(at, "Save learning").click().run()

    events = ws.audit("hypothesis", "update")
    assert [e.summary for e in events] == ["hypothesis on CHK-1", "verdict override on CHK-1"]
    assert all(isinstance(e, AuditEvent) and e.entity_id == ws.hypothesis for e in events)
    assert ws.get(Hypothesis, ws.hypothesis).version == 3
