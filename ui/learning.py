"""The learning log on the outcome page: what a team learned from one hypothesis, its
decision (persevere, pivot, stop) and an optional override of the computed verdict with
its reason; versioned, audited and written once per submission like every form."""

from __future__ import annotations

import dataclasses
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session

from core.access import Actor, can_edit_team
from core.changes import HypothesisChanges
from db import edit_queries
from db.engine import read_session
from db.models import DECISIONS, VERDICTS, Hypothesis
from db.writes import override_verdict, update_hypothesis
from ui.forms import LABELS, FormState, KeyedWrite, save_changes
from ui.site import Frame
from ui.theme import verdict_label

LEARNING_LABELS = {
    **LABELS,
    "learning": "Learning",
    "decision": "Decision",
    "override": "Override the verdict",
    "override_reason": "Reason for the override",
}
# "" stands for "none" in the select boxes: a None value would show as no choice at all.
NONE = ""
DECISION_WORDS = {NONE: "No decision yet", **{d: d.capitalize() for d in DECISIONS}}


def _override_word(verdict: str) -> str:
    return "No override: the computed verdict stands" if verdict == NONE else verdict_label(verdict)


def _or_none(value: str | None) -> str | None:
    return value or None


def save_learning(
    session: Session,
    *,
    actor: Actor,
    hypothesis_id: int,
    expected_version: int | None,
    changes: dict[str, Any],
    override: str,
    override_reason: str,
    submission_key: str | None = None,
) -> Hypothesis:
    """Learning and decision through `update_hypothesis` (which checks the version the
    form opened), then the override through `override_verdict` when it changed, in the
    caller's one transaction."""
    log = {name: changes[name] for name in ("learning", "decision") if name in changes}
    if "decision" in log:
        log["decision"] = _or_none(log["decision"])
    record = update_hypothesis(
        session,
        actor=actor,
        hypothesis_id=hypothesis_id,
        expected_version=expected_version,
        submission_key=submission_key,
        changes=HypothesisChanges.of(log),
    )
    if "override" in changes or "override_reason" in changes:
        record = override_verdict(
            session,
            actor=actor,
            hypothesis_id=hypothesis_id,
            # The version was checked just above; this is the one that check left.
            expected_version=record.version,
            override=_or_none(override),
            reason=override_reason,
        )
    return record


def learning_form(frame: Frame, *, hypothesis_id: int, team_id: int | None, label: str) -> None:
    """The form for those who may edit the outcome's team; nothing for anyone else (they
    read the learning and decision beside the verdict)."""
    if not can_edit_team(frame.actor, team_id):
        return
    with read_session(frame.engine) as session:
        record = edit_queries.hypothesis_learning(session, hypothesis_id=hypothesis_id)
    if record is None:
        return
    decided = record["decision"] is not None
    record = dataclasses.replace(
        record,
        values={
            **record.values,
            "decision": record["decision"] or NONE,
            "override": record["override"] or NONE,
        },
    )
    form = FormState(f"learning.{hypothesis_id}", entity="hypothesis", record_id=hypothesis_id)
    version = form.open(record)
    with st.expander(
        "Change the learning and decision" if decided else "Record the learning and decision",
        icon=":material/edit_note:",
        expanded=form.conflict is not None,
    ):
        with st.form(form.form_key, border=False):
            learning = st.text_area(
                "Learning",
                key=form.init("learning", record["learning"]),
                height=90,
                help="What did the team learn from this hypothesis? Say it so the next PI "
                "can act on it.",
            )
            left, right = st.columns(2)
            decision = left.selectbox(
                "Decision",
                [NONE, *DECISIONS],
                key=form.init("decision", record["decision"]),
                format_func=lambda d: DECISION_WORDS[d],
                help="Persevere: keep going. Pivot: change course. Stop: drop it.",
            )
            override = right.selectbox(
                "Override the verdict",
                [NONE, *VERDICTS],
                key=form.init("override", record["override"]),
                format_func=_override_word,
                help="Only when the team knows better than the numbers; say why below. "
                "The computed verdict is kept and shown beside it.",
            )
            reason = st.text_input(
                "Reason for the override",
                key=form.init("override_reason", record["override_reason"]),
            )
            submitted = st.form_submit_button("Save learning", type="primary")
        if submitted:
            fields = {
                "learning": learning,
                "decision": decision,
                "override": override,
                "override_reason": reason,
            }
            save_changes(
                frame,
                form,
                fields,
                KeyedWrite(
                    save_learning,
                    actor=frame.actor,
                    hypothesis_id=hypothesis_id,
                    expected_version=version,
                    override=override,
                    override_reason=reason,
                ),
                changes_argument="changes",
                success=lambda h: (
                    f"Saved the learning on “{label}”" + (f": {h.decision}." if h.decision else ".")
                ),
                labels=LEARNING_LABELS,
            )
    form.show_status()
