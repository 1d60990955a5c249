"""The HTTP API through real HTTP against `streamlit run app.py`: the pages' server also
answers /api/v1/ (PRODUCT.md, HTTP API)."""

from __future__ import annotations

import datetime as dt
import sqlite3

import httpx
import pytest

from core.access import Actor
from db.engine import make_engine, write_session
from db.tokens import revoke_token
from tests.api.conftest import Server

METRIC = "Checkout conversion"


def api_readings(server: Server, where: str = "source = 'api'") -> int:
    path = server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        return connection.execute(f"SELECT count(*) FROM readings WHERE {where}").fetchone()[0]


def audit_actors(server: Server) -> list[str]:
    path = server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT actor FROM audit_events WHERE entity = 'reading' ORDER BY id"
        ).fetchall()
    return [row[0] for row in rows]


def post(server: Server, token: str | None, body: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{server.base_url}/api/v1/readings", json=body, headers=headers, timeout=60)


def reading(day: dt.date, value: float, team: str = "CHK", metric: str = METRIC) -> dict:
    return {"team": team, "metric": metric, "date": day.isoformat(), "value": value}


def test_health_answers_200(server: Server) -> None:
    response = httpx.get(f"{server.base_url}/api/v1/health", timeout=30)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Basic abc", "Bearer obt_nope", "Bearer obt_000000000000_wrongsecret"],
)
def test_missing_or_bad_token_is_401_with_a_json_error(server: Server, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx.post(
        f"{server.base_url}/api/v1/readings",
        json={"readings": [reading(dt.date(2014, 1, 1), 1.0)]},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"]
    assert api_readings(server, "date = '2014-01-01'") == 0


def test_post_writes_and_the_same_post_twice_writes_once(server: Server) -> None:
    token = server.token("twice")
    body = {"readings": [reading(dt.date(2014, 2, 1), 2.5), reading(dt.date(2014, 2, 2), 2.6)]}
    first = post(server, token, body)
    second = post(server, token, body)
    assert first.status_code == 200, first.text
    assert first.json() == {"written": 2, "added": 2, "replaced": 0, "skipped": 0}
    assert second.json() == {"written": 0, "added": 0, "replaced": 0, "skipped": 2}
    assert api_readings(server, "date IN ('2014-02-01', '2014-02-02')") == 2
    assert "token:twice" in audit_actors(server)


def test_a_thousand_rows_in_one_post(server: Server) -> None:
    token = server.token("thousand")
    start = dt.date(2015, 1, 1)
    rows = [reading(start + dt.timedelta(days=i), 2.0 + i / 1000) for i in range(1_000)]
    response = post(server, token, {"readings": rows})
    assert response.status_code == 200, response.text
    assert response.json()["added"] == 1_000
    assert api_readings(server, "date >= '2015-01-01' AND date < '2018-01-01'") == 1_000


def test_bad_rows_are_422_listing_each_by_index_and_field(server: Server) -> None:
    token = server.token("bad-rows")
    rows = [
        reading(dt.date(2014, 3, 1), 1.0),
        {"team": "CHK", "metric": METRIC, "date": "2014-13-01", "value": 1.0},
        {"team": "CHK", "metric": METRIC, "date": "2014-03-03", "value": "2,5"},
        reading(dt.date(2014, 3, 4), 1.0, metric="No such metric"),
    ]
    response = post(server, token, {"readings": rows})
    assert response.status_code == 422
    problems = {(p["index"], p["field"]) for p in response.json()["problems"]}
    assert problems == {(1, "date"), (2, "value"), (3, "metric")}
    assert api_readings(server, "date >= '2014-03-01' AND date < '2014-04-01'") == 0


def test_a_different_value_needs_replace(server: Server) -> None:
    token = server.token("replace")
    assert post(server, token, {"readings": [reading(dt.date(2014, 4, 1), 1.0)]}).is_success
    refused = post(server, token, {"readings": [reading(dt.date(2014, 4, 1), 1.5)]})
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["field"] == "value"
    replaced = post(
        server, token, {"readings": [reading(dt.date(2014, 4, 1), 1.5)], "replace": True}
    )
    assert replaced.json()["replaced"] == 1


def test_a_forged_team_in_one_row_refuses_the_whole_post_with_403(server: Server) -> None:
    token = server.token("forger")
    rows = [reading(dt.date(2014, 5, 1), 1.0), reading(dt.date(2014, 5, 2), 1.0, team="RSK")]
    response = post(server, token, {"readings": rows})
    assert response.status_code == 403
    assert "nothing was written" in response.json()["error"]
    assert api_readings(server, "date >= '2014-05-01' AND date < '2014-06-01'") == 0


def test_a_report_token_may_not_write(server: Server) -> None:
    token = server.token("reader", scope="report:read")
    response = post(server, token, {"readings": [reading(dt.date(2014, 6, 1), 1.0)]})
    assert response.status_code == 403
    assert api_readings(server, "date = '2014-06-01'") == 0


def test_a_revoked_token_fails_at_once(server: Server) -> None:
    token = server.token("short-lived")
    assert post(server, token, {"readings": [reading(dt.date(2014, 7, 1), 1.0)]}).is_success
    engine = make_engine(server.database_url)
    with write_session(engine) as session:
        revoke_token(session, actor=Actor.system("test"), name="short-lived")
    engine.dispose()
    response = post(server, token, {"readings": [reading(dt.date(2014, 7, 2), 1.0)]})
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]


def test_report_is_the_report_json(server: Server) -> None:
    response = httpx.get(
        f"{server.base_url}/api/v1/report",
        params={"pi": "PI 26.4", "as_of": "2026-11-02"},
        timeout=60,
    )
    assert response.status_code == 200
    report = response.json()
    assert (report["pi"], report["as_of"]) == ("PI 26.4", "2026-11-02")
    assert {"train", "teams"} <= set(report)


@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "pi"), ({"pi": "PI 99.9"}, "pi"), ({"pi": "PI 26.4", "as_of": "soon"}, "as_of")],
)
def test_report_names_a_bad_parameter(server: Server, params: dict, field: str) -> None:
    response = httpx.get(f"{server.base_url}/api/v1/report", params=params, timeout=60)
    assert response.status_code == 422
    assert [p["field"] for p in response.json()["problems"]] == [field]


def test_deep_link_page_still_served_beside_the_api(server: Server) -> None:
    response = httpx.get(f"{server.base_url}/team?team=CHK", timeout=30)
    assert response.status_code == 200
    assert '<div id="root">' in response.text
