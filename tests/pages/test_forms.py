"""The shared forms (check-in, metrics) and the helpers behind every update form: escaping
user text, reading the grid, the import preview."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.access import Actor
from core.changes import MetricChanges
from core.errors import Problem
from core.reading_files import parse_reading_file
from db import writes
from db.engine import read_session, write_session
from db.models import CheckIn, Metric
from db.readings import check_readings
from db.writes import ReadingEntry
from tests.pages.update_workspace import (
    ADMIN,
    TODAY,
    Workspace,
    button,
    by_label,
    texts,
    unescape,
)
from ui import state
from ui.reading_forms import MetricRow, import_preview, metric_rows, typed_entries
from ui.text import escape_markdown


def checkin_app(outcome_id: int, team_id: int | None) -> None:
    import streamlit as st

    from ui import state
    from ui.data import get_engine
    from ui.forms import checkin_form
    from ui.frame import PAGES, Frame

    actor = st.session_state[state.ACTOR]
    checkin_form(Frame(get_engine(), actor, PAGES["outcome"]), outcome_id, team_id)


def metrics_app(team_id: int, team_name: str) -> None:
    import streamlit as st

    from ui import state
    from ui.data import get_engine
    from ui.forms import metrics_editor
    from ui.frame import PAGES, Frame

    actor = st.session_state[state.ACTOR]
    frame = Frame(get_engine(), actor, PAGES["plan"])
    metrics_editor(frame, team_id=team_id, team_name=team_name, context="test")


def run(script: object, actor: Actor, *args: object) -> AppTest:
    at = AppTest.from_function(script, args=args, default_timeout=60)  # type: ignore[arg-type]
    at.session_state[state.ACTOR] = actor
    at.run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> str:
    return unescape("\n".join(e.value for e in at.error))


# ---------------------------------------------------------------- check-ins


def test_a_check_in_lands_with_its_audit(ws: Workspace) -> None:
    at = run(checkin_app, ws.editor, ws.outcome, ws.chk)
    by_label(at.slider, "Confidence").set_value(7)
    by_label(at.text_area, "Comment").set_value("on track after v2.3")

    button(at, "Check in").click().run()

    assert "Checked in with confidence 7" in unescape(texts(at))
    assert ws.count(CheckIn, CheckIn.confidence == 7, CheckIn.by == "edith") == 1
    assert len(ws.audit("checkin", "create")) == 1
    assert by_label(at.text_area, "Comment").value == ""  # a fresh form


@pytest.mark.parametrize("who", ["viewer", "other team's editor"])
def test_no_check_in_form_for_who_may_not_edit_the_team(ws: Workspace, who: str) -> None:
    actor = ws.viewer if who == "viewer" else ws.editor
    team = ws.chk if who == "viewer" else ws.src

    at = run(checkin_app, actor, ws.outcome, team)

    assert not at.button and not at.slider


def test_a_too_long_comment_is_named_and_nothing_is_written(ws: Workspace) -> None:
    at = run(checkin_app, ws.editor, ws.outcome, ws.chk)
    by_label(at.text_area, "Comment").set_value("x" * 2001)

    button(at, "Check in").click().run()

    assert "**Comment**: is too long" in errors(at)
    assert ws.count(CheckIn) == 0
    assert len(by_label(at.text_area, "Comment").value) == 2001


def test_the_same_check_in_twice_writes_once(ws: Workspace) -> None:
    form = f"checkin.{ws.outcome}"
    at = run(checkin_app, ws.editor, ws.outcome, ws.chk)
    at.session_state[state.SUBMISSIONS] = {form: "checkin-click-1"}
    button(at, "Check in").click().run()

    at.session_state[state.SUBMISSIONS] = {form: "checkin-click-1"}
    button(at, "Check in").click().run()

    assert "Already saved" in unescape(texts(at))
    assert ws.count(CheckIn) == 1


# ---------------------------------------------------------------- metrics


def metric_field(at: AppTest, team_id: int, name: str, record: str = "", gen: int = 0) -> object:
    form = f"test.metric.{record or f'new.{team_id}'}"
    widgets = {"leading": at.checkbox, "description": at.text_area}.get(name)
    if widgets is None:
        numbers = ("update_interval_days", "decimals")
        widgets = at.number_input if name in numbers else at.text_input
    return widgets(key=f"{form}#{gen}.{name}")


def test_adding_a_metric_lands_with_its_audit(ws: Workspace) -> None:
    at = run(metrics_app, ws.editor, ws.chk, "Checkout")
    metric_field(at, ws.chk, "name").set_value("Refund rate")
    metric_field(at, ws.chk, "unit").set_value("%")
    metric_field(at, ws.chk, "update_interval_days").set_value(7)
    metric_field(at, ws.chk, "leading").check()

    button(at, "Add metric").click().run()

    assert "Added metric Refund rate to Checkout" in unescape(texts(at))
    assert ws.count(Metric, Metric.name == "Refund rate", Metric.update_interval_days == 7) == 1
    assert ws.audit("metric", "create")[-1].summary == "metric Refund rate"


@pytest.mark.parametrize(
    ("name", "interval", "message"),
    [
        ("", 14, "**Name**: is required"),
        ("Checkout conversion", 14, "**Name**: a metric with this name or key already exists"),
        ("R" * 121, 14, "**Name**: is too long (121 characters, at most 120)"),
    ],
)
def test_an_invalid_metric_field_is_named_and_nothing_is_written(
    ws: Workspace, name: str, interval: int, message: str
) -> None:
    at = run(metrics_app, ws.editor, ws.chk, "Checkout")
    metric_field(at, ws.chk, "name").set_value(name)
    metric_field(at, ws.chk, "update_interval_days").set_value(interval)

    button(at, "Add metric").click().run()

    assert message in errors(at)
    assert ws.count(Metric) == 4


def test_a_stale_metric_is_refused_with_the_input_kept(ws: Workspace) -> None:
    at = run(metrics_app, ws.editor, ws.chk, "Checkout")
    by_label(at.selectbox, "Metric to edit").set_value(ws.errors).run()
    metric_field(at, ws.chk, "unit", str(ws.errors)).set_value("per hour")
    with write_session(ws.engine) as session:
        writes.update_metric(
            session,
            actor=ADMIN,
            metric_id=ws.errors,
            expected_version=1,
            changes=MetricChanges(decimals=2),
        )

    button(at, "Save metric").click().run()

    assert "changed by test-admin" in unescape(at.warning[0].value)
    assert metric_field(at, ws.chk, "unit", str(ws.errors)).value == "per hour"
    with read_session(ws.engine) as session:
        assert session.get(Metric, ws.errors).unit == "per day"


def test_the_same_metric_submission_twice_writes_once(ws: Workspace) -> None:
    form = f"test.metric.new.{ws.chk}"
    at = run(metrics_app, ws.editor, ws.chk, "Checkout")
    at.session_state[state.SUBMISSIONS] = {form: "metric-click-1"}
    metric_field(at, ws.chk, "name").set_value("Refund rate")
    button(at, "Add metric").click().run()

    at.session_state[state.SUBMISSIONS] = {form: "metric-click-1"}
    metric_field(at, ws.chk, "name", gen=1).set_value("Refund rate 2")
    button(at, "Add metric").click().run()

    assert "Already saved" in unescape(texts(at))
    assert ws.count(Metric) == 5


def test_archiving_a_metric_and_restoring_it(ws: Workspace) -> None:
    at = run(metrics_app, ws.editor, ws.chk, "Checkout")
    by_label(at.selectbox, "Metric to edit").set_value(ws.latency).run()

    button(at, "Archive this metric").click().run()

    assert ws.get(Metric, ws.latency).archived
    button(at, "Restore this metric").click().run()
    assert not ws.get(Metric, ws.latency).archived


def test_someone_who_may_not_edit_the_team_sees_its_metrics_read_only(ws: Workspace) -> None:
    at = run(metrics_app, ws.editor, ws.src, "Search")

    assert "You may not change this team's metrics" in texts(at)
    assert not at.button


# ---------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    "text",
    [
        "[click me](https://evil.test)",
        "![x](https://evil.test/p.png)",
        "**bold** _it_ `code` # heading",
        ":material/warning: :smile: $x^2$",
        "<script>alert(1)</script>",
    ],
)
def test_escaped_text_has_no_markdown_left(text: str) -> None:
    escaped = escape_markdown(text)

    assert unescape(escaped) == text.replace("\\", "")
    for special in "[]()*_`#:$<>!":
        assert all(escaped[i - 1] == "\\" for i, c in enumerate(escaped) if c == special)


LATEST = pd.DataFrame(
    {
        "metric_id": [1, 2],
        "metric": ["Conversion", "Errors"],
        "unit": ["%", ""],
        "decimals": [1, 0],
        "last_value": [2.2, None],
        "last_date": [TODAY - dt.timedelta(days=7), None],
    }
)
ROWS = [MetricRow(1, "Conversion", "%", ""), MetricRow(2, "Errors", "", "")]


@pytest.mark.parametrize(
    ("values", "dates", "notes", "entries", "problems"),
    [
        ({}, {}, {}, [], []),
        ({1: " 2.4 "}, {}, {}, [ReadingEntry(1, TODAY, "2.4")], []),
        ({1: "2,45"}, {}, {}, [ReadingEntry(1, TODAY, "2.45")], []),
        (
            {2: "0"},
            {2: dt.date(2026, 1, 5)},
            {2: " fixed "},
            [ReadingEntry(2, dt.date(2026, 1, 5), "0", "fixed")],
            [],
        ),
        ({}, {}, {2: "no value"}, [], [Problem("Errors: value", "a note needs a new value")]),
        ({1: "1"}, {1: None}, {}, [], [Problem("Conversion: date", "is required")]),
    ],
)
def test_the_form_gives_a_reading_for_each_value_typed(
    values: dict[int, str],
    dates: dict[int, dt.date | None],
    notes: dict[int, str],
    entries: list[ReadingEntry],
    problems: list[Problem],
) -> None:
    days = {1: TODAY, 2: TODAY} | dates
    assert typed_entries(ROWS, values, days, notes) == (entries, problems)


def test_the_form_shows_last_values_with_the_metric_decimals() -> None:
    rows = metric_rows(LATEST)

    assert [r.last for r in rows] == [f"2.2% on {(TODAY - dt.timedelta(days=7)).isoformat()}", ""]


def test_the_preview_lists_bad_rows_first_with_every_reason(ws: Workspace) -> None:
    data = (
        "team,metric,date,value\n"
        f"CHK,Checkout conversion,{TODAY.isoformat()},2.4\n"
        f"SRC,Search success,{TODAY.isoformat()},0.8\n"
        f"CHK,Time to pay,{TODAY.isoformat()},x\n"
    ).encode()
    parsed = parse_reading_file(data, "r.csv")
    with read_session(ws.engine) as session:
        plan = check_readings(session, rows=parsed.rows, replace=False)

    preview, file_problems = import_preview(parsed, plan, lambda team_id: team_id == ws.chk)

    assert file_problems == []
    assert list(preview["row"]) == [3, 4, 2]
    assert list(preview["status"]) == ["bad", "bad", "new"]
    assert "may not change readings of team 'Search'" in preview.loc[0, "problem"]


def test_the_preview_shows_no_none_in_a_bad_rows_missing_cells(ws: Workspace) -> None:
    data = f"team,metric,date,value\nCHK,Time to pay,{TODAY.isoformat()},x\n,,,\nCHK,,,1\n".encode()
    parsed = parse_reading_file(data, "r.csv")
    with read_session(ws.engine) as session:
        plan = check_readings(session, rows=parsed.rows, replace=False)

    preview, _ = import_preview(parsed, plan, lambda team_id: True)

    assert (preview["status"] == "bad").all()
    cells = preview.drop(columns="row").astype(str).to_numpy().ravel()
    assert not [c for c in cells if c in ("None", "nan", "NaT", "<NA>")]
