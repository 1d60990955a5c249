"""`manage.py sync`: flags, output, exit statuses, idempotence, and a failing source that
leaves the others alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from db.engine import make_engine, read_session, write_session
from db.migrate import upgrade
from db.models import Reading
from db.sources import set_metric_source
from manage import cli
from tests.sources.fixtures import (
    ADMIN,
    WAREHOUSE_QUERY,
    WAREHOUSE_ROWS,
    HttpServer,
    Secrets,
    Workspace,
    make_workspace,
)


@pytest.fixture
def cli_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", url)
    engine = make_engine(url)
    upgrade(engine)
    return make_workspace(engine, ("Signups", "Revenue"))


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["sync", *args], catch_exceptions=False)


def _connect(ws: Workspace, metric: str, spec: dict[str, str]) -> None:
    with write_session(ws.engine) as session:
        set_metric_source(session, actor=ADMIN, metric_id=ws.metric_ids[metric], spec=spec)


def _count(ws: Workspace) -> int:
    with read_session(ws.engine) as session:
        return int(session.scalar(select(func.count()).select_from(Reading)) or 0)


def test_sync_from_cron_is_idempotent(
    cli_workspace: Workspace, secrets: Secrets, sqlite_warehouse: str
) -> None:
    secrets.add("warehouse", sqlite_warehouse)
    _connect(
        cli_workspace,
        "Signups",
        {"kind": "sql", "connection": "warehouse", "query": WAREHOUSE_QUERY},
    )

    first, second = run(), run()

    assert first.exit_code == 0, first.output
    assert "Checkout / Signups (sql): ok, added 8, replaced 0, skipped 0" in first.output
    assert second.exit_code == 0
    assert "Checkout / Signups (sql): nothing_new, added 0, replaced 0, skipped 8" in second.output
    assert _count(cli_workspace) == len(WAREHOUSE_ROWS)


def test_dry_run_since_team_and_metric_flags(
    cli_workspace: Workspace, secrets: Secrets, sqlite_warehouse: str
) -> None:
    secrets.add("warehouse", sqlite_warehouse)
    _connect(
        cli_workspace,
        "Signups",
        {"kind": "sql", "connection": "warehouse", "query": WAREHOUSE_QUERY},
    )
    since = WAREHOUSE_ROWS[5][0].isoformat()

    dry = run("--team", "chk", "--metric", "signups", "--since", since, "--dry-run")
    none = run("--metric", "Revenue")
    unknown = run("--team", "NOPE")

    assert (
        dry.exit_code == 0 and "would add 3" in dry.output and "nothing was written" in dry.output
    )
    assert _count(cli_workspace) == 0
    assert none.exit_code == 0 and "nothing to sync" in none.output
    assert unknown.exit_code == 1 and "--team: no team has the key or name 'NOPE'" in unknown.output


def test_a_failing_source_exits_1_listing_it_and_the_others_are_written(
    cli_workspace: Workspace, secrets: Secrets, http_server: HttpServer
) -> None:
    good = http_server.route("/good.json", json.dumps([{"date": "2026-11-01", "value": 1}]))
    bad = http_server.route("/bad.json", json.dumps([{"date": "2026-11-01", "value": "n/a"}]))
    _connect(cli_workspace, "Signups", {"kind": "http_json", "url": good})
    _connect(cli_workspace, "Revenue", {"kind": "http_json", "url": bad})

    result = run()

    assert result.exit_code == 1
    assert "Checkout / Revenue: point 1: value 'n/a' is not a number" in result.output
    assert "1 of 2 sources failed" in result.output
    assert _count(cli_workspace) == 1


def test_conflict_needs_replace(
    cli_workspace: Workspace, secrets: Secrets, http_server: HttpServer
) -> None:
    url = http_server.route("/p.json", json.dumps([{"date": "2026-11-01", "value": 1}]))
    _connect(cli_workspace, "Signups", {"kind": "http_json", "url": url})
    assert run().exit_code == 0
    http_server.route("/p.json", json.dumps([{"date": "2026-11-01", "value": 2}]))

    refused, replaced = run(), run("--replace")

    assert refused.exit_code == 1 and "use replace" in refused.output
    assert replaced.exit_code == 0 and "replaced 1" in replaced.output
