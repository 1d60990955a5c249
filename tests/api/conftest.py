"""The app under `streamlit run app.py` (pages and HTTP API in one server) on a free
loopback port, with its own SQLite file holding the demo workspace placed around
DEMO_TODAY; and helpers to make tokens with the command line's own functions."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.access import Actor
from db.engine import make_engine, write_session
from db.migrate import upgrade
from db.tokens import create_token
from seed.demo import load_demo
from tests.app_server import app_command, free_port
from tests.conftest import DEMO_TODAY

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@dataclass(frozen=True)
class Server:
    base_url: str
    database_url: str
    folder: Path

    def token(self, name: str, team: str = "CHK", scope: str = "readings:write") -> str:
        engine = make_engine(self.database_url)
        try:
            with write_session(engine) as session:
                _, secret = create_token(
                    session, actor=Actor.system("test"), name=name, team_key=team, scope=scope
                )
        finally:
            engine.dispose()
        return secret


def start_server(folder: Path, database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    environment = {**os.environ, "OUTCOMES_DATABASE_URL": database_url, "OUTCOMES_DEMO": "false"}
    command = app_command(port, day=DEMO_TODAY)
    log = (folder / "streamlit.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=log)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _answers(f"{base_url}/_stcore/health"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"streamlit did not start: see {folder / 'streamlit.log'}")
        time.sleep(0.2)
    return process, base_url


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def demo_database(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    load_demo(engine, today=DEMO_TODAY)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for a test module, on its own demo database."""
    folder = tmp_path_factory.mktemp("api_server")
    url = demo_database(folder / "outcomes.db")
    process, base_url = start_server(folder, url)
    try:
        yield Server(base_url, url, folder)
    finally:
        stop_server(process)
