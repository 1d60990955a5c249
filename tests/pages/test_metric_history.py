"""The metric history page: every reading of a metric with its note, source and who, a
page at a time, reachable from the team and outcome pages; the team's editors delete a
reading after a confirm step (audited with its value, written once)."""

from __future__ import annotations

import datetime as dt

from streamlit.testing.v1 import AppTest

from db import writes
from db.engine import write_session
from db.models import Reading, Release
from tests.pages.update_workspace import (
    ADMIN,
    TODAY,
    Workspace,
    audit_json,
    button,
    by_label,
    page,
    texts,
    unescape,
)
from ui import state


def history(actor: object, metric: str = "Checkout conversion", team: str = "CHK") -> AppTest:
    at = page("pages/metric.py", actor, team=team, metric=metric, pi="PI now")  # type: ignore[arg-type]
    assert not at.exception, at.exception
    return at


def table(at: AppTest) -> object:
    return at.dataframe[0].value


def page_links(at: AppTest) -> list[tuple[str, str]]:
    return [(link.proto.label, link.proto.page) for link in at.get("page_link")]


def test_every_reading_is_listed_with_note_source_and_who(ws: Workspace) -> None:
    at = history(None)

    assert unescape(at.title[0].value) == "Checkout conversion · history"
    shown = table(at)
    assert list(shown["value"]) == [2.2, 2.1]  # newest first
    assert set(shown["source"]) == {"cli"} and set(shown["entered_by"]) == {"test-admin"}
    assert "2 readings from" in unescape(texts(at))
    assert at.query_params["metric"] in ("Checkout conversion", ["Checkout conversion"])


def test_a_metric_without_a_target_has_its_history_too(ws: Workspace) -> None:
    at = history(None, metric="Payment errors")

    assert list(table(at)["value"]) == [40.0]


def test_an_unknown_metric_is_named_and_another_shown(ws: Workspace) -> None:
    at = history(None, metric="Nope")

    assert "There is no metric “Nope” here" in unescape("\n".join(w.value for w in at.warning))
    assert at.title


def test_long_histories_come_a_page_at_a_time(ws: Workspace) -> None:
    start = TODAY - dt.timedelta(days=400)
    with write_session(ws.engine) as session:
        writes.record_readings(
            session,
            actor=ADMIN,
            entries=[
                writes.ReadingEntry(ws.latency, start + dt.timedelta(days=i), 1.0 + i / 100)
                for i in range(120)
            ],
        )

    at = history(None, metric="Time to pay")
    assert len(table(at)) == 50
    by_label(at.number_input, "Page").set_value(3).run()

    assert len(table(at)) == 20
    assert "Readings 101–120 of 120" in unescape(texts(at))


def test_readers_get_no_delete_form(ws: Workspace) -> None:
    for actor in (None, ws.viewer):
        at = history(actor)
        assert not [b for b in at.button if b.label in ("Delete…", "Yes, delete")]
    other = history(ws.editor, metric="Search success", team="SRC")
    assert not [b for b in other.button if b.label == "Delete…"]


def ask_to_delete(at: AppTest, day: dt.date) -> AppTest:
    box = by_label(at.selectbox, "Reading to delete")
    box.select(next(o for o in box.options if o.startswith(day.isoformat())))
    button(at, "Delete…").click().run()
    assert not at.exception, at.exception
    return at


def test_deleting_a_reading_asks_first_then_lands_with_its_audit(ws: Workspace) -> None:
    day = TODAY - dt.timedelta(days=7)
    at = ask_to_delete(history(ws.editor), day)

    assert "Delete the reading of Checkout conversion on" in unescape(texts(at))
    assert ws.readings(ws.conversion) == {TODAY - dt.timedelta(days=14): 2.1, day: 2.2}
    button(at, "Yes, delete").click().run()

    assert not at.exception
    assert ws.readings(ws.conversion) == {TODAY - dt.timedelta(days=14): 2.1}
    assert f"Deleted the reading of Checkout conversion on {day.isoformat()}: 2.2%" in unescape(
        texts(at)
    )
    event = ws.audit("reading", "delete")[-1]
    before, _ = audit_json(event)
    assert (event.actor, before["value"]) == ("edith", 2.2)
    assert list(table(at)["value"]) == [2.1]


def test_cancel_deletes_nothing(ws: Workspace) -> None:
    at = ask_to_delete(history(ws.editor), TODAY - dt.timedelta(days=7))

    button(at, "Cancel").click().run()

    assert not [b for b in at.button if b.label == "Yes, delete"]
    assert len(ws.readings(ws.conversion)) == 2
    assert ws.audit("reading", "delete") == []


def test_a_reading_deleted_meanwhile_is_named_and_nothing_else_goes(ws: Workspace) -> None:
    day = TODAY - dt.timedelta(days=7)
    at = ask_to_delete(history(ws.editor), day)
    with write_session(ws.engine) as session:
        reading = session.query(Reading).filter_by(metric_id=ws.conversion, date=day).one()
        writes.delete_reading(session, actor=ADMIN, reading_id=reading.id)

    button(at, "Yes, delete").click().run()

    assert "no reading with id" in unescape("\n".join(e.value for e in at.error))
    assert ws.readings(ws.conversion) == {TODAY - dt.timedelta(days=14): 2.1}
    assert len(ws.audit("reading", "delete")) == 1


def test_the_same_delete_twice_writes_once(ws: Workspace) -> None:
    form = f"metric.delete.{ws.conversion}"
    at = history(ws.editor)
    at.session_state[state.SUBMISSIONS] = {form: "delete-click-1"}
    ask_to_delete(at, TODAY - dt.timedelta(days=7))
    button(at, "Yes, delete").click().run()

    at.session_state[state.SUBMISSIONS] = {form: "delete-click-1"}
    ask_to_delete(at, TODAY - dt.timedelta(days=14))
    button(at, "Yes, delete").click().run()

    assert "Already saved" in unescape(texts(at))
    assert ws.readings(ws.conversion) == {TODAY - dt.timedelta(days=14): 2.1}
    assert len(ws.audit("reading", "delete")) == 1


def test_team_and_outcome_pages_link_to_every_history(ws: Workspace) -> None:
    team = page("pages/team.py", None, team="CHK", pi="PI now")
    outcome = page("pages/outcome.py", None, team="CHK", pi="PI now", outcome="CHK-1")

    assert not team.exception and not outcome.exception
    team_links = {unescape(label) for label, target in page_links(team) if target == "metric"}
    assert team_links == {"Checkout conversion", "Payment errors", "Time to pay", "Metric history"}
    assert ("History", "metric") in page_links(outcome)


def test_an_editor_corrects_and_archives_a_release_from_the_history(ws: Workspace) -> None:
    with write_session(ws.engine) as session:
        release = writes.create_release(
            session, actor=ADMIN, team_id=ws.chk, name="v2.2", date=TODAY
        )
        release_id = release.id
    at = history(ws.editor)

    by_label(at.text_input, "Name").set_value("v2.2.1")
    button(at, "Save release").click().run()

    assert not at.exception
    assert "Saved release v2.2.1" in unescape(texts(at))
    with write_session(ws.engine) as session:
        assert session.get(Release, release_id).name == "v2.2.1"

    button(at, "Archive this release").click().run()

    assert not at.exception
    assert "Archived the release v2.2.1" in unescape(texts(at))
    with write_session(ws.engine) as session:
        assert session.get(Release, release_id).archived is True
    assert not [s for s in at.selectbox if s.label == "Release to correct"]


def test_readers_get_no_release_corrections(ws: Workspace) -> None:
    at = history(ws.viewer)

    assert not [b for b in at.button if b.label in ("Save release", "Archive this release")]
