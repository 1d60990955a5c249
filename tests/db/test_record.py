"""Record's one save (db/record.py) and the corrections behind it: a release and readings
in one transaction or nothing; archive a release; delete a reading. Both databases."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, func, select

from core.access import Actor
from core.errors import PermissionDenied, ValidationError
from db import edit_queries, queries, writes
from db.engine import read_session, write_session
from db.models import AuditEvent, Hypothesis, Reading, Release
from db.readings import ReadingEntry, ReplaceNeeded
from db.record import ReleaseDraft, record_after_release
from db.submissions import DuplicateSubmission
from tests.workspace import Builder

DAY = dt.date(2026, 10, 5)


@dataclass(frozen=True)
class Ids:
    team: int
    other: int
    conversion: int
    errors: int
    hypothesis: int
    editor: Actor
    stranger: Actor  # an editor of the other team


@pytest.fixture
def ids(engine: Engine, admin: Actor) -> Ids:
    with write_session(engine) as s:
        b = Builder(s, actor=admin)
        train = b.train("Payments")
        team = b.team("Checkout", "CHK", train=train)
        other = b.team("Search", "SRC", train=train)
        pi = b.pi("PI 26.4", DAY - dt.timedelta(days=10), DAY + dt.timedelta(days=64), train=train)
        conversion = b.metric(team, "Conversion", unit="%")
        errors = b.metric(team, "Errors")
        b.readings(conversion, {DAY - dt.timedelta(days=7): 2.2})
        outcome = b.outcome(pi, team, "CHK-1", "Raise conversion", status="active")
        hypothesis = b.hypothesis(
            outcome,
            conversion,
            if_text="one-click pay",
            expect_text="more buyers",
            because_text="drop-off",
            min_effect=0.1,
        )
        return Ids(
            team.id,
            other.id,
            conversion.id,
            errors.id,
            hypothesis.id,
            Actor(username="edith", role="editor", team_ids=frozenset({team.id})),
            Actor(username="sam", role="editor", team_ids=frozenset({other.id})),
        )


def counts(engine: Engine) -> tuple[int, int, int]:
    with read_session(engine) as s:
        return (
            s.scalar(select(func.count()).select_from(Release)) or 0,
            s.scalar(select(func.count()).select_from(Reading)) or 0,
            s.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def save(
    engine: Engine,
    ids: Ids,
    release: ReleaseDraft | None,
    *entries: ReadingEntry,
    key: str | None = None,
    actor: Actor | None = None,
) -> object:
    with write_session(engine) as s:
        return record_after_release(
            s,
            actor=actor or ids.editor,
            team_id=ids.team,
            release=release,
            entries=list(entries),
            submission_key=key,
        )


def test_one_save_writes_the_release_and_the_readings_audited(engine: Engine, ids: Ids) -> None:
    draft = ReleaseDraft("v2.5", DAY, "notes", "", (ids.hypothesis,))

    result = save(
        engine,
        ids,
        draft,
        ReadingEntry(ids.conversion, DAY, "68.17"),
        ReadingEntry(ids.errors, DAY, 3),
    )

    assert result.release.name == "v2.5" and result.readings.added == 2  # type: ignore[attr-defined]
    with read_session(engine) as s:
        values = sorted(s.scalars(select(Reading.value).where(Reading.date == DAY)))
        shipped = s.get(Hypothesis, ids.hypothesis).release_id
        actions = {
            (e.entity, e.action)
            for e in s.scalars(select(AuditEvent).where(AuditEvent.actor == "edith"))
        }
    assert values == [3.0, 68.17]
    assert shipped is not None
    assert {("release", "create"), ("hypothesis", "update"), ("reading", "create")} <= actions


@pytest.mark.parametrize(
    ("draft", "entries", "where"),
    [
        (ReleaseDraft("", DAY, notes="no name"), [("conversion", "2.4")], "name"),
        (ReleaseDraft("", DAY, link="https://x.test"), [], "name"),
        (ReleaseDraft("v2.5", DAY, link="ftp://x"), [("conversion", "2.4")], "link"),
        (ReleaseDraft("v2.5", DAY), [("conversion", "abc")], "Conversion: value"),
        (ReleaseDraft("v2.5", DAY), [("conversion", "nan")], "Conversion: value"),
        (None, [], "readings"),
    ],
)
def test_any_problem_writes_nothing_and_names_its_field(
    engine: Engine, ids: Ids, draft: ReleaseDraft | None, entries: list, where: str
) -> None:
    before = counts(engine)
    typed = [ReadingEntry(getattr(ids, m), DAY, v) for m, v in entries]

    with pytest.raises(ValidationError) as raised:
        save(engine, ids, draft, *typed)

    assert where in raised.value.fields()
    assert counts(engine) == before


@pytest.mark.parametrize("shape", [dict.fromkeys, lambda ids: str(ids[0])], ids=["dict", "str"])
def test_hypotheses_not_given_as_a_list_of_ids_are_refused_by_name(
    engine: Engine, ids: Ids, shape: object
) -> None:
    """A mapping's keys or a string's characters are never taken for hypothesis ids."""
    before = counts(engine)
    draft = ReleaseDraft("v2.5", DAY, hypothesis_ids=shape([ids.hypothesis]))  # type: ignore[operator]

    with pytest.raises(ValidationError) as raised:
        save(engine, ids, draft, ReadingEntry(ids.conversion, DAY, "2.4"))

    assert raised.value.fields() == {"hypotheses"}
    assert counts(engine) == before


def test_a_stored_reading_that_differs_asks_first_and_writes_no_release(
    engine: Engine, ids: Ids
) -> None:
    before = counts(engine)
    changed = ReadingEntry(ids.conversion, DAY - dt.timedelta(days=7), 9.9)

    with pytest.raises(ReplaceNeeded):
        save(engine, ids, ReleaseDraft("v2.5", DAY), changed)

    assert counts(engine) == before


def test_the_same_submission_twice_writes_once(engine: Engine, ids: Ids) -> None:
    save(engine, ids, ReleaseDraft("v2.5", DAY), ReadingEntry(ids.conversion, DAY, 2.4), key="k1")
    before = counts(engine)

    with pytest.raises(DuplicateSubmission):
        save(
            engine, ids, ReleaseDraft("v2.5", DAY), ReadingEntry(ids.conversion, DAY, 2.5), key="k1"
        )

    assert counts(engine) == before


def test_an_editor_of_another_team_writes_nothing(engine: Engine, ids: Ids) -> None:
    before = counts(engine)

    with pytest.raises(PermissionDenied):
        save(engine, ids, None, ReadingEntry(ids.conversion, DAY, 2.4), actor=ids.stranger)

    assert counts(engine) == before


def test_an_archived_release_leaves_markers_and_choices_and_stays_audited(
    engine: Engine, ids: Ids
) -> None:
    result = save(engine, ids, ReleaseDraft("v2.5", DAY))
    release_id = result.release.id  # type: ignore[attr-defined]

    with write_session(engine) as s:
        writes.archive_release(
            s, actor=ids.editor, release_id=release_id, expected_version=1, submission_key="a1"
        )

    with read_session(engine) as s:
        assert s.get(Release, release_id).archived is True
        assert edit_queries.team_releases(s, team_id=ids.team) == []
        assert queries.recent_releases(s, as_of=DAY, team_ids=[ids.team]).empty
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.entity == "release").order_by(AuditEvent.id.desc())
        ).first()
    assert event.action == "update" and '"archived": true' in (event.after or "")


def test_archiving_a_release_needs_its_teams_editor(engine: Engine, ids: Ids) -> None:
    result = save(engine, ids, ReleaseDraft("v2.5", DAY))
    before = counts(engine)

    with pytest.raises(PermissionDenied), write_session(engine) as s:
        writes.archive_release(
            s,
            actor=ids.stranger,
            release_id=result.release.id,
            expected_version=None,  # type: ignore[attr-defined]
        )

    assert counts(engine) == before


def test_deleting_a_reading_needs_its_teams_editor_and_is_audited(engine: Engine, ids: Ids) -> None:
    with read_session(engine) as s:
        reading_id = s.scalar(select(Reading.id).where(Reading.metric_id == ids.conversion))
    before = counts(engine)

    with pytest.raises(PermissionDenied), write_session(engine) as s:
        writes.delete_reading(s, actor=ids.stranger, reading_id=reading_id)
    assert counts(engine) == before

    with write_session(engine) as s:
        writes.delete_reading(s, actor=ids.editor, reading_id=reading_id, submission_key="d1")
    with read_session(engine) as s:
        assert s.get(Reading, reading_id) is None
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "delete")).one()
    assert event.actor == "edith" and "Conversion" in event.summary and "2.2" in event.summary
    assert '"value": 2.2' in (event.before or "")


def test_only_the_pi_running_on_the_day_offers_its_hypotheses(engine: Engine, ids: Ids) -> None:
    with read_session(engine) as s:
        now = edit_queries.open_hypotheses(s, team_id=ids.team, on=DAY)
        later = edit_queries.open_hypotheses(s, team_id=ids.team, on=DAY + dt.timedelta(days=200))
    assert [h.id for h in now] == [ids.hypothesis] and later == []
