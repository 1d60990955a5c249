"""Who may read the report over the API: anyone while public read is on; with it off, a
`report:read` token (a write token is forbidden, no token is unauthorised). Starlette's
test client on the API's own routes, on both databases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.testclient import TestClient

import api.routes
from core.access import Actor
from db import writes
from db.engine import write_session
from db.tokens import create_token

PARAMS = {"pi": "PI 1", "as_of": "2026-10-20"}


@pytest.fixture
def client(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    admin = Actor.system("setup")
    with write_session(engine) as s:
        writes.create_team(s, actor=admin, name="Checkout", key="CHK")
        writes.create_pi(
            s,
            actor=admin,
            name="PI 1",
            start_date=dt.date(2026, 10, 5),
            end_date=dt.date(2026, 12, 14),
        )
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", database_url)
    monkeypatch.setattr(api.routes, "_engine", None)
    with TestClient(Starlette(routes=api.routes.api_routes())) as test_client:
        yield test_client
    if api.routes._engine is not None:
        api.routes._engine.dispose()


def token(engine: Engine, scope: str) -> str:
    with write_session(engine) as s:
        _, secret = create_token(s, actor=Actor.system(), name=scope, team_key="CHK", scope=scope)
    return secret


def test_public_read_needs_no_token(client: TestClient) -> None:
    response = client.get("/api/v1/report", params=PARAMS)
    assert response.status_code == 200
    assert response.json()["pi"] == "PI 1"


@pytest.mark.parametrize(
    ("scope", "status"), [(None, 401), ("readings:write", 403), ("report:read", 200)]
)
def test_without_public_read_a_report_token_is_needed(
    client: TestClient,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
    scope: str | None,
    status: int,
) -> None:
    monkeypatch.setenv("OUTCOMES_PUBLIC_READ", "false")
    headers = {"Authorization": f"Bearer {token(engine, scope)}"} if scope else {}
    response = client.get("/api/v1/report", params=PARAMS, headers=headers)
    assert response.status_code == status
    assert ("error" in response.json()) == (status != 200)


def test_a_bad_token_is_refused_even_while_public_read_is_on(client: TestClient) -> None:
    response = client.get(
        "/api/v1/report", params=PARAMS, headers={"Authorization": "Bearer obt_x_y"}
    )
    assert response.status_code == 401


def test_health(client: TestClient) -> None:
    assert client.get("/api/v1/health").json()["status"] == "ok"
