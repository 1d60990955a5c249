"""Fixtures for metric sources: a workspace with one team and its metrics, a secrets file
of named connections, local HTTP servers (good, slow, broken), a "warehouse" database on
the test PostgreSQL server and a SQLite one, and a real Prometheus with 60 days of history."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from core.access import Actor
from db import writes
from db.engine import write_session
from tests.conftest import POSTGRES_URL, skip_or_fail
from tests.prometheus_server import PrometheusServer, available, prometheus_server

ADMIN = Actor.system("test-admin")
TEAM = "Checkout"
TEAM_KEY = "CHK"


@dataclass(frozen=True)
class Workspace:
    engine: Engine
    team_id: int
    metric_ids: dict[str, int]


def make_workspace(engine: Engine, metrics: tuple[str, ...] = ("Signups",)) -> Workspace:
    with write_session(engine) as session:
        team = writes.create_team(session, actor=ADMIN, name=TEAM, key=TEAM_KEY)
        ids = {
            name: writes.create_metric(session, actor=ADMIN, team_id=team.id, name=name).id
            for name in metrics
        }
    return Workspace(engine, team.id, ids)


@pytest.fixture
def workspace(engine: Engine) -> Workspace:
    return make_workspace(engine, ("Signups", "Revenue"))


@dataclass
class Secrets:
    """A secrets.toml of its own for the test (OUTCOMES_SECRETS_FILE points at it)."""

    path: Path
    connections: dict[str, dict[str, object]] = field(default_factory=dict)

    def add(self, name: str, url: str, headers: dict[str, str] | None = None) -> None:
        self.connections[name] = {"url": url, **({"headers": headers} if headers else {})}
        lines = []
        for key, entry in self.connections.items():
            lines += [f"[connections.{key}]", f"url = {_toml(str(entry['url']))}"]
            if entry.get("headers"):
                lines.append(f"[connections.{key}.headers]")
                lines += [f"{h} = {_toml(v)}" for h, v in entry["headers"].items()]  # type: ignore[union-attr]
        self.path.write_text("\n".join(lines) + "\n", "utf-8")


def _toml(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture
def secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Secrets:
    path = tmp_path / "secrets.toml"
    path.write_text("", "utf-8")
    monkeypatch.setenv("OUTCOMES_SECRETS_FILE", str(path))
    for variable in list(os.environ):
        if variable.startswith("OUTCOMES_CONNECTION_"):
            monkeypatch.delenv(variable)
    return Secrets(path)


# ---------------------------------------------------------------------------- HTTP


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    hang: float = 0.0  # seconds to wait before answering (a server that never answers)


@dataclass
class HttpServer:
    url: str
    routes: dict[str, Route]
    requests: list[dict[str, str]]

    def route(self, path: str, body: str | bytes, **options: object) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Route(body=data, **options)  # type: ignore[arg-type]
        return self.url + path


@pytest.fixture
def http_server() -> Iterator[HttpServer]:
    routes: dict[str, Route] = {}
    seen: list[dict[str, str]] = []
    stop = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(dict(self.headers))
            route = routes.get(self.path.split("?")[0])
            if route is None:
                self.send_error(404)
                return
            if route.hang:
                stop.wait(route.hang)
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield HttpServer(f"http://127.0.0.1:{server.server_address[1]}", routes, seen)
    stop.set()
    server.shutdown()
    server.server_close()


# ---------------------------------------------------------------------------- warehouses

WAREHOUSE_ROWS = [(dt.date(2026, 10, 1) + dt.timedelta(days=7 * i), 100.0 + i) for i in range(8)]
WAREHOUSE_QUERY = "SELECT day AS date, signups AS value FROM daily_signups ORDER BY day"


def _fill_warehouse(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE daily_signups (day DATE, signups FLOAT)"))
        connection.execute(
            text("INSERT INTO daily_signups (day, signups) VALUES (:day, :value)"),
            [{"day": day, "value": value} for day, value in WAREHOUSE_ROWS],
        )


@pytest.fixture
def sqlite_warehouse(tmp_path: Path) -> str:
    """A SQLite file holding a warehouse table (a database that is not the app's)."""
    url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    engine = create_engine(url)
    _fill_warehouse(engine)
    engine.dispose()
    return url


@pytest.fixture
def postgres_warehouse() -> Iterator[str]:
    """A separate database on the test PostgreSQL server holding the warehouse table."""
    if not POSTGRES_URL:
        skip_or_fail("OUTCOMES_TEST_POSTGRES_URL is not set (PostgreSQL warehouse)")
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"warehouse_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    _fill_warehouse(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# ---------------------------------------------------------------------------- Prometheus


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    if not available():
        skip_or_fail("Debian's prometheus and promtool are missing (apt-get install prometheus)")
    with prometheus_server(tmp_path_factory.mktemp("prometheus")) as server:
        yield server


def wait_until(check: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
