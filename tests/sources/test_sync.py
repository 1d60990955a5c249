"""Sync against real sources: SQL on a PostgreSQL "warehouse" database and a SQLite file,
a real Prometheus with backfilled history, and local HTTP servers for http_json and
csv_url; and every failure the issue lists, each writing nothing for its metric."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine, func, select

from core.access import Actor
from core.errors import PermissionDenied
from db.engine import read_session, write_session
from db.models import AuditEvent, MetricSource, Reading
from db.sources import list_sources, set_metric_source
from sources.sync import FAILED, NOTHING_NEW, OK, sync_sources, try_source
from tests.prometheus_server import SERIES, PrometheusServer, day_value
from tests.sources.fixtures import (
    ADMIN,
    WAREHOUSE_QUERY,
    WAREHOUSE_ROWS,
    HttpServer,
    Secrets,
    Workspace,
)

TODAY = dt.date(2026, 12, 1)
SYNC = Actor.system("sync")


def _connect(ws: Workspace, spec: dict[str, str], metric: str = "Signups") -> None:
    with write_session(ws.engine) as session:
        set_metric_source(session, actor=ADMIN, metric_id=ws.metric_ids[metric], spec=spec)


def _readings(engine: Engine, metric_id: int) -> list[tuple[dt.date, float, str]]:
    with read_session(engine) as session:
        rows = session.execute(
            select(Reading.date, Reading.value, Reading.source)
            .where(Reading.metric_id == metric_id)
            .order_by(Reading.date)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _source(engine: Engine, metric_id: int) -> MetricSource:
    with read_session(engine) as session:
        return session.scalars(
            select(MetricSource).where(MetricSource.metric_id == metric_id)
        ).one()


def _sync(ws: Workspace, **options: object):  # type: ignore[no-untyped-def]
    return sync_sources(ws.engine, actor=SYNC, today=TODAY, **options)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- each kind


@pytest.mark.parametrize("warehouse", ["sqlite_warehouse", "postgres_warehouse"])
def test_sql_source_writes_its_rows_once(
    warehouse: str, request: pytest.FixtureRequest, workspace: Workspace, secrets: Secrets
) -> None:
    secrets.add("warehouse", request.getfixturevalue(warehouse))
    _connect(workspace, {"kind": "sql", "connection": "warehouse", "query": WAREHOUSE_QUERY})

    first = _sync(workspace)
    second = _sync(workspace)

    assert [(r.outcome, r.added) for r in first] == [(OK, len(WAREHOUSE_ROWS))]
    assert [(r.outcome, r.added, r.skipped) for r in second] == [
        (NOTHING_NEW, 0, len(WAREHOUSE_ROWS))
    ]
    stored = _readings(workspace.engine, workspace.metric_ids["Signups"])
    assert [(d, v) for d, v, _ in stored] == WAREHOUSE_ROWS
    assert {source for _, _, source in stored} == {"sync"}
    assert _source(workspace.engine, workspace.metric_ids["Signups"]).last_outcome == NOTHING_NEW


def test_sql_source_with_one_value_row_is_todays_value(
    workspace: Workspace, secrets: Secrets, sqlite_warehouse: str
) -> None:
    secrets.add("warehouse", sqlite_warehouse)
    query = "SELECT sum(signups) AS value FROM daily_signups"
    _connect(workspace, {"kind": "sql", "connection": "warehouse", "query": query})

    [result] = _sync(workspace)

    assert result.outcome == OK
    total = sum(v for _, v in WAREHOUSE_ROWS)
    assert [(d, v) for d, v, _ in _readings(workspace.engine, workspace.metric_ids["Signups"])] == [
        (TODAY, total)
    ]


def test_sql_source_is_read_only(
    workspace: Workspace, secrets: Secrets, sqlite_warehouse: str
) -> None:
    secrets.add("warehouse", sqlite_warehouse)
    _connect(
        workspace,
        {
            "kind": "sql",
            "connection": "warehouse",
            "query": "DELETE FROM daily_signups RETURNING day AS date, signups AS value",
        },
    )

    [result] = _sync(workspace)

    assert result.outcome == FAILED
    secrets.add("warehouse", sqlite_warehouse)
    _connect(workspace, {"kind": "sql", "connection": "warehouse", "query": WAREHOUSE_QUERY})
    assert _sync(workspace)[0].added == len(WAREHOUSE_ROWS)  # nothing was deleted


def test_prometheus_source_gives_one_value_per_finished_day(
    workspace: Workspace, secrets: Secrets, prometheus: PrometheusServer
) -> None:
    secrets.add("metrics", prometheus.url)
    _connect(workspace, {"kind": "prometheus", "connection": "metrics", "query": SERIES})
    today = prometheus.today
    since = today - dt.timedelta(days=30)

    first = sync_sources(workspace.engine, actor=SYNC, today=today, since=since)
    second = sync_sources(workspace.engine, actor=SYNC, today=today, since=since)

    assert [(r.outcome, r.added) for r in first] == [(OK, 30)]
    assert [(r.outcome, r.added) for r in second] == [(NOTHING_NEW, 0)]
    expected = [(since + dt.timedelta(days=i)) for i in range(30)]
    stored = _readings(workspace.engine, workspace.metric_ids["Signups"])
    assert [(d, v) for d, v, _ in stored] == [(day, day_value(day)) for day in expected]


def test_prometheus_expression_with_several_series_is_refused(
    workspace: Workspace, secrets: Secrets, prometheus: PrometheusServer
) -> None:
    secrets.add("metrics", prometheus.url)
    query = (
        f'label_replace({SERIES}, "x", "a", "", "") or label_replace({SERIES}, "x", "b", "", "")'
    )
    _connect(workspace, {"kind": "prometheus", "connection": "metrics", "query": query})

    [result] = sync_sources(workspace.engine, actor=SYNC, today=prometheus.today)

    assert result.outcome == FAILED and "2 series" in result.error


def test_http_json_source_with_jmespath_and_secret_header(
    workspace: Workspace, secrets: Secrets, http_server: HttpServer
) -> None:
    document = {
        "data": {"series": [{"day": "2026-11-01", "n": 4.5}, {"day": "2026-11-08", "n": 5}]}
    }
    url = http_server.route("/kpi.json", json.dumps(document))
    secrets.add("kpi", url, headers={"Authorization": "Bearer s3cret-token"})
    _connect(
        workspace,
        {
            "kind": "http_json",
            "connection": "kpi",
            "points": "data.series",
            "date": "day",
            "value": "n",
        },
    )

    [result] = _sync(workspace)

    assert (result.outcome, result.added) == (OK, 2)
    assert http_server.requests[-1]["Authorization"] == "Bearer s3cret-token"
    assert [(d, v) for d, v, _ in _readings(workspace.engine, workspace.metric_ids["Signups"])] == [
        (dt.date(2026, 11, 1), 4.5),
        (dt.date(2026, 11, 8), 5.0),
    ]


def test_csv_url_source_uses_the_reading_file_rules(
    workspace: Workspace, secrets: Secrets, http_server: HttpServer
) -> None:
    url = http_server.route(
        "/sheet.csv", "Date;Value\n01.11.2026;2,5\n08.11.2026;3,25\n", content_type="text/csv"
    )
    _connect(workspace, {"kind": "csv_url", "url": url})

    [result] = _sync(workspace)

    assert (result.outcome, result.added) == (OK, 2)
    assert [(d, v) for d, v, _ in _readings(workspace.engine, workspace.metric_ids["Signups"])] == [
        (dt.date(2026, 11, 1), 2.5),
        (dt.date(2026, 11, 8), 3.25),
    ]


# ---------------------------------------------------------------------------- failures


def _assert_failed_and_nothing_written(ws: Workspace, result: object, words: str) -> None:
    assert result.outcome == FAILED, result  # type: ignore[attr-defined]
    assert words in result.error, result.error  # type: ignore[attr-defined]
    assert _readings(ws.engine, ws.metric_ids["Signups"]) == []
    source = _source(ws.engine, ws.metric_ids["Signups"])
    assert source.last_outcome == FAILED and words in source.last_error
    assert source.failing_since is not None


def test_server_down(workspace: Workspace, secrets: Secrets) -> None:
    from tests.app_server import free_port

    _connect(workspace, {"kind": "csv_url", "url": f"http://127.0.0.1:{free_port()}/x.csv"})
    [result] = _sync(workspace)
    _assert_failed_and_nothing_written(workspace, result, "cannot be reached")


def test_timeout_on_a_server_that_never_answers(
    workspace: Workspace, secrets: Secrets, http_server: HttpServer
) -> None:
    url = http_server.route("/slow.json", "[]", hang=30)
    _connect(workspace, {"kind": "http_json", "url": url})
    [result] = _sync(workspace, timeout=1.0)
    _assert_failed_and_nothing_written(workspace, result, "did not answer within 1 s")


def test_http_500(workspace: Workspace, secrets: Secrets, http_server: HttpServer) -> None:
    url = http_server.route("/broken.json", "oops", status=500)
    _connect(workspace, {"kind": "http_json", "url": url})
    [result] = _sync(workspace)
    _assert_failed_and_nothing_written(workspace, result, "answered HTTP 500")


def test_malformed_json(workspace: Workspace, secrets: Secrets, http_server: HttpServer) -> None:
    url = http_server.route("/bad.json", '[{"date": "2026-11-01", "value": 1},')
    _connect(workspace, {"kind": "http_json", "url": url})
    [result] = _sync(workspace)
    _assert_failed_and_nothing_written(workspace, result, "not valid JSON")


@pytest.mark.parametrize(
    ("points", "words"),
    [
        (
            [{"date": "2026-11-01", "value": 1}, {"date": "2026-11-08", "value": "n/a"}],
            "point 2: value 'n/a' is not a number",
        ),
        (
            [{"date": "2026-11-01", "value": 1}, {"date": "2026-12-25", "value": 2}],
            "point 2: date 2026-12-25 is in the future",
        ),
        (
            [{"date": "2026-11-01", "value": 1}, {"date": "2026-11-01", "value": 2}],
            "point 1: date 2026-11-01 appears again in point 2",
        ),
    ],
    ids=["not-a-number", "future-date", "duplicate-date"],
)
def test_bad_points_are_named_and_nothing_is_written(
    workspace: Workspace,
    secrets: Secrets,
    http_server: HttpServer,
    points: list[object],
    words: str,
) -> None:
    url = http_server.route("/points.json", json.dumps(points))
    _connect(workspace, {"kind": "http_json", "url": url})
    [result] = _sync(workspace)
    _assert_failed_and_nothing_written(workspace, result, words)


def test_stored_value_that_differs_is_a_conflict_without_replace(
    workspace: Workspace, secrets: Secrets, http_server: HttpServer
) -> None:
    route = http_server.route("/points.json", json.dumps([{"date": "2026-11-01", "value": 1}]))
    _connect(workspace, {"kind": "http_json", "url": route})
    assert _sync(workspace)[0].added == 1
    http_server.route(
        "/points.json",
        json.dumps([{"date": "2026-11-01", "value": 2}, {"date": "2026-11-02", "value": 3}]),
    )

    [refused] = _sync(workspace)
    [replaced] = _sync(workspace, replace=True)

    assert refused.outcome == FAILED
    assert (
        "point 1: a different value 1 is stored for Signups on 2026-11-01; use replace"
        in refused.error
    )
    assert (replaced.outcome, replaced.added, replaced.replaced) == (OK, 1, 1)
    stored = _readings(workspace.engine, workspace.metric_ids["Signups"])
    assert [(d, v) for d, v, _ in stored] == [
        (dt.date(2026, 11, 1), 2.0),
        (dt.date(2026, 11, 2), 3.0),
    ]


def test_missing_secret_names_where_to_configure_it(workspace: Workspace, secrets: Secrets) -> None:
    _connect(workspace, {"kind": "sql", "connection": "warehouse", "query": "SELECT 1 AS value"})
    [result] = _sync(workspace)
    _assert_failed_and_nothing_written(
        workspace, result, "connection 'warehouse' is not configured"
    )
    assert "OUTCOMES_CONNECTION_WAREHOUSE" in result.error


def test_too_many_rows_are_cut_at_the_limit(
    workspace: Workspace, secrets: Secrets, sqlite_warehouse: str
) -> None:
    secrets.add("warehouse", sqlite_warehouse)
    # A query of 10 million rows: read no further than the limit.
    query = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000) "
        "SELECT date('2000-01-01', '+' || (i % 9000) || ' days') AS date, i AS value FROM n"
    )
    _connect(workspace, {"kind": "sql", "connection": "warehouse", "query": query})
    [result] = _sync(workspace)
    _assert_failed_and_nothing_written(workspace, result, "more than 50,000 points")


def test_one_failing_source_does_not_stop_the_others(
    workspace: Workspace, secrets: Secrets, http_server: HttpServer
) -> None:
    good = http_server.route("/good.json", json.dumps([{"date": "2026-11-01", "value": 1}]))
    bad = http_server.route("/bad.json", "nope", status=500)
    _connect(workspace, {"kind": "http_json", "url": bad}, metric="Revenue")
    _connect(workspace, {"kind": "http_json", "url": good}, metric="Signups")

    results = {r.metric: r.outcome for r in _sync(workspace)}

    assert results == {"Revenue": FAILED, "Signups": OK}


def test_secrets_never_reach_messages_the_database_or_the_audit_log(
    workspace: Workspace, secrets: Secrets
) -> None:
    from tests.app_server import free_port

    password = "hunter2-very-secret"
    secrets.add(
        "warehouse",
        f"postgresql+psycopg://reader:{password}@127.0.0.1:{free_port()}/warehouse",
    )
    _connect(workspace, {"kind": "sql", "connection": "warehouse", "query": "SELECT 1 AS value"})

    [result] = _sync(workspace)

    assert result.outcome == FAILED and password not in result.error
    with read_session(workspace.engine) as session:
        stored = " ".join(
            str(x)
            for row in session.execute(select(MetricSource.spec, MetricSource.last_error))
            for x in row
        )
        audit = " ".join(
            f"{e.summary} {e.before} {e.after}" for e in session.scalars(select(AuditEvent))
        )
    assert password not in stored and password not in audit


def test_sync_is_audited_once_per_metric_with_the_count(
    workspace: Workspace, secrets: Secrets, sqlite_warehouse: str
) -> None:
    secrets.add("warehouse", sqlite_warehouse)
    _connect(workspace, {"kind": "sql", "connection": "warehouse", "query": WAREHOUSE_QUERY})
    with read_session(workspace.engine) as session:
        before = session.scalar(select(func.count()).select_from(AuditEvent))

    _sync(workspace)
    _sync(workspace)

    with read_session(workspace.engine) as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id).offset(before)).all()
    assert len(events) == 1
    assert json.loads(events[0].after)["added"] == len(WAREHOUSE_ROWS)
    assert json.loads(events[0].after)["source"] == "sync"


def test_editor_of_another_team_may_not_sync_or_configure(
    workspace: Workspace, secrets: Secrets
) -> None:
    outsider = Actor("olly", "editor", frozenset({workspace.team_id + 100}))
    _connect(workspace, {"kind": "csv_url", "url": "http://127.0.0.1:9/x.csv"})

    with pytest.raises(PermissionDenied):
        sync_sources(workspace.engine, actor=outsider, today=TODAY)
    with pytest.raises(PermissionDenied), write_session(workspace.engine) as session:
        set_metric_source(
            session, actor=outsider, metric_id=workspace.metric_ids["Signups"], spec=None
        )


def test_dry_run_writes_nothing(
    workspace: Workspace, secrets: Secrets, sqlite_warehouse: str
) -> None:
    secrets.add("warehouse", sqlite_warehouse)
    _connect(workspace, {"kind": "sql", "connection": "warehouse", "query": WAREHOUSE_QUERY})

    [result] = _sync(workspace, dry_run=True)

    assert (result.outcome, result.added) == (OK, len(WAREHOUSE_ROWS))
    assert _readings(workspace.engine, workspace.metric_ids["Signups"]) == []
    assert _source(workspace.engine, workspace.metric_ids["Signups"]).last_sync_at is None


def test_try_source_previews_without_writing(
    workspace: Workspace, secrets: Secrets, sqlite_warehouse: str
) -> None:
    from core.sources import parse_spec

    secrets.add("warehouse", sqlite_warehouse)
    spec = parse_spec({"kind": "sql", "connection": "warehouse", "query": WAREHOUSE_QUERY})

    tried = try_source(
        workspace.engine, spec, actor=ADMIN, team="Checkout", metric="Signups", today=TODAY
    )

    assert tried.problems == [] and tried.total == len(WAREHOUSE_ROWS) and tried.added == 8
    assert [(p.date, p.value) for p in tried.preview][:2] == WAREHOUSE_ROWS[:2]
    assert _readings(workspace.engine, workspace.metric_ids["Signups"]) == []
    with read_session(workspace.engine) as session:
        assert list_sources(session) == []


@pytest.mark.parametrize(
    ("warehouse", "query"),
    [
        ("postgres_warehouse", "SELECT CURRENT_DATE AS date, 1 AS value FROM pg_sleep(5)"),
        (
            "sqlite_warehouse",
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
            "SELECT date('now') AS date, count(*) AS value FROM n",
        ),
    ],
    ids=["postgresql-statement-timeout", "sqlite-interrupted"],
)
def test_sql_query_that_runs_too_long_is_stopped(
    warehouse: str,
    query: str,
    request: pytest.FixtureRequest,
    workspace: Workspace,
    secrets: Secrets,
) -> None:
    secrets.add("warehouse", request.getfixturevalue(warehouse))
    _connect(workspace, {"kind": "sql", "connection": "warehouse", "query": query})
    [result] = _sync(workspace, timeout=1.0)
    _assert_failed_and_nothing_written(workspace, result, "took longer than 1 s")


def test_sql_query_text_reaches_the_database_as_written(
    workspace: Workspace, secrets: Secrets, postgres_warehouse: str
) -> None:
    secrets.add("warehouse", postgres_warehouse)
    query = WAREHOUSE_QUERY.replace("ORDER BY", "WHERE 'abc' LIKE 'a%' AND ':x' = ':x' ORDER BY")
    _connect(workspace, {"kind": "sql", "connection": "warehouse", "query": query})
    assert _sync(workspace)[0].added == len(WAREHOUSE_ROWS)


def test_a_source_failing_for_three_days_is_listed_for_the_overview(
    workspace: Workspace, secrets: Secrets
) -> None:
    from db.sources import failing_sources

    _connect(workspace, {"kind": "csv_url", "url": "http://127.0.0.1:9/x.csv"})
    [result] = _sync(workspace)
    assert result.outcome == FAILED
    since = _source(workspace.engine, workspace.metric_ids["Signups"]).failing_since
    assert since is not None

    with read_session(workspace.engine) as session:
        soon = failing_sources(session, now=since + dt.timedelta(days=2, hours=23))
        later = failing_sources(session, now=since + dt.timedelta(days=3))
    assert soon == [] and [row.metric for row in later] == ["Signups"]


@pytest.mark.parametrize("warehouse", ["sqlite_warehouse", "postgres_warehouse"])
def test_one_sync_opens_one_engine_per_connection_and_closes_it(
    warehouse: str,
    request: pytest.FixtureRequest,
    workspace: Workspace,
    secrets: Secrets,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two metrics on one warehouse share its engine within a sync (not one engine and one
    connection per metric), and the sync closes it: nothing stays open afterwards."""
    import sources.sql
    from core.sources import parse_spec

    made: list[Engine] = []
    real_create_engine = sources.sql.create_engine

    def counting_create_engine(*args: object, **kwargs: object) -> Engine:
        engine = real_create_engine(*args, **kwargs)  # type: ignore[arg-type]
        made.append(engine)
        return engine

    monkeypatch.setattr(sources.sql, "create_engine", counting_create_engine)
    secrets.add("warehouse", request.getfixturevalue(warehouse))
    spec = {"kind": "sql", "connection": "warehouse", "query": WAREHOUSE_QUERY}
    _connect(workspace, spec, metric="Signups")
    _connect(workspace, spec, metric="Revenue")

    results = {r.metric: (r.outcome, r.added) for r in _sync(workspace)}

    assert results == {m: (OK, len(WAREHOUSE_ROWS)) for m in ("Signups", "Revenue")}
    assert len(made) == 1
    assert made[0].pool.checkedin() == 0  # disposed: its pooled connection is closed
    # The Test button (outside a sync) still opens and closes an engine of its own.
    tried = try_source(
        workspace.engine,
        parse_spec(spec),
        actor=ADMIN,
        team="Checkout",
        metric="Signups",
        today=TODAY,
    )
    assert tried.problems == [] and len(made) == 2  # unpooled: it keeps no connection
