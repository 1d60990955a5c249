"""Record page: log a release, save the readings grid at once (never replacing silently),
import a file with a preview of every bad row, export; each write exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from db.engine import write_session
from db.models import PI, AuditEvent, Hypothesis, Metric, Reading, Release, Team
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
from tests.workspace import Builder
from ui import state

LAST_WEEK = TODAY - dt.timedelta(days=7)
YESTERDAY = TODAY - dt.timedelta(days=1)
METRICS = {
    "conversion": "Checkout conversion",
    "errors": "Payment errors",
    "latency": "Time to pay",
}


def record(ws: Workspace, **params: str) -> AppTest:
    at = page("pages/record.py", ws.editor, **({"team": "CHK"} | params))
    assert not at.exception, at.exception
    return at


def fill_release(
    at: AppTest,
    name: str,
    link: str = "",
    hypotheses: Sequence[int] = (),
    notes: str = "",
) -> None:
    by_label(at.text_input, "Release name").set_value(name)
    by_label(at.text_input, "Link").set_value(link)
    by_label(at.text_input, "Notes").set_value(notes)
    by_label(at.date_input, "Release date").set_value(TODAY - dt.timedelta(days=1))
    if hypotheses:
        by_label(at.multiselect, "Hypotheses it ships").set_value(list(hypotheses))


def value_box(at: AppTest, metric: str) -> Any:
    """The New value box of a metric (labelled with its name and unit, escaped)."""
    found = [w for w in at.text_input if w.label.split(" (")[0] == metric]
    assert len(found) == 1, [w.label for w in at.text_input]
    return found[0]


def type_values(at: AppTest, **values: str) -> None:
    """Type into the metrics' boxes; by metric: conversion, errors, latency."""
    for short, text in values.items():
        value_box(at, METRICS[short]).set_value(text)


def reading_date(at: AppTest, short: str, day: dt.date) -> None:
    by_label(at.date_input, f"{METRICS[short]}: date").set_value(day)


def reading_note(at: AppTest, short: str, note: str) -> None:
    by_label(at.text_input, f"{METRICS[short]}: note").set_value(note)


def errors_said(at: AppTest) -> str:
    return unescape("\n".join(e.value for e in at.error))


def replay(at: AppTest, form: str, key: str) -> None:
    """Send the next submit with this idempotency key, as a double click or a reconnect
    that repeats an earlier submission does."""
    keys = (
        dict(at.session_state[state.SUBMISSIONS]) if state.SUBMISSIONS in at.session_state else {}
    )
    keys[form] = key
    at.session_state[state.SUBMISSIONS] = keys


# ---------------------------------------------------------------- access


def test_team_picker_offers_only_teams_the_editor_may_change(ws: Workspace) -> None:
    at = record(ws, team="SRC")

    assert "You may not change team SRC" in texts(at)
    picker = by_label(at.selectbox, "Team")
    assert picker.options == ["Checkout"] and picker.value == "CHK"


def test_viewer_gets_no_record_controls(ws: Workspace) -> None:
    at = page("pages/record.py", ws.viewer, team="CHK")

    assert not at.exception
    assert "for an editor or admin" in texts(at)
    assert not [b for b in at.button if b.label in ("Save", "Save release", "Delete…")]


# ---------------------------------------------------------------- the one form: release


def test_one_save_logs_the_release_and_every_reading_and_names_them_all(ws: Workspace) -> None:
    at = record(ws)
    fill_release(at, "v2.3", "https://example.test/v2.3", [ws.hypothesis], notes="one-click pay")
    type_values(at, conversion="2.4", errors="35", latency="1.9")
    reading_note(at, "errors", "after the fix")
    reading_date(at, "latency", LAST_WEEK)

    button(at, "Save").click().run()

    assert not at.exception
    said = unescape(texts(at))
    assert (
        f"Logged release v2.3 on {YESTERDAY.isoformat()}, shipping 1 hypothesis and saved 3 "
        f"readings: Checkout conversion 2.4 on {TODAY.isoformat()}, Payment errors 35 on "
        f"{TODAY.isoformat()}, Time to pay 1.9 on {LAST_WEEK.isoformat()}." in said
    )
    assert ws.count(Release, Release.name == "v2.3") == 1
    assert ws.get(Hypothesis, ws.hypothesis).release_id is not None
    assert ws.readings(ws.conversion)[TODAY] == 2.4
    assert ws.readings(ws.latency) == {LAST_WEEK: 1.9}
    assert ws.count(Reading, Reading.source == "bulk") == 3
    assert [e.summary for e in ws.audit("release", "create")] == ["release v2.3"]
    assert ws.audit("hypothesis", "update")[-1].summary == "shipped in v2.3"
    events = ws.audit("reading", "create")
    assert len(events) == 3 and "3 added" in events[-1].summary  # seed's two, then ours
    link = next(p for p in at.get("page_link") if p.proto.label == "See them on the team page")
    assert "team=CHK" in link.proto.page or link.proto.query_string == "team=CHK"
    assert by_label(at.text_input, "Release name").value == ""  # a fresh form
    assert value_box(at, "Checkout conversion").value == ""


def test_readings_alone_save_without_a_release(ws: Workspace) -> None:
    at = record(ws)
    type_values(at, conversion="68.17")

    button(at, "Save").click().run()

    said = unescape(texts(at))
    assert f"Saved 1 reading on {TODAY.isoformat()}: Checkout conversion 68.17." in said
    assert ws.readings(ws.conversion)[TODAY] == 68.17
    assert ws.count(Release) == 0


def test_a_release_alone_is_logged(ws: Workspace) -> None:
    at = record(ws)
    fill_release(at, "v2.3")

    button(at, "Save").click().run()

    assert f"Logged release v2.3 on {YESTERDAY.isoformat()}." in unescape(texts(at))
    assert ws.count(Release) == 1 and ws.count(Reading) == 3


@pytest.mark.parametrize(
    ("name", "link", "notes", "message"),
    [
        ("", "", "notes without a name", "**Release name**: is required to log a release"),
        ("", "https://example.test", "", "**Release name**: is required to log a release"),
        ("v2.3", "ftp://example.test", "", "**Link**: must start with http"),
    ],
)
def test_a_half_filled_or_invalid_release_writes_nothing_at_all(
    ws: Workspace, name: str, link: str, notes: str, message: str
) -> None:
    at = record(ws)
    fill_release(at, name, link, notes=notes)
    type_values(at, conversion="2.4")

    button(at, "Save").click().run()

    assert not at.exception
    assert message in errors_said(at)
    assert ws.count(Release) == 0
    assert TODAY not in ws.readings(ws.conversion)  # the readings neither
    assert by_label(at.text_input, "Link").value == link  # the input is kept
    assert value_box(at, "Checkout conversion").value == "2.4"


def test_a_bad_value_names_its_metric_and_writes_neither_release_nor_readings(
    ws: Workspace,
) -> None:
    at = record(ws)
    fill_release(at, "v2.3")
    type_values(at, conversion="2.4", errors="thirty")

    button(at, "Save").click().run()

    assert "**Payment errors: value**: “thirty” is not a number" in errors_said(at)
    assert ws.count(Release) == 0
    assert TODAY not in ws.readings(ws.conversion)
    assert value_box(at, "Payment errors").value == "thirty"


def test_a_release_name_already_used_writes_no_readings(ws: Workspace) -> None:
    with write_session(ws.engine) as session:
        Builder(session, actor=ADMIN).release(session.get(Team, ws.chk), "v2.3", LAST_WEEK)
    at = record(ws)
    fill_release(at, "v2.3")
    type_values(at, conversion="2.4")

    button(at, "Save").click().run()

    assert "**Release name**: a release with this name or key already exists" in errors_said(at)
    assert ws.count(Release) == 1
    assert TODAY not in ws.readings(ws.conversion)


def paste(at: AppTest, text: str) -> None:
    by_label(at.text_area, "Or paste the values").set_value(text)


def test_a_pasted_column_saves_every_metric_with_the_release_in_one_save(
    ws: Workspace,
) -> None:
    at = record(ws)
    fill_release(at, "v2.3")
    paste(at, "2.4\n35\n1.9\n")  # the form's order: conversion, errors, time to pay

    button(at, "Save").click().run()

    assert not at.exception
    said = unescape(texts(at))
    assert "Logged release v2.3" in said and "saved 3 readings" in said
    assert ws.readings(ws.conversion)[TODAY] == 2.4
    assert ws.readings(ws.errors)[TODAY] == 35
    assert ws.readings(ws.latency)[TODAY] == 1.9
    assert by_label(at.text_area, "Or paste the values").value == ""  # a fresh form


def test_pasted_names_and_values_fill_the_metrics_they_name(ws: Workspace) -> None:
    at = record(ws)
    type_values(at, conversion="2.4")
    paste(at, "Time to pay (s)\t1.9\npayment errors 35\nCheckout conversion\t2.4")

    button(at, "Save").click().run()

    assert "Saved 3 readings" in unescape(texts(at))
    assert ws.readings(ws.latency)[TODAY] == 1.9 and ws.readings(ws.errors)[TODAY] == 35


@pytest.mark.parametrize(
    ("pasted", "typed", "message"),
    [
        ("2.4\n35\n1.9\n7", {}, "**Paste values**: 4 lines for the team's 3 metrics"),
        ("Revenue\t12", {}, "**Paste values: line 1**: 'Revenue' is not a metric of this team"),
        ("2.5", {"conversion": "2.4"}, "**Checkout conversion: value**: typed '2.4' and pasted"),
        ("2.4\nthirty", {}, "**Payment errors: value**: “thirty” is not a number"),
    ],
)
def test_a_paste_that_cannot_be_read_is_named_and_writes_nothing(
    ws: Workspace, pasted: str, typed: dict[str, str], message: str
) -> None:
    at = record(ws)
    fill_release(at, "v2.3")
    type_values(at, **typed)
    paste(at, pasted)

    button(at, "Save").click().run()

    assert not at.exception
    assert message in errors_said(at)
    assert ws.count(Release) == 0
    assert TODAY not in ws.readings(ws.conversion)
    assert by_label(at.text_area, "Or paste the values").value == pasted  # the input is kept


def test_a_decimal_comma_is_read_as_a_point(ws: Workspace) -> None:
    at = record(ws)
    type_values(at, conversion="2,45")

    button(at, "Save").click().run()

    assert ws.readings(ws.conversion)[TODAY] == 2.45


def test_the_same_submission_twice_writes_once(ws: Workspace) -> None:
    form = f"record.{ws.chk}"
    at = record(ws)
    replay(at, form, "click-1")
    fill_release(at, "v2.3")
    type_values(at, conversion="2.4")
    button(at, "Save").click().run()

    replay(at, form, "click-1")
    fill_release(at, "v2.3")
    type_values(at, conversion="2.5")
    button(at, "Save").click().run()

    assert not at.exception
    assert "Already saved" in unescape(texts(at))
    assert ws.count(Release) == 1
    assert len(ws.audit("release", "create")) == 1
    assert ws.readings(ws.conversion)[TODAY] == 2.4
    assert ws.count(AuditEvent, AuditEvent.entity == "reading") == 3  # seed (two) + one save


def test_only_the_current_pis_hypotheses_are_offered(ws: Workspace) -> None:
    with write_session(ws.engine) as session:
        b = Builder(session, actor=ADMIN)
        later = b.outcome(session.get(PI, ws.next_pi), session.get(Team, ws.chk), "CHK-9", "Next")
        drafted = b.hypothesis(
            later,
            session.get(Metric, ws.conversion),
            if_text="we copy it ahead",
            expect_text="nothing yet",
            because_text="it is next PI's",
            min_effect=0.1,
        ).id

    at = record(ws)

    offered = by_label(at.multiselect, "Hypotheses it ships").options
    assert len(offered) == 1 and "CHK-1 (PI now)" in offered[0]
    assert all("CHK-9" not in o for o in offered) and drafted


# ---------------------------------------------------------------- the readings


def test_the_form_shows_every_metric_with_its_last_reading(ws: Workspace) -> None:
    at = record(ws)

    shown = unescape("\n".join(t.value for t in at.text))
    assert "last 2.2% on" in shown and "last 40 per day on" in shown and "no reading yet" in shown
    assert "None" not in shown
    assert [by_label(at.date_input, f"{m}: date").value for m in METRICS.values()] == [TODAY] * 3


def test_a_note_without_a_value_is_named_and_nothing_is_written(ws: Workspace) -> None:
    at = record(ws)
    type_values(at, conversion="2.4")
    reading_note(at, "errors", "forgot the value")

    button(at, "Save").click().run()

    assert "**Payment errors: value**: a note needs a new value" in errors_said(at)
    assert TODAY not in ws.readings(ws.conversion)


def test_saving_an_empty_form_writes_nothing(ws: Workspace) -> None:
    at = record(ws)

    button(at, "Save").click().run()

    assert "Nothing to save yet" in texts(at)
    assert ws.count(Reading) == 3 and ws.count(Release) == 0


def test_a_different_value_on_a_stored_date_asks_before_replacing(ws: Workspace) -> None:
    at = record(ws)
    fill_release(at, "v2.3")
    type_values(at, conversion="9.9", latency="1.8")
    reading_date(at, "conversion", LAST_WEEK)

    button(at, "Save").click().run()

    assert "already have a different reading" in texts(at)
    shown = at.dataframe[-1].value
    assert (shown.iloc[0]["Stored"], shown.iloc[0]["New"]) == (2.2, 9.9)
    assert ws.readings(ws.conversion)[LAST_WEEK] == 2.2  # nothing replaced silently
    assert ws.readings(ws.latency) == {}  # nor anything else written
    assert ws.count(Release) == 0  # the release neither
    assert value_box(at, "Checkout conversion").value == "9.9"  # the input is kept

    button(at, "Replace these readings").click().run()

    assert not at.exception
    said = unescape(texts(at))
    assert "Logged release v2.3" in said and "1 replaced" in said
    assert "already have a different reading" not in texts(at)
    assert ws.readings(ws.conversion)[LAST_WEEK] == 9.9
    assert ws.readings(ws.latency) == {TODAY: 1.8}
    assert ws.count(Release) == 1
    event = ws.audit("reading", "update")[-1]
    assert '"value": 2.2' in (event.before or "")


def test_keeping_the_stored_readings_writes_nothing(ws: Workspace) -> None:
    at = record(ws)
    type_values(at, conversion="9.9")
    reading_date(at, "conversion", LAST_WEEK)
    button(at, "Save").click().run()

    button(at, "Keep the stored ones").click().run()

    assert "already have a different reading" not in texts(at)
    assert ws.readings(ws.conversion)[LAST_WEEK] == 2.2


# ---------------------------------------------------------------- corrections


def with_release(ws: Workspace, name: str = "v2.2") -> int:
    with write_session(ws.engine) as session:
        return Builder(session, actor=ADMIN).release(session.get(Team, ws.chk), name, LAST_WEEK).id


def test_a_release_is_corrected_from_record(ws: Workspace) -> None:
    release_id = with_release(ws)
    at = record(ws)
    assert "v2.2" in by_label(at.selectbox, "Release to correct").options[0]

    by_label(at.text_input, "Name").set_value("v2.2.1")
    by_label(at.text_input, "Release notes").set_value("hotfix")
    button(at, "Save release").click().run()

    assert not at.exception
    assert "Saved release v2.2.1" in unescape(texts(at))
    stored = ws.get(Release, release_id)
    assert (stored.name, stored.notes) == ("v2.2.1", "hotfix")
    assert ws.audit("release", "update")[-1].entity_id == release_id


def test_an_archived_release_leaves_the_choices_and_stays_in_the_audit(ws: Workspace) -> None:
    release_id = with_release(ws)
    at = record(ws)

    button(at, "Archive this release").click().run()

    assert not at.exception
    assert "Archived the release" in unescape(texts(at))
    assert ws.get(Release, release_id).archived is True
    assert '"archived": true' in (ws.audit("release", "update")[-1].after or "")
    assert not [s for s in at.selectbox if s.label == "Release to correct"]


def test_a_reading_is_deleted_from_record_after_confirming(ws: Workspace) -> None:
    at = record(ws)
    by_label(at.selectbox, "Metric of the reading").set_value("Checkout conversion").run()
    chosen = by_label(at.selectbox, "Reading to delete")
    assert "2.2" in chosen.format_func(chosen.value)  # newest first

    button(at, "Delete…").click().run()
    assert "Delete the reading of Checkout conversion" in unescape(texts(at))
    assert ws.count(Reading) == 3  # nothing before the confirmation

    button(at, "Yes, delete").click().run()

    assert not at.exception
    assert ws.readings(ws.conversion) == {TODAY - dt.timedelta(days=14): 2.1}
    event = ws.audit("reading", "delete")[-1]
    assert "Checkout conversion" in event.summary and "2.2" in event.summary


# ---------------------------------------------------------------- import


def upload(at: AppTest, content: str, name: str = "readings.csv") -> AppTest:
    at.file_uploader[0].set_value((name, content.encode("utf-8"), "text/csv"))
    return at.run()


def preview(at: AppTest) -> pd.DataFrame:
    return next(t.value for t in at.dataframe if "problem" in t.value.columns)


def metric_value(at: AppTest, label: str) -> str:
    return str(by_label(at.metric, label).value)


GOOD_FILE = (
    "Team;Metric;Date;Value;Note\n"
    f"CHK;Checkout conversion;{TODAY.isoformat()};2,45;after v2.3\n"
    f"Checkout;Time to pay;{TODAY.isoformat()};1.9;\n"
    f"CHK;Checkout conversion;{LAST_WEEK.isoformat()};2.2;\n"
)


def test_importing_a_good_file_shows_the_preview_then_writes_it(ws: Workspace) -> None:
    at = upload(record(ws), GOOD_FILE)

    assert (metric_value(at, "New readings"), metric_value(at, "Identical (skipped)")) == ("2", "1")
    assert list(preview(at)["status"]) == ["new", "new", "identical: skipped"]
    assert ws.count(Reading) == 3  # nothing written before the click

    button(at, "Import 2 readings").click().run()

    assert not at.exception
    assert "2 added, 0 replaced, 1 identical rows skipped" in unescape(texts(at))
    assert ws.readings(ws.conversion)[TODAY] == 2.45
    assert ws.count(Reading, Reading.source == "import") == 2
    assert [e.action for e in ws.audit("reading")][-1] == "import"


def test_every_bad_row_is_marked_with_its_reason_and_nothing_is_written(ws: Workspace) -> None:
    content = (
        "team,metric,date,value\n"
        f"CHK,Checkout conversion,{TODAY.isoformat()},2.4\n"
        f"CHK,No such metric,{TODAY.isoformat()},1\n"
        f"CHK,Time to pay,{TODAY.isoformat()},fast\n"
        f"SRC,Search success,{TODAY.isoformat()},0.8\n"
        f"CHK,Checkout conversion,{LAST_WEEK.isoformat()},3.0\n"
        "CHK,Time to pay,2026-02-30,1\n"
    )
    at = upload(record(ws), content)

    rows = preview(at).set_index("row")
    assert sorted(rows.index[rows["status"] == "bad"]) == [3, 4, 5, 6, 7]
    assert "has no metric 'No such metric'" in rows.loc[3, "problem"]
    assert rows.loc[4, "problem"]  # not a number
    assert "may not change readings of team 'Search'" in rows.loc[5, "problem"]
    assert "use replace" in rows.loc[6, "problem"]
    assert rows.loc[7, "problem"]  # no 30 February
    assert rows.loc[2, "status"] == "new"
    assert metric_value(at, "Bad rows") == "5"
    assert button(at, "Import 1 reading").disabled
    assert ws.count(Reading) == 3


def test_replacing_a_stored_value_needs_the_replace_box(ws: Workspace) -> None:
    content = f"team,metric,date,value\nCHK,Checkout conversion,{LAST_WEEK.isoformat()},3.0\n"
    at = upload(record(ws), content)
    assert button(at, "Import 0 readings").disabled

    by_label(at.checkbox, "Replace stored readings that differ").check().run()

    assert preview(at).iloc[0]["status"] == "replaces the stored value"
    button(at, "Import 1 reading").click().run()
    assert ws.readings(ws.conversion)[LAST_WEEK] == 3.0


def test_importing_the_same_file_again_adds_nothing(ws: Workspace) -> None:
    at = upload(record(ws), GOOD_FILE)
    button(at, "Import 2 readings").click().run()

    at = upload(at, GOOD_FILE)

    assert "Every row is already stored" in texts(at)
    assert button(at, "Import 0 readings").disabled
    assert ws.count(Reading) == 5


def test_the_same_import_submission_twice_writes_once(ws: Workspace) -> None:
    at = upload(record(ws), GOOD_FILE)
    replay(at, "record.import", "import-click-1")
    button(at, "Import 2 readings").click().run()

    at = upload(at, GOOD_FILE.replace("2,45", "2,46"), "second.csv")
    by_label(at.checkbox, "Replace stored readings that differ").check().run()
    replay(at, "record.import", "import-click-1")
    button(at, "Import 1 reading").click().run()

    assert "Already saved" in unescape(texts(at))
    assert ws.readings(ws.conversion)[TODAY] == 2.45


def test_a_file_that_is_not_a_reading_file_is_refused_whole(ws: Workspace) -> None:
    at = upload(record(ws), "name,age\nada,36\n")

    rows = preview(at).set_index("row")
    assert "missing column 'team'" in rows.loc[1, "problem"]
    assert not [b for b in at.button if b.label.startswith("Import") and not b.disabled]


def test_export_offers_csv_and_excel(ws: Workspace) -> None:
    at = record(ws)

    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download CSV", "Download Excel"]
