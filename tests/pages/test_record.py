"""Record page: log a release, save the readings grid at once (never replacing silently),
import a file with a preview of every bad row, export; each write exactly once."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from db.models import AuditEvent, Hypothesis, Reading, Release
from tests.pages.update_workspace import (
    TODAY,
    Workspace,
    button,
    by_label,
    page,
    texts,
    unescape,
)
from ui import state

LAST_WEEK = TODAY - dt.timedelta(days=7)


def record(ws: Workspace, **params: str) -> AppTest:
    at = page("pages/record.py", ws.editor, **({"team": "CHK"} | params))
    assert not at.exception, at.exception
    return at


def fill_release(at: AppTest, name: str, link: str = "", hypotheses: list[int] = ()) -> None:
    by_label(at.text_input, "Release name").set_value(name)
    by_label(at.text_input, "Link").set_value(link)
    by_label(at.date_input, "Release date").set_value(TODAY - dt.timedelta(days=1))
    if hypotheses:
        by_label(at.multiselect, "Hypotheses it ships").set_value(list(hypotheses))


def grid(at: AppTest, ws: Workspace, generation: int = 0, **rows: dict[str, object]) -> None:
    """Type into the readings grid; rows by metric order: conversion, errors, latency."""
    order = {"conversion": 0, "errors": 1, "latency": 2}
    at.session_state[f"record.readings.{ws.chk}#{generation}.grid"] = {
        "edited_rows": {order[name]: cells for name, cells in rows.items()},
        "added_rows": [],
        "deleted_rows": [],
    }


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
    assert not [b for b in at.button if b.label in ("Log release", "Save readings")]


# ---------------------------------------------------------------- release


def test_logging_a_release_lands_with_its_audit_and_ships_the_hypotheses(ws: Workspace) -> None:
    at = record(ws)
    fill_release(at, "v2.3", "https://example.test/v2.3", [ws.hypothesis])

    button(at, "Log release").click().run()

    assert not at.exception
    assert "Logged release v2.3" in unescape(texts(at))
    assert ws.count(Release, Release.name == "v2.3") == 1
    assert ws.get(Hypothesis, ws.hypothesis).release_id is not None
    assert [e.summary for e in ws.audit("release", "create")] == ["release v2.3"]
    assert ws.audit("hypothesis", "update")[-1].summary == "shipped in v2.3"
    assert by_label(at.text_input, "Release name").value == ""  # a fresh form


@pytest.mark.parametrize(
    ("name", "link", "message"),
    [
        ("", "", "**Release name**: is required"),
        ("v2.3", "ftp://example.test", "**Link**: must start with http"),
    ],
)
def test_an_invalid_release_field_is_named_and_nothing_is_written(
    ws: Workspace, name: str, link: str, message: str
) -> None:
    at = record(ws)
    fill_release(at, name, link)

    button(at, "Log release").click().run()

    assert message in unescape("\n".join(e.value for e in at.error))
    assert ws.count(Release) == 0
    assert by_label(at.text_input, "Link").value == link  # the input is kept


def test_the_same_release_submission_twice_writes_once(ws: Workspace) -> None:
    form = f"record.release.{ws.chk}"
    at = record(ws)
    replay(at, form, "release-click-1")
    fill_release(at, "v2.3")
    button(at, "Log release").click().run()

    replay(at, form, "release-click-1")
    fill_release(at, "v2.3")
    button(at, "Log release").click().run()

    assert not at.exception
    assert "Already saved" in unescape(texts(at))
    assert ws.count(Release) == 1
    assert len(ws.audit("release", "create")) == 1


# ---------------------------------------------------------------- the readings grid


def test_the_grid_shows_every_metric_with_its_last_reading(ws: Workspace) -> None:
    at = record(ws)

    shown = at.data_editor[0].value
    assert list(shown["Metric"]) == ["Checkout conversion", "Payment errors", "Time to pay"]
    assert list(shown["Last value"]) == ["2.2", "40", ""]
    assert list(shown["Date"]) == [TODAY] * 3


def test_one_save_writes_every_filled_row_and_says_what_it_wrote(ws: Workspace) -> None:
    at = record(ws)
    grid(
        at,
        ws,
        conversion={"New value": 2.4},
        errors={"New value": 35, "Note": "after the fix"},
        latency={"New value": 1.9, "Date": LAST_WEEK.isoformat()},
    )

    button(at, "Save readings").click().run()

    assert not at.exception
    said = unescape(texts(at))
    assert "Saved 3 readings (3 new)" in said
    assert f"Time to pay 1.9 on {LAST_WEEK.isoformat()}" in said
    assert ws.readings(ws.conversion)[TODAY] == 2.4
    assert ws.readings(ws.latency) == {LAST_WEEK: 1.9}
    assert ws.count(Reading, Reading.source == "bulk") == 3
    events = ws.audit("reading", "create")
    # the seed's two (one per metric), then ours: one event for the whole save
    assert len(events) == 3 and "3 added" in events[-1].summary
    link = next(p for p in at.get("page_link") if p.proto.label == "See them on the team page")
    assert "team=CHK" in link.proto.page or link.proto.query_string == "team=CHK"
    assert list(at.data_editor[0].value["Last value"]) == ["2.4", "35", "1.9"]


def test_a_note_without_a_value_is_named_and_nothing_is_written(ws: Workspace) -> None:
    at = record(ws)
    grid(at, ws, conversion={"New value": 2.4}, errors={"Note": "forgot the value"})

    button(at, "Save readings").click().run()

    assert "**Payment errors: value**: a note needs a new value" in unescape(at.error[0].value)
    assert TODAY not in ws.readings(ws.conversion)


def test_saving_an_empty_grid_writes_nothing(ws: Workspace) -> None:
    at = record(ws)

    button(at, "Save readings").click().run()

    assert "Nothing to save yet" in texts(at)
    assert ws.count(Reading) == 3


def test_a_different_value_on_a_stored_date_asks_before_replacing(ws: Workspace) -> None:
    at = record(ws)
    edits = {"New value": 9.9, "Date": LAST_WEEK.isoformat()}
    grid(at, ws, conversion=edits, latency={"New value": 1.8})

    button(at, "Save readings").click().run()

    assert "already have a different reading" in texts(at)
    shown = at.dataframe[-1].value
    assert (shown.iloc[0]["Stored"], shown.iloc[0]["New"]) == (2.2, 9.9)
    assert ws.readings(ws.conversion)[LAST_WEEK] == 2.2  # nothing replaced silently
    assert ws.readings(ws.latency) == {}  # nor anything else written
    edited = at.session_state[f"record.readings.{ws.chk}#0.grid"]["edited_rows"]
    assert edited.get(0, edited.get("0")) == edits  # the input is kept

    button(at, "Replace these readings").click().run()

    assert not at.exception
    assert "1 replaced" in unescape(texts(at))
    assert "already have a different reading" not in texts(at)
    assert ws.readings(ws.conversion)[LAST_WEEK] == 9.9
    assert ws.readings(ws.latency) == {TODAY: 1.8}
    event = ws.audit("reading", "update")[-1]
    assert '"value": 2.2' in (event.before or "")


def test_keeping_the_stored_readings_writes_nothing(ws: Workspace) -> None:
    at = record(ws)
    grid(at, ws, conversion={"New value": 9.9, "Date": LAST_WEEK.isoformat()})
    button(at, "Save readings").click().run()

    button(at, "Keep the stored ones").click().run()

    assert "already have a different reading" not in texts(at)
    assert ws.readings(ws.conversion)[LAST_WEEK] == 2.2


def test_the_same_grid_submission_twice_writes_once(ws: Workspace) -> None:
    form = f"record.readings.{ws.chk}"
    at = record(ws)
    replay(at, form, "grid-click-1")
    grid(at, ws, conversion={"New value": 2.4})
    button(at, "Save readings").click().run()

    replay(at, form, "grid-click-1")
    grid(at, ws, generation=1, conversion={"New value": 2.5})
    button(at, "Save readings").click().run()

    assert "Already saved" in unescape(texts(at))
    assert ws.readings(ws.conversion)[TODAY] == 2.4
    assert ws.count(AuditEvent, AuditEvent.entity == "reading") == 3  # seed (two) + one save


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
