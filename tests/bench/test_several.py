"""The protocol load against several processes behind nginx (bench/several.py, the
`--processes` option of bench/__main__.py): a tiny workspace in a scratch PostgreSQL
database, deploy/several.py's processes and nginx, two sessions. Timings are never
asserted; where the sessions landed, their errors and the CPU per process are."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bench.__main__ import parse_args, several_figures
from bench.load import WorkspaceNames, dashboard_plan, measure_load
from bench.protocol import RunFailed, Session
from bench.report import TODAY
from bench.several import (
    NODE_COOKIE,
    deployment,
    load_workspace,
    remove_writer_rows_at,
    scratch_database,
)
from bench.table import COUNT
from bench.workspace import WRITER_PREFIX, describe, team_outcomes
from db.engine import make_engine
from db.migrate import upgrade
from seed.scaled import build_scaled
from tests.conftest import POSTGRES_URL, skip_or_fail

pytestmark = pytest.mark.slow  # starts `streamlit run` processes and nginx

NGINX = os.environ.get("OUTCOMES_NGINX", "/usr/sbin/nginx")
TINY = {"teams": 2, "pis": 2, "metrics": 6, "readings": 600}


@pytest.fixture(scope="module")
def tiny_postgres() -> Iterator[str]:
    if not Path(NGINX).exists():
        skip_or_fail(f"{NGINX} is missing (apt-get install nginx)")
    if not POSTGRES_URL:
        skip_or_fail("OUTCOMES_TEST_POSTGRES_URL is not set (PostgreSQL tests)")
    with scratch_database(POSTGRES_URL) as url:
        load_workspace(url, TINY)
        yield url


def _names(tmp_path: Path) -> WorkspaceNames:
    """The names the bench opens pages with, read from the same tiny workspace built into
    SQLite, as `python -m bench` reads them (the generator is deterministic)."""
    path = tmp_path / "tiny.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    build_scaled(engine, today=TODAY, **TINY)
    engine.dispose()
    ws = describe(path)
    return WorkspaceNames(pi=ws.pi, as_of=ws.today, teams=tuple(team_outcomes(ws)))


async def _connections_forgetting_the_cookie(base_url: str, *, tries: int) -> list[str]:
    """`tries` connections by a client that keeps every cookie but nginx's; each
    failure's message (1 in 2 connections, by chance, is expected to fail)."""

    class Forgetful(Session):
        def _keep_cookies(self, set_cookie_headers: Sequence[str]) -> None:
            super()._keep_cookies(set_cookie_headers)
            self.cookies.pop(NODE_COOKIE, None)

    failures = []
    for _ in range(tries):
        try:
            async with Forgetful(base_url, first_url="/", timeout_s=90):
                pass
        except RunFailed as error:
            failures.append(str(error))
    return failures


def test_two_sessions_stick_to_two_processes_behind_nginx(
    tiny_postgres: str, tmp_path: Path
) -> None:
    plan = dashboard_plan(_names(tmp_path), rounds=1)
    with deployment(tiny_postgres, processes=2, run_dir=tmp_path / "run", nginx=NGINX) as two:
        result = measure_load(
            two.base_url,
            plan,
            database_url=tiny_postgres,
            levels=(2,),
            writers=1,
            timeout_s=90,
            first_day=TODAY + dt.timedelta(days=1),
            writer_pause_s=0.5,
            server_pids=two.pids,
            cookies_for=two.cookies_for,
            warm_sessions=2,
        )
        upstreams = two.upstreams
        # Without a preset cookie, the client keeps the one nginx sets on the HTML
        # answer, so its websocket reaches the process that served the page (connect
        # fails otherwise), and it can name that process.
        unpinned = Session(two.base_url, first_url="/", timeout_s=90)

        async def connect_and_close() -> None:
            async with unpinned:
                pass

        asyncio.run(connect_and_close())
        # A client that drops the sticky cookie reaches a random process per request:
        # its websocket soon lands elsewhere than its page, and the session fails.
        forgetful = asyncio.run(_connections_forgetting_the_cookie(two.base_url, tries=12))

    (level,) = result.levels
    assert level.errors == () and level.runs == 10
    assert level.sessions_by_upstream() == {upstreams[0]: 1, upstreams[1]: 1}
    assert len(level.server_cpu_by_process) == 2 and min(level.server_cpu_by_process) > 0
    assert result.writer_errors == 0 and sum(w.saves for w in result.writers) > 0
    assert NODE_COOKIE in unpinned.cookies and unpinned.upstream in upstreams
    assert any("not sticky" in message for message in forgetful), forgetful

    figures = several_figures({2: result}, {2: upstreams}, writers=1)
    errors = next(f for f in figures if f.kind == COUNT and "sessions:" in f.name)
    assert f"1 on {upstreams[0]}, 1 on {upstreams[1]}" in errors.name and errors.ours == 0

    remove_writer_rows_at(tiny_postgres)
    engine = create_engine(tiny_postgres)
    with engine.connect() as connection:
        left = connection.execute(
            text("SELECT count(*) FROM readings WHERE entered_by LIKE :p"),
            {"p": f"{WRITER_PREFIX}%"},
        ).scalar_one()
    engine.dispose()
    assert left == 0


def test_processes_needs_a_postgres_url() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--load", "--processes", "1,2"])
    args = parse_args(["--load", "--processes", "1,2", "--postgres-url", "postgresql://x/y"])
    assert args.processes == (1, 2) and args.only == ("load",)
