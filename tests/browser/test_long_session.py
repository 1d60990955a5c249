"""A browser tab left open for a long session of use (`OUTCOMES_LONG_SESSION_SECONDS`:
180 by default so a newcomer's `python -m pytest` stays short, 600 in CI, 1800 for the
full half hour reported in bench/RESULTS.md): an editor moves between the dashboards by the sidebar and by links, changes
filters, records readings, logs releases and edits an outcome, with think times between,
while the server is restarted twice (stopped, then crashed) with typed input not yet saved.

After every action the page shows what it should, with no exception and no console error
beyond the known harmless ones. After each restart the page reconnects; the next click says
that the sign-in is gone and unsaved input may be; once signed in again, what was typed is
either saved (Streamlit carries out that click) or typed again. At the end every saved
reading, release and outcome edit is in the database exactly once, nothing typed before a
restart is there unless it was saved, and the server's memory has not run away."""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from core.access import Actor
from db.engine import make_engine, read_session, write_session
from db.models import PI, AuditEvent, Metric, Outcome, Reading, Release, Team
from db.users import create_user
from tests.app_server import app_command, free_port
from tests.browser.conftest import (
    ROOT,
    START_TIMEOUT_S,
    demo_database,
    sign_in,
    wait_for_app,
)
from tests.conftest import DEMO_TODAY

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# Short by default: the restarts and the tour of every action run whatever the length;
# CI sets 600 and the full half hour is one variable away.
DEFAULT_SECONDS = 180.0

USERNAME = "morgan"
PASSWORD = "half an hour of use"
EDITOR_TEAMS = ("CHK", "WAL")
TEAM_NAMES = {"CHK": "Checkout", "WAL": "Wallet", "RSK": "Risk", "INS": "Insights"}
TEAM_NAMES |= {"STL": "Settlements"}
PIS = ("PI 26.3", "PI 26.4", "PI 27.1")
DASHBOARDS = {"PI overview": "/", "Team": "/team", "Outcome": "/outcome", "PI review": "/review"}
RESTART_NOTICE = "The server restarted"
SHOTS = Path(os.environ.get("OUTCOMES_SCREENSHOTS", "/tmp/shots"))
EXCEPTION = "[data-testid='stException']"
EARLY_FOR_RERUN = ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN
WAIT_MS = 90_000  # generous: a loaded 2-CPU machine, sometimes a cold cache
# The note of a Record save: "[Logged release ... and ]saved N readings[ (...)][ on D]: ..."
SAVED_NOTE = re.compile(r"^(Logged release .* and s|S)aved \d+ readings?")
# Console errors that say nothing about the app: Material icons fetched from the web
# (no network here), and the frontend probing /_stcore/ under a deep link's page path.
HARMLESS_URLS = re.compile(r"^https://fonts\.gstatic\.com/|/[a-z]+/_stcore/(health|host-config)$")
# What the browser logs while the server is away.
WHILE_DOWN = re.compile(
    r"ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE|WebSocket"
    r"|reaching server endpoint|server is not responding"
    # The frontend's own words when its pings get no answer while the server restarts
    # (seen on a loaded machine, when the restart outlasts the ping timeout).
    r"|DoInitPings timed out|Connection timed out",
    re.IGNORECASE,
)


# ---------------------------------------------------------------- the server


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Server:
    """`streamlit run app.py` on one port and one database, stopped and started again
    the way an operator (or a crash) would."""

    def __init__(self, database_url: str, folder: Path) -> None:
        self.database_url = database_url
        self.folder = folder
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        # Edits to the source tree while the test runs must not reload modules under the
        # session (a reloaded class no longer matches the signed-in user's).
        command = app_command(
            self.port, day=DEMO_TODAY, options=["--server.fileWatcherType", "none"]
        )
        environment = {
            **os.environ,
            "OUTCOMES_DATABASE_URL": self.database_url,
            "OUTCOMES_DEMO": "false",
        }
        log = (self.folder / f"streamlit-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _healthy(self.base_url):
            if self.process.poll() is not None:
                pytest.fail(f"streamlit exited with {self.process.returncode}: {self.folder}")
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer within {START_TIMEOUT_S} s")
            time.sleep(0.2)

    def stop(self, *, crash: bool = False) -> None:
        """SIGTERM (a restart), or SIGKILL (a crash: no goodbye to the browser)."""
        process = self.process
        if process is None:
            return
        self.process = None
        if crash:
            process.kill()
        else:
            process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def rss_kb(self) -> int:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        assert match, "no VmRSS in /proc/<pid>/status"
        return int(match.group(1))


# ---------------------------------------------------------------- the console


@dataclass
class Console:
    """Every console error and uncaught page error, judged as it arrives: harmless ones,
    connection errors while the server is away, or a problem."""

    server_away: bool = False
    problems: list[str] = field(default_factory=list)
    tolerated: Counter[str] = field(default_factory=Counter)

    def watch(self, page: Any) -> None:
        page.on("console", self._message)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _message(self, message: Any) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if HARMLESS_URLS.search(url):
            self.tolerated["harmless resource"] += 1
        elif self.server_away and (WHILE_DOWN.search(message.text) or WHILE_DOWN.search(url)):
            self.tolerated["server away"] += 1
        else:
            self.problems.append(f"console error: {message.text} ({url})")

    def assert_clean(self, after: str) -> None:
        assert not self.problems, f"after {after}: {self.problems}"


# ---------------------------------------------------------------- the person


@dataclass
class Expected:
    """What the database must hold at the end."""

    readings: dict[tuple[str, str, str], float] = field(default_factory=dict)  # team, metric, day
    reading_saves: int = 0  # saves that added or replaced something (one audit event each)
    releases: list[tuple[str, str]] = field(default_factory=list)  # team key, name
    owners: dict[tuple[str, str], str] = field(default_factory=dict)  # PI, outcome key
    outcome_saves: Counter[tuple[str, str]] = field(default_factory=Counter)


@dataclass
class Person:
    """One editor in one browser tab: every action waits for the page's content, then
    checks that the page holds no exception and the console no error."""

    page: Any
    server: Server
    database_url: str
    rng: random.Random
    console: Console
    expected: Expected = field(default_factory=Expected)
    actions: Counter[str] = field(default_factory=Counter)
    memory: list[tuple[str, float, int]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    serial: int = 0
    used_values: set[float] = field(default_factory=set)
    restart_outcomes: list[str] = field(default_factory=list)
    runs_started: int = 0
    runs_finished: int = 0

    # ------------------------------------------------------------ waiting

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def listen(self) -> None:
        """Count the script runs the server starts and finishes, from the messages on
        the page's WebSocket (a new one after each reconnect): the page's own run state
        can skip a short run when a loaded browser renders two messages at once."""

        def frame(payload: str | bytes) -> None:
            if isinstance(payload, str):
                return
            message = ForwardMsg.FromString(payload)
            kind = message.WhichOneof("type")
            if kind == "new_session":
                self.runs_started += 1
            elif kind == "script_finished" and message.script_finished != EARLY_FOR_RERUN:
                self.runs_finished += 1

        self.page.on("websocket", lambda socket: socket.on("framereceived", frame))

    def act(self, do: Callable[[], None]) -> None:
        """Do something that makes the script run, and wait until that run (and any
        rerun it asks for) is done."""
        before = self.runs_finished
        do()
        deadline = time.monotonic() + WAIT_MS / 1000
        while self.runs_finished <= before:
            assert time.monotonic() < deadline, "the page did not run"
            self.page.wait_for_timeout(100)
        wait_for_app(self.page, timeout_ms=WAIT_MS)

    def think(self, low: float = 1.5, high: float = 6.0) -> None:
        self.page.wait_for_timeout(int(1000 * self.rng.uniform(low, high)))

    def done(self, action: str) -> None:
        # The pointer rests on blank sidebar space, where no tooltip opens over a link.
        self.page.mouse.move(8, self.page.viewport_size["height"] - 8)
        wait_for_app(self.page, timeout_ms=WAIT_MS)
        assert self.page.locator(EXCEPTION).count() == 0, f"exception after {action}"
        self.console.assert_clean(action)
        self.actions[action] += 1
        print(f"{self.elapsed:7.1f} s  {action}  {self.page.url.split('/', 3)[-1]}")

    def params(self) -> dict[str, str]:
        return {name: values[0] for name, values in parse_qs(urlparse(self.page.url).query).items()}

    def path(self) -> str:
        return urlparse(self.page.url).path

    def heading(self) -> Any:
        return self.page.locator("[data-testid='stMain'] h1, [data-testid='stMain'] h2").first

    def sample_memory(self, label: str) -> None:
        self.memory.append((label, self.elapsed, self.server.rss_kb()))

    # ------------------------------------------------------------ what a page shows

    def expect_page(self, name: str) -> None:
        """The page's own heading, matching the filters in its URL."""
        heading = self.heading()
        params = self.params()
        if name == "PI overview":
            expect(heading).to_have_text(f"{params['pi']} overview", timeout=WAIT_MS)
            expect(self.page.get_by_text("Teams", exact=True)).to_be_visible()
        elif name == "PI review":
            expect(heading).to_have_text(f"{params['pi']} review", timeout=WAIT_MS)
        elif name == "Team":
            expect(heading).to_have_text(TEAM_NAMES[params["team"]], timeout=WAIT_MS)
        elif name == "Outcome":
            expect(heading).to_have_text(
                re.compile(rf"^{re.escape(params['outcome'])} · "), timeout=WAIT_MS
            )
        elif name == "Record":
            expect(heading).to_have_text("Record", timeout=WAIT_MS)
            expect(self.page.get_by_role("button", name="Save", exact=True)).to_be_visible()
        elif name == "Plan":
            expect(heading).to_have_text("Plan", timeout=WAIT_MS)
            expect(self.page.get_by_role("button", name="Save outcome")).to_be_visible()
        else:
            raise AssertionError(name)

    def on(self, name: str) -> bool:
        path = {**DASHBOARDS, "Record": "/record", "Plan": "/plan"}[name]
        return self.path() == path

    # ------------------------------------------------------------ moving around

    def open(self, name: str) -> None:
        """A page by its sidebar link (the link keeps PI, team, outcome and as-of)."""
        sidebar = self.page.locator("[data-testid='stSidebar']")
        link = sidebar.get_by_role("link", name=re.compile(rf"{re.escape(name)}$"))
        self.act(link.click)
        self.expect_page(name)
        self.done(f"open {name} (sidebar)")

    def ensure(self, name: str) -> None:
        if not self.on(name):
            self.open(name)
            self.think(1, 3)

    def follow_link(self) -> None:
        """A team from the overview, or an outcome from a team page."""
        if self.on("Team") and self.rng.random() < 0.6:
            links = self.page.get_by_role("link", name=re.compile(r"Open [A-Z]+-\d+$"))
            expect(links.first).to_be_visible(timeout=WAIT_MS)
            link = links.nth(self.rng.randrange(links.count()))
            key = link.inner_text().split("Open ")[-1].strip()
            self.act(link.click)
            assert self.params().get("outcome") == key
            self.expect_page("Outcome")
            self.done("follow a link to an outcome")
            return
        self.ensure("PI overview")
        key = self.rng.choice(sorted(TEAM_NAMES))
        main = self.page.locator("[data-testid='stMain']")
        link = main.get_by_role("link", name=re.compile(rf"{TEAM_NAMES[key]}$"))
        self.act(link.click)
        assert self.path() == "/team" and self.params().get("team") == key
        self.expect_page("Team")
        self.done("follow a link to a team")

    def select_box(self, label: str) -> Any:
        return self.page.locator("[data-testid='stSelectbox']").filter(
            has=self.page.get_by_text(label, exact=True)
        )

    def choose(self, label: str, option: re.Pattern[str]) -> None:
        """Open a select box and pick an option (a menu that closes again as the page
        scrolls under it is opened again)."""
        box = self.select_box(label)
        box.scroll_into_view_if_needed()
        choice = self.page.get_by_role("option", name=option)
        for _ in range(3):
            box.click()
            try:
                expect(choice).to_be_visible(timeout=10_000)
                break
            except AssertionError:
                self.page.keyboard.press("Escape")
        else:
            raise AssertionError(f"the {label} menu did not open")
        self.act(choice.click)

    def change_pi(self) -> None:
        if not any(self.on(name) for name in ("PI overview", "PI review", "Team", "Outcome")):
            self.open(self.rng.choice(["PI overview", "PI review"]))
        here = next(name for name in DASHBOARDS if self.on(name))
        pi = self.rng.choice([p for p in PIS if p != self.params().get("pi")])
        self.choose("PI", re.compile(rf"^{re.escape(pi)} "))
        assert self.params()["pi"] == pi
        self.expect_page(here)
        self.done("change the PI")

    def change_as_of(self) -> None:
        if not any(self.on(name) for name in DASHBOARDS):
            self.open("PI overview")
        here = next(name for name in DASHBOARDS if self.on(name))
        days = [DEMO_TODAY - dt.timedelta(days=7 * weeks) for weeks in range(1, 8)]
        day = self.rng.choice([d for d in days if d.isoformat() != self.params().get("as_of")])
        as_of = self.page.locator("[data-testid='stDateInput']").filter(
            has=self.page.get_by_text("As of", exact=True)
        )
        as_of.get_by_role("spinbutton", name="month, As of").click()
        self.page.keyboard.type(f"{day.month:02d}", delay=80)
        self.page.keyboard.type(f"{day.day:02d}", delay=80)
        # The date is sent when the field loses focus, as when a person clicks aside.
        caption = self.page.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']")
        self.act(caption.first.click)
        assert self.params().get("as_of") == day.isoformat()
        self.expect_page(here)
        self.done("change the as-of date")

    def change_team(self) -> None:
        self.ensure("Team")
        key = self.rng.choice([k for k in TEAM_NAMES if k != self.params().get("team")])
        self.choose("Team", re.compile(rf"^{TEAM_NAMES[key]}$"))
        assert self.params()["team"] == key
        self.expect_page("Team")
        self.done("change the team")

    # ------------------------------------------------------------ signing in

    def sign_in(self) -> None:
        """Through the sign-in page, back to the update page that asked for it."""
        here = urlparse(self.page.url)
        sign_in(self.page, self.server.base_url, USERNAME, PASSWORD, f"{here.path}?{here.query}")
        sidebar = self.page.locator("[data-testid='stSidebar']")
        expect(sidebar.get_by_text(f"Signed in as {USERNAME} (editor)")).to_be_visible(
            timeout=WAIT_MS
        )

    # ------------------------------------------------------------ recording

    def record_team(self, key: str | None = None) -> str:
        self.ensure("Record")
        key = key or self.rng.choice(EDITOR_TEAMS)
        if self.params().get("team") != key:
            self.choose("Team", re.compile(rf"^{TEAM_NAMES[key]}$"))
            self.expect_page("Record")
            self.done("change the team (record)")
            self.think(1, 3)
        return key

    def new_value(self) -> str:
        while True:
            value = round(self.rng.uniform(10, 90), 2)
            if value not in self.used_values and value * 10 != int(value * 10):
                self.used_values.add(value)
                return f"{value:.2f}"

    def metric_labels(self, team: str) -> list[tuple[str, str]]:
        """The team's active metrics in the form's order: (name, its box's label)."""
        rows = self.read(
            lambda session: session.execute(
                select(Metric.name, Metric.unit)
                .join(Team, Team.id == Metric.team_id)
                .where(Team.key == team, Metric.archived.is_(False))
                .order_by(Metric.name)
            ).all()
        )
        return [(name, name + (f" ({unit})" if unit else "")) for name, unit in rows]

    def typed_values(self, team: str) -> dict[str, str]:
        """Metric -> New value as the form's boxes hold them (the empty ones left out)."""
        values = {}
        for name, label in self.metric_labels(team):
            box = self.page.locator(f'input[aria-label="{label}"]')
            text = box.input_value().strip() if box.count() else ""
            if text:
                values[name] = text
        return values

    def type_readings(self, team: str, rows: int) -> dict[str, str]:
        """Type new values into `rows` consecutive metrics' boxes of the Record form (not
        saved yet): click the first, type each value and Tab to the next box."""
        labels = self.metric_labels(team)
        first_box = self.page.locator(f'input[aria-label="{labels[0][1]}"]')
        expect(first_box).to_be_visible(timeout=WAIT_MS)
        assert self.typed_values(team) == {}, "the form holds values nobody typed"
        first = self.rng.randrange(0, len(labels) - rows + 1)
        typed: dict[str, str] = {}
        self.page.locator(f'input[aria-label="{labels[first][1]}"]').click()
        for name, label in labels[first : first + rows]:
            value = self.new_value()
            self.page.keyboard.type(value)
            expect(self.page.locator(f'input[aria-label="{label}"]')).to_have_value(value)
            self.page.keyboard.press("Tab")
            typed[name] = value
        assert self.typed_values(team) == typed
        return typed

    def saved_note(self, typed: dict[str, str]) -> list[tuple[str, float, str]]:
        """The note of the save of `typed` (an older note may still show for a while):
        each reading's metric, value and day, in the form's order."""
        notes = self.page.get_by_text(SAVED_NOTE)
        deadline = time.monotonic() + WAIT_MS / 1000
        while time.monotonic() < deadline:
            for text in notes.all_inner_texts():
                head, _, listing = text.strip().rstrip(".").partition(": ")
                common = re.search(r"aved \d+ readings?(?: \([^)]*\))?(?: on (\S+))?$", head)
                if common is None:
                    continue
                listed = [
                    re.fullmatch(r"(.+) (\S+?)(?: on (\d{4}-\d{2}-\d{2}))?", item.strip())
                    for item in listing.split(", ")
                ]
                found = [
                    (m.group(1), float(m.group(2)), m.group(3) or common.group(1))
                    for m in listed
                    if m
                ]
                if all(listed) and {m: v for m, v, _ in found} == {
                    metric: float(value) for metric, value in typed.items()
                }:
                    return found
            self.page.wait_for_timeout(250)
        raise AssertionError(f"no note of saving {typed}: {notes.all_inner_texts()}")

    def save_readings(self, team: str, typed: dict[str, str]) -> None:
        """Save the form; a reading already stored that day with another value is a
        correction, confirmed with Replace."""
        shown = {metric: float(value) for metric, value in self.typed_values(team).items()}
        assert shown == {metric: float(value) for metric, value in typed.items()}
        self.act(self.page.get_by_role("button", name="Save", exact=True).click)
        replace = self.page.get_by_role("button", name="Replace these readings")
        saved = self.page.get_by_text(SAVED_NOTE)
        expect(replace.or_(saved).first).to_be_visible(timeout=WAIT_MS)
        replaced = replace.count() > 0
        if replaced:
            self.think(1, 3)
            self.act(replace.click)
        stored = self.stored_readings()
        for metric, value, day in self.saved_note(typed):
            self.expected.readings[(team, metric, day)] = value
            assert stored[(team, metric, day)] == value
        self.expected.reading_saves += 1  # every value is new, so every save writes
        self.done("record readings (replacing)" if replaced else "record readings")

    def record_readings(self) -> None:
        team = self.record_team()
        typed = self.type_readings(team, self.rng.choice([1, 1, 2, 3]))
        self.think(1, 3)
        self.save_readings(team, typed)

    def log_release(self) -> None:
        team = self.record_team()
        self.serial += 1
        name = f"ls-{self.serial}"
        self.page.get_by_role("textbox", name="Release name").fill(name)
        self.page.get_by_role("textbox", name="Notes").fill(f"Long session release {self.serial}")
        self.think(1, 2)
        self.act(self.page.get_by_role("button", name="Save", exact=True).click)
        expect(self.page.get_by_text(f"Logged release {name} on")).to_be_visible(timeout=WAIT_MS)
        self.expected.releases.append((team, name))
        self.done("log a release")

    # ------------------------------------------------------------ planning

    def type_owner(self) -> tuple[str, str, str]:
        """Type a new owner into the open outcome (sent to the server on Tab, not saved)."""
        self.ensure("Plan")
        self.serial += 1
        owner = f"Owner {self.serial}"
        box = self.page.get_by_role("textbox", name="Owner").first
        box.fill(owner)
        self.act(lambda: box.press("Tab"))
        params = self.params()
        return params["pi"], params["outcome"], owner

    def edit_outcome(self) -> None:
        pi, key, owner = self.type_owner()
        self.think(1, 3)
        self.act(self.page.get_by_role("button", name="Save outcome").click)
        expect(self.page.get_by_text(f"Saved outcome {key}.")).to_be_visible(timeout=WAIT_MS)
        expect(self.page.get_by_role("textbox", name="Owner").first).to_have_value(owner)
        assert self.stored_owner(pi, key) == owner
        self.expected.owners[(pi, key)] = owner
        self.expected.outcome_saves[(pi, key)] += 1
        self.done("edit an outcome")

    # ------------------------------------------------------------ restarts

    def server_goes_away(self, *, crash: bool) -> None:
        """Stop the server under the open page, start it again on the same port and
        database, and wait until the page has reconnected."""
        self.sample_memory(f"before {'crash' if crash else 'restart'}")
        self.console.server_away = True
        self.server.stop(crash=crash)
        status = self.page.get_by_test_id("stConnectionStatus")
        expect(status).to_contain_text(re.compile("connecting", re.IGNORECASE), timeout=WAIT_MS)
        self.think(3, 8)  # the operator starts it again
        self.server.start()
        expect(status).to_have_count(0, timeout=2 * WAIT_MS)
        self.actions["server " + ("crash" if crash else "restart")] += 1

    def quiet(self, seconds: float = 3.0) -> None:
        """Wait until no script run has started for `seconds`: a chain of reruns (a
        sign-in, then a save it carries out, then the note) is over."""
        deadline = time.monotonic() + WAIT_MS / 1000
        while time.monotonic() < deadline:
            wait_for_app(self.page, timeout_ms=WAIT_MS)
            before = self.runs_started
            self.page.wait_for_timeout(int(1000 * seconds))
            if self.runs_started == before:
                return
        raise AssertionError("the page kept running")

    def after_restart(self, click: Callable[[], None], what: str) -> bool:
        """The first click after the restart runs in a new session. The sign-in lasts (its
        cookie, issue 14), so that session is signed in at once and nothing asks to sign
        in again. Either the click's form is carried out (its save reruns the page with
        its own confirmation; the callers check what was written) or the page says that
        unsaved input may be gone."""
        self.act(click)
        sidebar = self.page.locator("[data-testid='stSidebar']")
        expect(sidebar.get_by_text(f"Signed in as {USERNAME} (editor)")).to_be_visible()
        main = self.page.locator("[data-testid='stMain']")
        expect(main.locator("[data-testid='outcomes-sign-in-form']")).to_have_count(0)
        noticed = self.page.get_by_text(RESTART_NOTICE).count() > 0
        self.done(f"see the page after the restart ({what})")
        self.restart_outcomes.append(
            f"{what}: restart notice {'shown' if noticed else 'not shown'}"
        )
        self.quiet()
        self.console.server_away = False
        self.sample_memory("after restart")
        return noticed

    def restart_with_unsaved_readings(self) -> None:
        team = self.record_team()
        unsaved = f"unsaved-{self.serial}"
        self.page.get_by_role("textbox", name="Release name").fill(unsaved)
        typed = self.type_readings(team, 2)
        stored = self.stored_readings()

        self.server_goes_away(crash=False)
        # The page still shows what was typed: nothing was lost yet on screen.
        expect(self.page.get_by_role("textbox", name="Release name")).to_have_value(unsaved)
        noticed = self.after_restart(
            self.page.get_by_role("button", name="Save", exact=True).click, "readings"
        )
        self.expect_page("Record")
        # The release and the readings are one form, one save: both land or neither.
        released = self.release_exists(team, unsaved)
        now = self.stored_readings()
        assert released == (now != stored)
        if released:
            self.expected.releases.append((team, unsaved))
        if now == stored:
            # Told so (never lost silently), the person types the readings again.
            assert noticed, "typed readings lost without the restart notice"
            self.restart_outcomes.append("typed readings lost, typed again")
            self.think(2, 4)
            self.save_readings(team, self.type_readings(team, len(typed)))
            return
        # The click on Save was carried out once signed in: saved once, and said so.
        self.restart_outcomes.append("typed readings saved after the restart")
        for metric, value, day in self.saved_note(typed):
            self.expected.readings[(team, metric, day)] = value
        self.expected.reading_saves += 1
        assert now == {**stored, **self.expected.readings}
        self.done("see the typed readings saved after the restart")

    def restart_with_unsaved_outcome(self) -> None:
        pi, key, owner = self.type_owner()
        stored = self.stored_owner(pi, key)
        assert stored != owner

        self.server_goes_away(crash=True)
        expect(self.page.get_by_role("textbox", name="Owner").first).to_have_value(owner)
        noticed = self.after_restart(
            self.page.get_by_role("button", name="Save outcome").click, "plan"
        )
        self.expect_page("Plan")
        assert self.params()["outcome"] == key
        owner_box = self.page.get_by_role("textbox", name="Owner").first
        if self.stored_owner(pi, key) == stored:
            # The form shows the stored owner; told so, the person types it again.
            assert noticed, "typed owner lost without the restart notice"
            self.restart_outcomes.append("typed owner lost, typed again")
            expect(owner_box).to_have_value(stored)
            self.think(2, 4)
            self.edit_outcome()
            return
        self.restart_outcomes.append("typed owner saved after the restart")
        assert self.stored_owner(pi, key) == owner
        expect(self.page.get_by_text(f"Saved outcome {key}.")).to_be_visible()
        expect(owner_box).to_have_value(owner)
        self.expected.owners[(pi, key)] = owner
        self.expected.outcome_saves[(pi, key)] += 1
        self.done("see the typed owner saved after the restart")

    # ------------------------------------------------------------ the database

    def read(self, query: Callable[[Any], Any]) -> Any:
        engine = make_engine(self.database_url)
        try:
            with read_session(engine) as session:
                return query(session)
        finally:
            engine.dispose()

    def stored_readings(self) -> dict[tuple[str, str, str], float]:
        rows = self.read(
            lambda session: session.execute(
                select(Team.key, Metric.name, Reading.date, Reading.value)
                .join(Metric, Metric.id == Reading.metric_id)
                .join(Team, Team.id == Metric.team_id)
                .where(Reading.source == "bulk")
            ).all()
        )
        return {(team, metric, day.isoformat()): value for team, metric, day, value in rows}

    def release_exists(self, team: str, name: str) -> bool:
        return bool(
            self.read(
                lambda session: session.scalar(
                    select(func.count())
                    .select_from(Release)
                    .join(Team, Team.id == Release.team_id)
                    .where(Team.key == team, Release.name == name)
                )
            )
        )

    def stored_owner(self, pi: str, key: str) -> str:
        return self.read(
            lambda session: session.scalars(
                select(Outcome.owner)
                .join(PI, PI.id == Outcome.pi_id)
                .where(PI.name == pi, Outcome.key == key)
            ).one()
        )


# ---------------------------------------------------------------- the test


@pytest.fixture
def long_session_app(tmp_path: Path) -> Any:
    url = demo_database(tmp_path / "outcomes.db")
    engine = make_engine(url)
    with write_session(engine) as session:
        create_user(
            session,
            actor=Actor.system("test"),
            username=USERNAME,
            role="editor",
            team_keys=list(EDITOR_TEAMS),
            password=PASSWORD,
        )
    engine.dispose()
    server = Server(url, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def outcome_versions(session: Any) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(PI.name, Outcome.key, Outcome.version).join(PI, PI.id == Outcome.pi_id)
    ).all()
    return {(pi, key): version for pi, key, version in rows}


def test_a_long_session_with_restarts_loses_nothing_silently(
    page: Any, long_session_app: Server
) -> None:
    duration = float(os.environ.get("OUTCOMES_LONG_SESSION_SECONDS") or DEFAULT_SECONDS)
    server = long_session_app
    console = Console()
    console.watch(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.set_default_timeout(WAIT_MS)
    person = Person(page, server, server.database_url, random.Random(20261102), console)
    person.listen()
    versions_before = person.read(outcome_versions)

    def first_visit() -> None:
        """The overview, then Record, which asks to sign in."""
        page.goto(f"{server.base_url}/?pi=PI+26.4&as_of={DEMO_TODAY.isoformat()}")
        wait_for_app(page, timeout_ms=WAIT_MS)
        person.expect_page("PI overview")
        person.done("open the overview")
        sidebar = page.locator("[data-testid='stSidebar']")
        person.act(sidebar.get_by_role("link", name=re.compile(r"Record$")).click)
        person.sign_in()
        person.expect_page("Record")
        person.done("sign in")
        person.sample_memory("start")

    # Every kind of action once, then a random mix with think times until the time is up;
    # the server restarts halfway (gracefully) and at three quarters (a crash).
    tour: list[Callable[[], None]] = [
        first_visit,
        lambda: person.open("PI overview"),
        person.follow_link,
        person.follow_link,
        lambda: person.open("PI review"),
        person.change_pi,
        person.change_as_of,
        person.change_team,
        lambda: person.open("Outcome"),
        person.record_readings,
        person.log_release,
        person.edit_outcome,
    ]
    mix: list[tuple[Callable[[], None], int]] = [
        (lambda: person.open(person.rng.choice(list(DASHBOARDS))), 24),
        (person.follow_link, 12),
        (person.change_pi, 8),
        (person.change_as_of, 8),
        (person.change_team, 6),
        (person.record_readings, 14),
        (person.log_release, 5),
        (person.edit_outcome, 6),
    ]
    restarts = [
        (0.5, person.restart_with_unsaved_readings),
        (0.75, person.restart_with_unsaved_outcome),
    ]
    try:
        while person.elapsed < duration or restarts or tour:
            signed_in = person.actions["sign in"] > 0
            if signed_in and restarts and person.elapsed >= restarts[0][0] * duration:
                restarts.pop(0)[1]()
            elif tour:
                tour.pop(0)()
            else:
                actions, weights = zip(*mix, strict=True)
                person.rng.choices(actions, weights)[0]()
            person.think()
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "long_session_failure.png"), full_page=True)
        raise
    person.sample_memory("end")
    ran_for = person.elapsed

    # Everything saved is stored exactly once; nothing typed before a restart is.
    expected = person.expected
    assert person.stored_readings() == expected.readings
    audit = person.read(
        lambda session: session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity == "reading", AuditEvent.actor == USERNAME)
        )
    )
    assert audit == expected.reading_saves
    releases = person.read(
        lambda session: session.execute(
            select(Team.key, Release.name)
            .join(Team, Team.id == Release.team_id)
            .where(Release.name.like("ls-%") | Release.name.like("unsaved-%"))
        ).all()
    )
    assert sorted(tuple(r) for r in releases) == sorted(expected.releases)
    versions_after = person.read(outcome_versions)
    for (pi, key), owner in expected.owners.items():
        assert person.stored_owner(pi, key) == owner
        saves = expected.outcome_saves[(pi, key)]
        assert versions_after[(pi, key)] == versions_before[(pi, key)] + saves, (pi, key)
    untouched = set(versions_before) - set(expected.owners)
    assert {k: versions_after[k] for k in untouched} == {k: versions_before[k] for k in untouched}

    # The loop ran for the whole time and did every kind of thing.
    total = sum(person.actions.values())
    print(f"\nlong session: {ran_for:.0f} s, {total} actions, {server.starts - 1} restarts")
    for action, count in sorted(person.actions.items()):
        print(f"  {count:4d}  {action}")
    print(
        f"  saved: {len(expected.readings)} readings in {expected.reading_saves} saves, "
        f"{len(expected.releases)} releases, {sum(expected.outcome_saves.values())} outcome edits"
    )
    print(f"  console: {dict(console.tolerated)} tolerated")
    print(f"  after the restarts: {person.restart_outcomes}")
    for label, at, rss in person.memory:
        print(f"  server RSS {label:>15} at {at:6.0f} s: {rss / 1024:7.1f} MiB")
    assert ran_for >= duration
    assert server.starts == 3
    for action in (
        "open PI overview (sidebar)",
        "follow a link to a team",
        "follow a link to an outcome",
        "change the PI",
        "change the as-of date",
        "change the team",
        "record readings",
        "log a release",
        "edit an outcome",
        "see the page after the restart (readings)",
        "see the page after the restart (plan)",
    ):
        assert person.actions[action] >= 1, action

    # Memory: each server life ends below three times what it held after its first pages.
    lives: list[list[int]] = [[]]
    for label, _, rss in person.memory:
        lives[-1].append(rss)
        if label.startswith("before"):
            lives.append([])
    for life in lives:
        assert life[-1] < 3 * life[0], person.memory
