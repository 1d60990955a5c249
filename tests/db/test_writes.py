"""Write functions: validated, audited, one transaction, versioned, written once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.access import Actor
from core.changes import HypothesisChanges, OutcomeChanges, TargetChanges, TeamChanges
from core.errors import ConflictError, PermissionDenied, ValidationError
from db import writes
from db.engine import read_session, write_session
from db.models import PI, AuditEvent, CheckIn, Outcome, Reading, Target
from tests.workspace import Builder

DAY = dt.date(2026, 10, 5)


@dataclass(frozen=True)
class Workspace:
    team_id: int
    other_team_id: int
    pi_id: int
    metric_id: int
    outcome_id: int


@pytest.fixture
def ws(engine: Engine, admin: Actor) -> Workspace:
    with write_session(engine) as s:
        b = Builder(s, actor=admin)
        train = b.train("Payments")
        team = b.team("Checkout", "chk", train=train)  # stored upper case: see the first test
        other = b.team("Search", "SRC", train=train)
        pi = b.pi("PI 26.4", DAY, DAY + dt.timedelta(days=74), train=train)
        metric = b.metric(team, "Conversion", unit="%")
        outcome = b.outcome(pi, team, "CHK-1", "Raise checkout conversion", planned_bv=8)
        return Workspace(team.id, other.id, pi.id, metric.id, outcome.id)


def count(engine: Engine, model: type, *where: object) -> int:
    with read_session(engine) as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_create_writes_record_and_audit_event(engine: Engine, ws: Workspace) -> None:
    with read_session(engine) as s:
        team = s.scalar(
            select(AuditEvent).where(AuditEvent.entity == "team").order_by(AuditEvent.id)
        )
    assert team is not None and team.action == "create" and team.actor == "test-admin"
    assert '"key": "CHK"' in (team.after or "")  # keys are stored upper case


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"planned_bv": 11}, "planned_bv"),
        ({"planned_bv": "lots"}, "planned_bv"),
        ({"status": "done"}, "status"),
        ({"key": "has space"}, "key"),
        ({"committed": "false"}, "committed"),  # bool("false") would be True
        ({"committed": 0}, "committed"),
    ],
)
def test_invalid_outcome_field_is_named_and_nothing_written(
    engine: Engine, ws: Workspace, admin: Actor, changes: dict, field: str
) -> None:
    events = count(engine, AuditEvent)
    with pytest.raises(ValidationError) as error, write_session(engine) as s:
        writes.update_outcome(
            s,
            actor=admin,
            outcome_id=ws.outcome_id,
            expected_version=1,
            changes=OutcomeChanges.of(changes),
        )
    assert field in error.value.fields()
    assert count(engine, AuditEvent) == events
    with read_session(engine) as s:
        assert s.get(Outcome, ws.outcome_id).version == 1  # type: ignore[union-attr]


@pytest.mark.parametrize("value", ["false", "no", 1, 0.0, [], {"x": 1}])
def test_a_yes_no_field_takes_only_true_or_false(
    engine: Engine, ws: Workspace, admin: Actor, value: object
) -> None:
    events = count(engine, AuditEvent)
    with pytest.raises(ValidationError) as error, write_session(engine) as s:
        writes.create_metric(
            s, actor=admin, team_id=ws.team_id, name="Refunds", unit="%", leading=value
        )
    assert error.value.fields() == {"leading"}
    with pytest.raises(ValidationError) as error, write_session(engine) as s:
        writes.update_team(
            s,
            actor=admin,
            team_id=ws.team_id,
            expected_version=1,
            changes=TeamChanges(active=value),
        )
    assert "active" in error.value.fields()
    assert count(engine, AuditEvent) == events
    with write_session(engine) as s:
        metric = writes.create_metric(
            s, actor=admin, team_id=ws.team_id, name="Refunds", unit="%", leading=True
        )
        assert metric.leading is True


def test_stale_version_is_refused_with_what_changed_and_by_whom(
    engine: Engine, ws: Workspace, admin: Actor
) -> None:
    alice = Actor("alice", "editor", frozenset({ws.team_id}))
    with write_session(engine) as s:
        writes.update_outcome(
            s,
            actor=alice,
            outcome_id=ws.outcome_id,
            expected_version=1,
            changes=OutcomeChanges(title="Alice's title"),
        )
    with pytest.raises(ConflictError) as error, write_session(engine) as s:
        writes.update_outcome(
            s,
            actor=admin,
            outcome_id=ws.outcome_id,
            expected_version=1,
            changes=OutcomeChanges(title="Mine"),
        )
    assert error.value.by == "alice"
    assert error.value.changes["title"] == ("Raise checkout conversion", "Alice's title")
    with read_session(engine) as s:
        assert s.get(Outcome, ws.outcome_id).title == "Alice's title"  # type: ignore[union-attr]


def test_same_submission_twice_writes_once(engine: Engine, ws: Workspace, admin: Actor) -> None:
    for _ in range(2):
        try:
            with write_session(engine) as s:
                writes.add_checkin(
                    s, actor=admin, outcome_id=ws.outcome_id, confidence=7, submission_key="k1"
                )
        except writes.DuplicateSubmission:
            pass
    assert count(engine, CheckIn) == 1


def test_failed_submission_can_be_retried_with_same_key(
    engine: Engine, ws: Workspace, admin: Actor
) -> None:
    with pytest.raises(ValidationError), write_session(engine) as s:
        writes.add_checkin(
            s, actor=admin, outcome_id=ws.outcome_id, confidence=0, submission_key="k2"
        )
    with write_session(engine) as s:
        writes.add_checkin(
            s, actor=admin, outcome_id=ws.outcome_id, confidence=6, submission_key="k2"
        )
    assert count(engine, CheckIn) == 1


@pytest.mark.parametrize("role", ["viewer", "anonymous", "editor-of-other-team"])
def test_refused_permission_writes_nothing(engine: Engine, ws: Workspace, role: str) -> None:
    actor = (
        Actor("bob", "editor", frozenset({ws.other_team_id}))
        if role == "editor-of-other-team"
        else Actor("bob", role)
    )
    events = count(engine, AuditEvent)
    with pytest.raises(PermissionDenied), write_session(engine) as s:
        writes.record_readings(
            s, actor=actor, entries=[writes.ReadingEntry(ws.metric_id, DAY, 2.0)]
        )
    assert count(engine, Reading) == 0
    assert count(engine, AuditEvent) == events


def test_second_reading_same_day_needs_replace(engine: Engine, ws: Workspace, admin: Actor) -> None:
    entry = writes.ReadingEntry(ws.metric_id, DAY, 2.0)
    with write_session(engine) as s:
        assert writes.record_readings(s, actor=admin, entries=[entry]).added == 1
    changed = writes.ReadingEntry(ws.metric_id, DAY, 2.5, "recount")
    with pytest.raises(writes.ReplaceNeeded) as error, write_session(engine) as s:
        writes.record_readings(s, actor=admin, entries=[changed])
    assert error.value.conflicts[0].stored == 2.0 and error.value.conflicts[0].new == 2.5
    with write_session(engine) as s:
        result = writes.record_readings(s, actor=admin, entries=[changed], replace=True)
    assert result.replaced == 1
    with read_session(engine) as s:
        assert s.scalar(select(Reading.value)) == 2.5
        audit = s.scalars(
            select(AuditEvent).where(AuditEvent.entity == "reading").order_by(AuditEvent.id)
        ).all()
    assert '"value": 2.0' in (audit[-1].before or "")


def test_same_reading_again_adds_nothing(engine: Engine, ws: Workspace, admin: Actor) -> None:
    entry = writes.ReadingEntry(ws.metric_id, DAY, 2.0)
    for _ in range(2):
        with write_session(engine) as s:
            writes.record_readings(s, actor=admin, entries=[entry])
    assert count(engine, Reading) == 1


def test_reading_must_be_finite(engine: Engine, ws: Workspace, admin: Actor) -> None:
    with pytest.raises(ValidationError, match="finite"), write_session(engine) as s:
        writes.record_readings(
            s, actor=admin, entries=[writes.ReadingEntry(ws.metric_id, DAY, float("nan"))]
        )


def test_target_kind_inferred_and_equal_baseline_rejected(
    engine: Engine, ws: Workspace, admin: Actor
) -> None:
    with write_session(engine) as s:
        target = writes.add_target(
            s,
            actor=admin,
            outcome_id=ws.outcome_id,
            metric_id=ws.metric_id,
            baseline=3.0,
            target=2.0,
        )
        assert target.kind == "decrease"
        assert target.target_date == DAY + dt.timedelta(days=74)  # defaults to the PI's end
    with pytest.raises(ValidationError) as error, write_session(engine) as s:
        writes.update_target(
            s,
            actor=admin,
            target_id=target.id,
            expected_version=1,
            changes=TargetChanges(target=3.0),
        )
    assert "target" in error.value.fields()
    assert count(engine, Target) == 1


def test_overlapping_pi_in_same_train_is_refused(
    engine: Engine, ws: Workspace, admin: Actor
) -> None:
    with read_session(engine) as s:
        train_id = s.get(Outcome, ws.outcome_id).pi.train_id  # type: ignore[union-attr]
    with pytest.raises(ValidationError) as error, write_session(engine) as s:
        writes.create_pi(
            s,
            actor=admin,
            name="PI 27.1",
            train_id=train_id,
            start_date=DAY + dt.timedelta(days=30),
            end_date=DAY + dt.timedelta(days=100),
        )
    assert "start_date" in error.value.fields()


def test_editor_cannot_score_business_value(engine: Engine, ws: Workspace) -> None:
    editor = Actor("eve", "editor", frozenset({ws.team_id}))
    with pytest.raises(PermissionDenied), write_session(engine) as s:
        writes.score_outcome(
            s, actor=editor, outcome_id=ws.outcome_id, actual_bv=10, expected_version=None
        )


def test_copy_to_next_pi_takes_unfinished_outcomes_and_open_hypotheses(
    engine: Engine, ws: Workspace, admin: Actor
) -> None:
    with write_session(engine) as s:
        writes.update_outcome(
            s,
            actor=admin,
            outcome_id=ws.outcome_id,
            expected_version=None,
            changes=OutcomeChanges(status="active"),
        )
        writes.add_target(
            s,
            actor=admin,
            outcome_id=ws.outcome_id,
            metric_id=ws.metric_id,
            baseline=2.0,
            target=3.0,
        )
        writes.add_hypothesis(
            s,
            actor=admin,
            outcome_id=ws.outcome_id,
            metric_id=ws.metric_id,
            if_text="we add one-click pay",
            expect_text="more finish",
            direction="increase",
        )
        later = writes.create_pi(
            s,
            actor=admin,
            name="PI 27.1",
            start_date=DAY + dt.timedelta(days=80),
            end_date=DAY + dt.timedelta(days=150),
        )
        copies = writes.copy_to_next_pi(
            s, actor=admin, from_pi_id=ws.pi_id, to_pi_id=later.id
        ).outcomes
        assert [c.key for c in copies] == ["CHK-1"]
        assert copies[0].status == "draft"
        assert len(copies[0].targets) == 1 and len(copies[0].hypotheses) == 1
        again = writes.copy_to_next_pi(s, actor=admin, from_pi_id=ws.pi_id, to_pi_id=later.id)
        assert again.copied == ()
        assert [(k.key, k.reason) for k in again.skipped] == [
            ("CHK-1", "already in PI 27.1 as CHK-1 (same title)")
        ]


def _later_pi(s: Session, admin: Actor) -> PI:
    return writes.create_pi(
        s,
        actor=admin,
        name="PI 27.1",
        start_date=DAY + dt.timedelta(days=80),
        end_date=DAY + dt.timedelta(days=150),
    )


def test_copy_gives_a_taken_key_the_next_free_one_and_says_so(
    engine: Engine, ws: Workspace, admin: Actor
) -> None:
    with write_session(engine) as s:
        writes.create_outcome(
            s,
            actor=admin,
            pi_id=ws.pi_id,
            team_id=ws.team_id,
            key="CHK-2",
            title="Fewer payment errors",
            status="active",
        )
        later = _later_pi(s, admin)
        for key, title in (("CHK-1", "Faster search"), ("CHK-2", "Other"), ("CHK-3", "Third")):
            writes.create_outcome(
                s, actor=admin, pi_id=later.id, team_id=ws.team_id, key=key, title=title
            )

        result = writes.copy_to_next_pi(s, actor=admin, from_pi_id=ws.pi_id, to_pi_id=later.id)

        assert [(c.source_key, c.key) for c in result.copied] == [
            ("CHK-1", "CHK-4"),
            ("CHK-2", "CHK-5"),
        ]
        assert result.lines()[0].startswith(
            "CHK-1 copied as CHK-4 (CHK-1 is already used in PI 27.1)"
        )
    with read_session(engine) as s:
        events = s.scalars(
            select(AuditEvent.summary).where(
                AuditEvent.entity == "outcome", AuditEvent.summary.like("%copied%")
            )
        ).all()
    assert events == [
        "outcome CHK-1 copied from PI 26.4 as CHK-4",
        "outcome CHK-2 copied from PI 26.4 as CHK-5",
    ]


@pytest.mark.parametrize(
    ("title", "flagged"),
    [("Raise conversion to 3% by 1 Jan", "1 Jan"), ("Raise checkout conversion", None)],
)
def test_copy_flags_a_title_that_names_a_date_when_the_target_date_moved(
    engine: Engine, ws: Workspace, admin: Actor, title: str, flagged: str | None
) -> None:
    with write_session(engine) as s:
        writes.update_outcome(
            s,
            actor=admin,
            outcome_id=ws.outcome_id,
            expected_version=None,
            changes=OutcomeChanges(title=title),
        )
        writes.add_target(
            s,
            actor=admin,
            outcome_id=ws.outcome_id,
            metric_id=ws.metric_id,
            baseline=2.0,
            baseline_date=DAY,
            target=3.0,
        )
        later = _later_pi(s, admin)

        result = writes.copy_to_next_pi(s, actor=admin, from_pi_id=ws.pi_id, to_pi_id=later.id)

    assert result.copied[0].title_date == flagged
    assert ("names a date" in result.lines()[0]) == (flagged is not None)


def test_copy_leaves_decided_hypotheses_behind_and_counts_them(
    engine: Engine, ws: Workspace, admin: Actor
) -> None:
    with write_session(engine) as s:
        for decision in (None, "persevere"):
            hypothesis = writes.add_hypothesis(
                s,
                actor=admin,
                outcome_id=ws.outcome_id,
                metric_id=ws.metric_id,
                if_text=f"we try {decision}",
                expect_text="more finish",
            )
            writes.update_hypothesis(
                s,
                actor=admin,
                hypothesis_id=hypothesis.id,
                expected_version=None,
                changes=HypothesisChanges(decision=decision),
            )
        later = _later_pi(s, admin)

        result = writes.copy_to_next_pi(s, actor=admin, from_pi_id=ws.pi_id, to_pi_id=later.id)

    copied = result.copied[0]
    assert (copied.hypotheses, copied.hypotheses_decided) == (1, 1)
    assert "1 with a decision stayed behind" in result.lines()[0]


def test_copy_into_the_same_pi_is_refused(engine: Engine, ws: Workspace, admin: Actor) -> None:
    with pytest.raises(ValidationError) as error, write_session(engine) as s:
        writes.copy_to_next_pi(s, actor=admin, from_pi_id=ws.pi_id, to_pi_id=ws.pi_id)
    assert error.value.problems[0].where == "to_pi"
    assert count(engine, Outcome) == 1


def test_deleting_a_reading_is_audited_with_its_value_and_claimed_once(
    engine: Engine, ws: Workspace, admin: Actor
) -> None:
    with write_session(engine) as s:
        writes.record_readings(
            s, actor=admin, entries=[writes.ReadingEntry(ws.metric_id, DAY, 2.25, "launch")]
        )
        reading_id = s.scalar(select(Reading.id))
    with write_session(engine) as s:
        deleted = writes.delete_reading(
            s, actor=admin, reading_id=reading_id, submission_key="delete-1"
        )
    assert deleted.value == 2.25
    with pytest.raises(writes.DuplicateSubmission), write_session(engine) as s:
        writes.delete_reading(s, actor=admin, reading_id=reading_id, submission_key="delete-1")
    with read_session(engine) as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "delete")).one()
    assert event.summary == f"Conversion on {DAY}: 2.25"
    assert '"value": 2.25' in (event.before or "") and '"note": "launch"' in (event.before or "")
    assert count(engine, Reading) == 0
