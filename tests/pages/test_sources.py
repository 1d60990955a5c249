"""Metric sources on the pages: connect and Test on Plan (nothing written), save once,
Sync now on Record, every source's last sync on Admin, and sources failing for days on
the overview."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select, update

from db.engine import read_session, write_session
from db.models import AuditEvent, MetricSource, Reading
from db.sources import set_metric_source
from tests.pages.update_workspace import (
    TODAY,
    Workspace,
    button,
    by_label,
    open_workspace,
    page,
    texts,
    unescape,
)
from tests.sources.fixtures import HttpServer, Secrets

POINTS = [
    {"date": (TODAY - dt.timedelta(days=2)).isoformat(), "value": 3.5},
    {"date": (TODAY - dt.timedelta(days=1)).isoformat(), "value": 4.0},
]


@pytest.fixture
def ws(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    yield from open_workspace(database_url, monkeypatch)


def _count(ws: Workspace, model: type) -> int:
    with read_session(ws.engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _connect(ws: Workspace, url: str) -> None:
    with write_session(ws.engine) as session:
        set_metric_source(
            session,
            actor=ws.editor,
            metric_id=ws.conversion,
            spec={"kind": "http_json", "url": url},
        )


def test_plan_test_shows_rows_and_writes_nothing_then_save_writes_once(
    ws: Workspace, secrets: Secrets, http_server: HttpServer
) -> None:
    url = http_server.route("/kpi.json", json.dumps(POINTS))
    at = page("pages/plan.py", ws.editor, team="CHK")
    by_label(at.selectbox, "Source kind").set_value("http_json").run()
    by_label(at.text_input, "URL").set_value(url).run()
    audits = _count(ws, AuditEvent)

    button(at, "Test").click().run()

    assert not at.exception, at.exception
    assert "Test: 2 points read" in texts(at) and "Nothing was written." in texts(at)
    assert (_count(ws, MetricSource), _count(ws, Reading), _count(ws, AuditEvent)) == (
        0,
        _count(ws, Reading),
        audits,
    )
    button(at, "Save source").click().run()
    button(at, "Save source").click().run()  # a second click: the same spec, no new write
    assert not at.exception, at.exception
    assert "Source saved." in texts(at)
    assert _count(ws, MetricSource) == 1
    assert _count(ws, AuditEvent) == audits + 1


def test_plan_names_a_bad_field_and_saves_nothing(ws: Workspace, secrets: Secrets) -> None:
    at = page("pages/plan.py", ws.editor, team="CHK")
    by_label(at.selectbox, "Source kind").set_value("csv_url").run()
    by_label(at.text_input, "URL").set_value("ftp://files.example/x.csv").run()

    button(at, "Save source").click().run()

    assert not at.exception, at.exception
    assert "URL: must be an http:// or https:// URL" in unescape(texts(at))
    assert _count(ws, MetricSource) == 0


def test_record_sync_now_writes_the_readings_and_shows_the_outcome(
    ws: Workspace, secrets: Secrets, http_server: HttpServer
) -> None:
    _connect(ws, http_server.route("/kpi.json", json.dumps(POINTS)))
    before = _count(ws, Reading)
    at = page("pages/record.py", ws.editor, team="CHK")

    button(at, "Sync now").click().run()

    assert not at.exception, at.exception
    assert "Sync done: 2 readings added from 1 sources." in texts(at)
    assert _count(ws, Reading) == before + 2
    table = at.dataframe[-1].value
    assert list(table["outcome"]) == ["ok"]


def test_viewer_sees_the_sources_but_no_sync_button(
    ws: Workspace, secrets: Secrets, http_server: HttpServer
) -> None:
    _connect(ws, http_server.route("/kpi.json", json.dumps(POINTS)))
    at = page("pages/record.py", ws.viewer, team="CHK")
    assert not at.exception, at.exception
    assert not [b for b in at.button if b.label == "Sync now"]


def test_admin_lists_every_source_with_its_error(ws: Workspace, secrets: Secrets) -> None:
    _connect(ws, "http://127.0.0.1:9/down.json")
    with write_session(ws.engine) as session:
        session.execute(
            update(MetricSource).values(last_outcome="failed", last_error="cannot be reached")
        )
    from core.access import Actor

    at = page("pages/admin.py", Actor.system("admin"))

    assert not at.exception, at.exception
    tables = [d.value for d in at.dataframe if "error" in getattr(d.value, "columns", [])]
    assert any("cannot be reached" in list(t["error"]) for t in tables)


def test_overview_shows_sources_failing_for_three_days(ws: Workspace, secrets: Secrets) -> None:
    _connect(ws, "http://127.0.0.1:9/down.json")
    with write_session(ws.engine) as session:
        session.execute(
            update(MetricSource).values(
                last_outcome="failed",
                last_error="cannot be reached",
                failing_since=dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=4),
            )
        )
    at = page("app.py", None)

    assert not at.exception, at.exception
    assert "Failing metric sources" in [s.value for s in at.subheader]
    assert any("cannot be reached" in list(d.value.get("error", [])) for d in at.dataframe)
