"""The README's "Running on several processes", run as written: a fresh PostgreSQL
database, `manage.py init`, two `streamlit run` processes and nginx (deploy/several.py).
Two browser contexts are pinned to different processes through nginx; a reading saved in
one shows in the other on its next run, and one written by `manage.py record` shows in
both, with no waiting beyond that run (PRODUCT.md: nothing in process memory that another
process needs)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.access import Actor
from db.engine import PROJECT_ROOT, make_engine, write_session
from db.users import create_user
from tests.app_server import free_port
from tests.browser.conftest import sign_in, wait_for_app
from tests.browser.test_record_journey import PASSWORD, value_box
from tests.conftest import DEMO_TODAY, POSTGRES_URL, skip_or_fail

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NGINX = Path(os.environ.get("OUTCOMES_NGINX", "/usr/sbin/nginx"))
README = PROJECT_ROOT / "README.md"
COOKIE = "outcomes_node"
PI = "PI 26.4"  # the demo's current PI around DEMO_TODAY
METRIC = "Checkout conversion"


def readme_block(name: str) -> str:
    """The bash block between `<!-- NAME:start -->` and `<!-- NAME:end -->` in the README."""
    found = re.search(
        rf"<!-- {name}:start -->\s*```bash\n(.*?)```\s*<!-- {name}:end -->",
        README.read_text("utf-8"),
        re.DOTALL,
    )
    assert found, f"README has no {name} block"
    return found.group(1)


def bash(script: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{script}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@dataclass(frozen=True)
class Deployment:
    base_url: str
    env: dict[str, str]
    database_url: str
    ports: tuple[int, int]


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    if not NGINX.exists():
        skip_or_fail(f"{NGINX} is missing (apt-get install nginx)")
    if not POSTGRES_URL:
        skip_or_fail("OUTCOMES_TEST_POSTGRES_URL is not set (PostgreSQL tests)")
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"outcomes_several_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    listen, first, second = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        # The settings block of the README, with this test's values.
        "OUTCOMES_DATABASE_URL": url,
        "STREAMLIT_SERVER_COOKIE_SECRET": uuid.uuid4().hex,
        "OUTCOMES_APP_PORTS": f"{first} {second}",
        "OUTCOMES_LISTEN": f"127.0.0.1:{listen}",
        "OUTCOMES_RUN_DIR": str(tmp_path / "run"),
        "OUTCOMES_NGINX": str(NGINX),
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    try:
        bash(readme_block("several-processes"), env)
        yield Deployment(f"http://127.0.0.1:{listen}", env, url, (first, second))
    finally:
        bash(readme_block("several-processes-stop"), env)
        shutil.rmtree(tmp_path / "run" / "temp", ignore_errors=True)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def upstream_of(base_url: str, cookie: str) -> str:
    """Which process nginx sends a browser with this cookie to (its response header)."""
    request = urllib.request.Request(
        f"{base_url}/_stcore/health", headers={"Cookie": f"{COOKIE}={cookie}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["X-Outcomes-Upstream"]


def pins(base_url: str, ports: tuple[int, ...]) -> dict[int, str]:
    """A cookie value for each process: nginx hashes the cookie (`hash ... consistent`),
    so a value always lands on the same process while the upstream list is unchanged."""
    found: dict[int, str] = {}
    for i in range(200):
        port = int(upstream_of(base_url, f"pin{i}").rpartition(":")[2])
        found.setdefault(port, f"pin{i}")
        if len(found) == len(ports):
            return found
    pytest.fail(f"no cookie value reached every process: {found}")


def open_team_page(browser: Any, base_url: str, cookie: str) -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_cookies([{"name": COOKIE, "value": cookie, "url": base_url}])
    page = context.new_page()
    page.goto(f"{base_url}/team?team=CHK&pi={PI.replace(' ', '+')}")
    wait_for_app(page)
    return page


def rerun(page: Any) -> None:
    """The page's next run in the same session (Streamlit's rerun key)."""
    page.locator("h1").first.click()  # the focus on the page, not in a widget
    page.keyboard.press("r")
    page.wait_for_timeout(300)
    wait_for_app(page)


def shown_now(page: Any, metric: str) -> str:
    text = page.locator("[data-testid='stMain']").inner_text()
    found = re.search(rf"{re.escape(metric)}\s*·\s*([^\n]+?) now", text)
    assert found, f"{metric} not on the team page:\n{text[:2000]}"
    return found.group(1)


def served_by(page: Any, base_url: str) -> str:
    response = page.context.request.get(f"{base_url}/_stcore/health")
    return response.headers["x-outcomes-upstream"]


def save_in_grid(page: Any, base_url: str, metric: str, value: str) -> None:
    """Sign in on Record (same process: the cookie pins it) and save one reading."""
    sign_in(page, base_url, "casey", PASSWORD, f"/record?team=CHK&pi={PI.replace(' ', '+')}")
    value_box(page, metric).fill(value)
    page.get_by_role("button", name="Save").click()
    page.get_by_text(re.compile(r"Saved 1 reading")).wait_for(timeout=30_000)
    wait_for_app(page)


def test_a_reading_saved_anywhere_shows_on_every_process_at_its_next_run(
    browser: Any, deployment: Deployment
) -> None:
    # Setup: the demo and an editor, written while both processes already run.
    env = deployment.env
    subprocess.run(
        [sys.executable, "manage.py", "demo", "--today", DEMO_TODAY.isoformat()],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    engine = make_engine(deployment.database_url)
    with write_session(engine) as session:
        create_user(
            session,
            actor=Actor.system("test"),
            username="casey",
            role="editor",
            team_keys=["CHK"],
            password=PASSWORD,
        )
    engine.dispose()
    base = deployment.base_url
    pinned = pins(base, deployment.ports)
    first, second = deployment.ports
    writer = open_team_page(browser, base, pinned[first])
    viewer = open_team_page(browser, base, pinned[second])
    assert served_by(writer, base).endswith(f":{first}")
    assert served_by(viewer, base).endswith(f":{second}")
    assert shown_now(viewer, "Cart abandonment") != "61.7%"

    # A reading saved in the app on the first process ...
    save_in_grid(writer, base, "Cart abandonment", "61.7")
    rerun(viewer)
    # ... shows on the second process's next run.
    assert shown_now(viewer, "Cart abandonment") == "61.7%"

    # A reading written by the command line shows on both processes' next runs.
    writer.goto(f"{base}/team?team=CHK&pi={PI.replace(' ', '+')}")
    wait_for_app(writer)
    assert shown_now(writer, METRIC) != "2.93%"
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "record",
            "--team",
            "CHK",
            "--metric",
            METRIC,
            "--value",
            "2.93",
        ],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    for page in (writer, viewer):
        rerun(page)
        assert shown_now(page, METRIC) == "2.93%"
        assert page.locator("[data-testid='stException']").count() == 0

    # Adding a process (README: `python deploy/several.py add PORT`): nginx reloads and
    # sends browsers to it too; the open pages keep working.
    third = free_port()
    bash(f"python deploy/several.py add {third}", env)
    assert set(pins(base, (first, second, third))) == {first, second, third}
    rerun(viewer)
    assert shown_now(viewer, METRIC) == "2.93%"
    shots = Path(os.environ.get("OUTCOMES_SCREENSHOTS", "/tmp/shots"))
    shots.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(path=str(shots / "several_processes_viewer.png"))
