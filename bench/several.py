"""The protocol load against several `streamlit run` processes behind nginx on one
PostgreSQL database (issue 18): the deployment of deploy/several.py, run as the README
says, with the bench workspace built into a scratch database of the given server.

The same plan, levels and writers run against 1 process, then against 2 (or whatever
`--processes` lists), each behind its own nginx, so the only difference is the number of
processes. Each session is pinned to a process by its `outcomes_node` cookie (nginx
hashes it, `hash ... consistent`): session i gets the cookie of process i mod n, so the
sessions spread evenly and the same way every run. The protocol client keeps that cookie
across the HTML fetch, host-config and the websocket; which process each session's
websocket reached is read from nginx's X-Outcomes-Upstream header and reported."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.browser import free_port
from bench.protocol import UPSTREAM_HEADER
from bench.workspace import WRITER_PREFIX

ROOT = Path(__file__).resolve().parent.parent
SEVERAL = ROOT / "deploy" / "several.py"
NODE_COOKIE = "outcomes_node"
PIN_PROBES = 200  # cookie values tried to find one per process (a hash: a few suffice)


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server of `server_url` (its user needs CREATEDB),
    dropped after: the load writes readings, and the given database stays untouched."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"outcomes_bench_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        try:
            yield url
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def load_workspace(database_url: str, sizes: Mapping[str, int]) -> float:
    """Migrate the empty database and build the bench workspace into it: the same
    deterministic generator, sizes and date as the SQLite file, so the same workspace.
    Returns the build's seconds."""
    from bench.report import build
    from db.engine import make_engine
    from db.migrate import upgrade

    engine = make_engine(database_url)
    try:
        upgrade(engine)
        return build(engine, dict(sizes))
    finally:
        engine.dispose()


def remove_writer_rows_at(database_url: str) -> None:
    """The writers' readings and audit events, removed between deployments so each one
    starts from the same workspace (bench.workspace.remove_writer_rows, any database)."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            pattern = {"pattern": f"{WRITER_PREFIX}%"}
            connection.execute(text("DELETE FROM readings WHERE entered_by LIKE :pattern"), pattern)
            connection.execute(text("DELETE FROM audit_events WHERE actor LIKE :pattern"), pattern)
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Deployment:
    """nginx at `base_url` in front of app processes: their ports and pids, and a cookie
    value per process that nginx sends to it, by the process's upstream address."""

    base_url: str
    ports: tuple[int, ...]
    pids: tuple[int, ...]
    pins: Mapping[str, str]

    @property
    def upstreams(self) -> list[str]:
        return [f"127.0.0.1:{port}" for port in self.ports]

    def cookies_for(self, session: int) -> dict[str, str]:
        """Session i's cookies: the pin of process i mod n."""
        return {NODE_COOKIE: self.pins[self.upstreams[session % len(self.ports)]]}


def upstream_of(base_url: str, cookie: str) -> str:
    """The process nginx sends a browser with this `outcomes_node` cookie to."""
    request = urllib.request.Request(
        f"{base_url}/_stcore/health", headers={"Cookie": f"{NODE_COOKIE}={cookie}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(response.headers[UPSTREAM_HEADER])


def find_pins(base_url: str, upstreams: list[str]) -> dict[str, str]:
    """A cookie value per process: nginx's consistent hash always sends a value to the
    same process while the upstream list is unchanged."""
    pins: dict[str, str] = {}
    for probe in range(PIN_PROBES):
        value = f"bench-{probe}"
        pins.setdefault(upstream_of(base_url, value), value)
        if all(upstream in pins for upstream in upstreams):
            return {upstream: pins[upstream] for upstream in upstreams}
    raise RuntimeError(f"nginx sent {PIN_PROBES} cookies only to {sorted(pins)}, not {upstreams}")


@contextlib.contextmanager
def deployment(
    database_url: str, *, processes: int, run_dir: Path, nginx: str = "/usr/sbin/nginx"
) -> Iterator[Deployment]:
    """`deploy/several.py start` with `processes` app processes on free loopback ports
    and nginx on another, on the migrated database; `stop` after (also on errors)."""
    ports = tuple(free_port() for _ in range(processes))
    listen = free_port()
    env = {
        **os.environ,
        "OUTCOMES_DATABASE_URL": database_url,
        "OUTCOMES_DEMO": "false",
        "OUTCOMES_PUBLIC_READ": "true",  # as bench.browser.app_server: anonymous viewers
        "STREAMLIT_SERVER_COOKIE_SECRET": uuid.uuid4().hex,
        "OUTCOMES_APP_PORTS": " ".join(map(str, ports)),
        "OUTCOMES_LISTEN": f"127.0.0.1:{listen}",
        "OUTCOMES_RUN_DIR": str(run_dir),
        "OUTCOMES_NGINX": nginx,
    }

    def several(command: str) -> None:
        subprocess.run([sys.executable, str(SEVERAL), command], env=env, check=True, cwd=ROOT)

    try:
        several("start")
        pids = tuple(int((run_dir / f"app-{port}.pid").read_text()) for port in ports)
        base_url = f"http://127.0.0.1:{listen}"
        upstreams = [f"127.0.0.1:{port}" for port in ports]
        yield Deployment(base_url, ports, pids, find_pins(base_url, upstreams))
    finally:
        several("stop")
