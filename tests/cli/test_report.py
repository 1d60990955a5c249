"""`manage.py report`: the Report JSON and Markdown on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from db.engine import make_engine, read_session
from db.migrate import upgrade
from db.report import report_json
from manage import cli
from seed.demo import load_demo
from tests.conftest import DEMO_TODAY


@pytest.fixture
def demo_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    engine = make_engine(url)
    upgrade(engine)
    load_demo(engine, today=DEMO_TODAY)
    engine.dispose()
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", url)
    return url


def current_pi_name(url: str) -> str:
    from db.queries import current_pi

    engine = make_engine(url)
    with read_session(engine) as session:
        pi = current_pi(session, today=DEMO_TODAY)
    engine.dispose()
    assert pi is not None
    return pi.name


def test_report_json_is_the_report_of_the_rules(demo_url: str) -> None:
    pi = current_pi_name(demo_url)
    result = CliRunner().invoke(cli, ["report", "--pi", pi, "--as-of", DEMO_TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    engine = make_engine(demo_url)
    with read_session(engine) as session:
        assert printed == json.loads(json.dumps(report_json(session, pi_name=pi, as_of=DEMO_TODAY)))
    assert printed["pi"] == pi and printed["as_of"] == DEMO_TODAY.isoformat()
    assert {team["team"] for team in printed["teams"]} >= {"Checkout", "Wallet"}


def test_report_markdown_has_a_section_per_team(demo_url: str) -> None:
    pi = current_pi_name(demo_url)
    result = CliRunner().invoke(
        cli, ["report", "--pi", pi, "--as-of", DEMO_TODAY.isoformat(), "--format", "md"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"# Outcome report: {pi}")
    assert "## Checkout" in result.output and "## Wallet" in result.output


def test_report_of_unknown_pi_exits_non_zero_naming_it(demo_url: str) -> None:
    result = CliRunner().invoke(cli, ["report", "--pi", "PI 99.9"])
    assert result.exit_code == 1
    assert "pi" in result.output and "PI 99.9" in result.output
