"""Connect a metric to a real Prometheus in Chromium: on Plan pick the source, press Test
(rows shown, nothing written), save; press Sync now on Record; see the new readings on
the team page. The Prometheus is Debian's, backfilled with 60 days of a known series."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect
from sqlalchemy import func, select

from core.access import Actor
from db.engine import make_engine, read_session, write_session
from db.migrate import upgrade
from db.models import Reading
from db.users import create_user
from db.workspace import import_workspace
from tests.browser.conftest import running_app, sign_in, wait_for_app
from tests.conftest import skip_or_fail
from tests.prometheus_server import (
    SERIES,
    PrometheusServer,
    available,
    day_value,
    prometheus_server,
)

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("OUTCOMES_SCREENSHOTS", "/tmp/shots"))
PASSWORD = "metrics on their own"
EXCEPTION = "[data-testid='stException']"
PI = "PI Now"


@dataclass(frozen=True)
class App:
    base_url: str
    database_url: str
    prometheus: PrometheusServer


def _workspace(today: dt.date) -> dict[str, Any]:
    """One team with one metric, a target on it in a PI around today, and no readings."""
    start, end = today - dt.timedelta(days=30), today + dt.timedelta(days=40)
    return {
        "format": "outcome-board/1",
        "trains": [{"name": "Payments"}],
        "teams": [{"name": "Checkout", "key": "CHK", "train": "Payments", "active": True}],
        "pis": [
            {"name": PI, "train": "Payments", "start": start.isoformat(), "end": end.isoformat()}
        ],
        "metrics": [{"team": "Checkout", "name": "Signups", "unit": "users", "decimals": 0}],
        "outcomes": [
            {
                "pi": PI,
                "key": "CHK-1",
                "team": "Checkout",
                "title": "More people sign up",
                "committed": True,
                "planned_bv": 5,
                "status": "active",
                "targets": [
                    {
                        "metric": "Signups",
                        "baseline": 1,
                        "baseline_date": start.isoformat(),
                        "target": 5000,
                        "target_date": end.isoformat(),
                    }
                ],
            }
        ],
    }


@pytest.fixture
def sources_app(tmp_path: Path) -> Iterator[App]:
    if not available():
        skip_or_fail("Debian's prometheus and promtool are missing (apt-get install prometheus)")
    with prometheus_server(tmp_path / "prometheus") as prometheus:
        url = f"sqlite:///{tmp_path / 'outcomes.db'}"
        engine = make_engine(url)
        upgrade(engine)
        admin = Actor.system("test")
        with write_session(engine) as session:
            import_workspace(session, actor=admin, document=_workspace(prometheus.today))
        with write_session(engine) as session:
            create_user(
                session,
                actor=admin,
                username="casey",
                role="editor",
                team_keys=["CHK"],
                password=PASSWORD,
            )
        engine.dispose()
        secrets = tmp_path / "secrets.toml"
        secrets.write_text(f'[connections.metrics]\nurl = "{prometheus.url}"\n', "utf-8")
        env = {"OUTCOMES_SECRETS_FILE": str(secrets)}
        # The real clock: Prometheus holds its samples up to the real now.
        with running_app(url, log_path=tmp_path / "streamlit.log", env=env, day=None) as base_url:
            yield App(base_url, url, prometheus)


def _sign_in(page: Any) -> None:
    """Sign in through the sign-in page and come back to the page open now."""
    here = urlsplit(page.url)
    base_url = f"{here.scheme}://{here.netloc}"
    sign_in(page, base_url, "casey", PASSWORD, f"{here.path}?{here.query}")


def _choose(page: Any, label: str, option: str) -> None:
    """Pick `option` in the select box labelled `label` (opened again if a rerun closed
    its list before the click)."""
    box = page.locator("[data-testid='stSelectbox']").filter(
        has=page.get_by_text(label, exact=True)
    )
    choice = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):
        box.first.scroll_into_view_if_needed()
        box.first.click()
        try:
            choice.click(timeout=5_000)
            wait_for_app(page)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    page.screenshot(path=str(SHOTS / "sources_choose_failed.png"))
    raise AssertionError(f"no option {option!r} in {label!r}")


def _sync_readings(database_url: str) -> int:
    engine = make_engine(database_url)
    with read_session(engine) as session:
        count = session.scalar(
            select(func.count()).select_from(Reading).where(Reading.source == "sync")
        )
    engine.dispose()
    return int(count or 0)


def test_connect_a_metric_to_prometheus_test_save_sync_and_see_it(
    page: Any, sources_app: App
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{sources_app.base_url}/plan?team=CHK&pi={PI.replace(' ', '+')}")
    wait_for_app(page)
    _sign_in(page)

    # 1. Plan, Metrics tab: the source of Signups is the local Prometheus.
    page.get_by_role("tab", name="Metrics").click()
    wait_for_app(page)
    page.screenshot(path=str(SHOTS / "sources_plan_metrics.png"), full_page=True)
    _choose(page, "Source kind", "Prometheus (PromQL)")
    query = page.get_by_role("textbox", name="PromQL expression")
    query.fill(SERIES)
    query.press("Control+Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Test").click()
    expect(page.get_by_text(re.compile(r"Test: \d+ points read"))).to_be_visible(timeout=30_000)
    wait_for_app(page)
    assert page.get_by_text("Nothing was written.").count() == 1
    assert _sync_readings(sources_app.database_url) == 0
    page.screenshot(path=str(SHOTS / "sources_plan_test.png"), full_page=True)
    page.get_by_role("button", name="Save source").click()
    expect(page.get_by_text("Source saved.")).to_be_visible(timeout=30_000)
    wait_for_app(page)

    # 2. Record: Sync now.
    # The sidebar's links keep the sign-in (a new page load would start a new session).
    page.get_by_role("link", name="Record").click()
    page.wait_for_url(re.compile(r"/record"), timeout=20_000)
    wait_for_app(page)
    page.get_by_role("button", name="Sync now").click()
    expect(page.get_by_text(re.compile(r"Sync done: \d+ readings added"))).to_be_visible(
        timeout=60_000
    )
    wait_for_app(page)
    page.screenshot(path=str(SHOTS / "sources_record_synced.png"), full_page=True)
    assert _sync_readings(sources_app.database_url) > 0

    # 3. The team page shows yesterday's value (the last finished day) as the current one.
    page.get_by_role("link", name="Team").first.click()
    page.wait_for_url(re.compile(r"/team\?.*team=CHK"), timeout=20_000)
    wait_for_app(page)
    yesterday = sources_app.prometheus.today - dt.timedelta(days=1)
    text = page.locator("[data-testid='stMain']").inner_text()
    shown = f"{day_value(yesterday):,.0f}"
    assert re.search(rf"Signups\s*·\s*{re.escape(shown)}\s*users now", text), text[:2000]
    assert page.locator(EXCEPTION).count() == 0
    page.screenshot(path=str(SHOTS / "sources_team.png"), full_page=True)
