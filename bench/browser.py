"""Browser time-to-content: `streamlit run` servers on free ports, Debian's Chromium through
Playwright, and the time from `goto` until a page's content and charts are drawn."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.floors import Floor, write_floor_app
from bench.table import median
from bench.workspace import PageSpec

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [  # as tests/browser/conftest.py launches it
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 120
MAIN_HEADING = "[data-testid='stMain'] :is(h1, h2)"
FLOOR_TEXT = "[data-testid='stMain'] [data-testid='stMarkdownContainer'] p"
SETTLE_S = 1.5  # calibration: how long the drawn page must stay as it is
COLD_TIMEOUT_FACTOR = 3  # calibration visits are a page's first on the server

# "Content drawn": the script run is over (script state notRunning, no status widget),
# no element is still a loading skeleton, the page's heading (the floor's text) is there,
# at least the charts and tables the page draws are there, and each is drawn (a chart
# shows Vega marks, as SVG marks or a canvas; a table its grid canvas).
CONTENT_DRAWN = """([selector, charts, tables]) => {
    const app = document.querySelector("[data-testid='stApp']");
    if (!app || app.dataset.testScriptState !== 'notRunning') return false;
    if (document.querySelector("[data-testid='stStatusWidget']")) return false;
    if (document.querySelector("[data-testid='stSkeleton']")) return false;
    if (!document.querySelector(selector)) return false;
    const chartList = Array.from(document.querySelectorAll("[data-testid='stVegaLiteChart']"));
    const tableList = Array.from(document.querySelectorAll("[data-testid='stDataFrame']"));
    if (chartList.length < charts || tableList.length < tables) return false;
    return chartList.every(chart => chart.querySelector('svg .role-mark, canvas'))
        && tableList.every(table => table.querySelector('canvas'));
}"""
COUNT_DRAWINGS = """() => [
    document.querySelectorAll("[data-testid='stVegaLiteChart']").length,
    document.querySelectorAll("[data-testid='stDataFrame']").length,
]"""
# What a visit that failed was waiting for, for its error message.
PAGE_STATE = """() => {
    const app = document.querySelector("[data-testid='stApp']");
    const charts = Array.from(document.querySelectorAll("[data-testid='stVegaLiteChart']"));
    const tables = Array.from(document.querySelectorAll("[data-testid='stDataFrame']"));
    const status = document.querySelector("[data-testid='stStatusWidget']");
    return `script ${app ? app.dataset.testScriptState : 'not started'}, `
        + `status widget ${status ? 'on' : 'off'}, `
        + `${document.querySelectorAll("[data-testid='stSkeleton']").length} skeletons, `
        + `charts ${charts.filter(c => c.querySelector('svg .role-mark, canvas')).length}`
        + `/${charts.length} drawn, `
        + `tables ${tables.filter(t => t.querySelector('canvas')).length}/${tables.length} drawn`;
}"""
SHOWS_EXCEPTION = "[data-testid='stException']"


class VisitFailed(RuntimeError):
    """A visit timed out, raised, or drew a Streamlit exception; after `elapsed` seconds."""

    def __init__(self, message: str, *, elapsed: float, timed_out: bool = False) -> None:
        super().__init__(message)
        self.elapsed = elapsed
        self.timed_out = timed_out


@dataclass(frozen=True)
class Target:
    """A page to open in the browser and what its drawn content looks like."""

    name: str
    url: str  # path and query
    selector: str = MAIN_HEADING
    charts: int = 0  # found by calibrate()
    tables: int = 0

    @property
    def drawings(self) -> str:
        return f"{self.charts} charts, {self.tables} tables"


def page_target(page: PageSpec) -> Target:
    return Target(page.name, page.url)


FLOOR_TARGET = Target("floor", "/", selector=FLOOR_TEXT)


# ---------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class Server:
    """`streamlit run SCRIPT` from the script's folder (so its .streamlit/config.toml
    applies) on a free loopback port with the flags the browser tests use; a context
    manager that waits for /_stcore/health and stops the server after."""

    def __init__(
        self, script: Path, *, log_path: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.script = script
        self.log_path = log_path
        self.env = dict(env or {})
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(self.script),
            "--server.port",
            str(self.port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ]
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=self.script.parent,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not _healthy(self.base_url):
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"streamlit exited with {self.process.returncode}: see {self.log_path}"
                    )
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not answer within {START_TIMEOUT_S} s")
                time.sleep(0.2)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def rss_mb(self) -> float:
        return rss_mb(self.pid)


def app_server(database_url: str, *, log_path: Path) -> Server:
    """The app on the benchmark's database, as the browser tests start it."""
    env = {
        "OUTCOMES_DATABASE_URL": database_url,
        "OUTCOMES_DEMO": "false",
        "OUTCOMES_PUBLIC_READ": "true",  # the default, whatever this shell says
    }
    return Server(ROOT / "app.py", log_path=log_path, env=env)


def floor_server(
    folder: Path, *, log_path: Path, floors: Mapping[str, Floor] | None = None
) -> Server:
    """The floors as an app of their own, with the app's .streamlit/config.toml: the
    one-line page at `/` and each same-elements floor at `/floor_<page>`."""
    return Server(write_floor_app(folder, floors or {}), log_path=log_path)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (psutil when installed, else the
    process's own VmRSS from /proc)."""
    try:
        import psutil  # type: ignore[import-untyped]
    except ImportError:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError(f"no VmRSS for process {pid}") from None
    process = psutil.Process(pid)
    members = [process, *process.children(recursive=True)]
    return sum(member.memory_info().rss for member in members) / 1024 / 1024


# ---------------------------------------------------------------- time to content


async def launch(playwright: Any) -> Any:
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is missing (apt-get install chromium)")
    return await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


async def visit(page: Any, base_url: str, target: Target, *, timeout_s: float) -> float:
    """Seconds from `goto` until the target's content is drawn, on an open page; raises
    VisitFailed on a timeout, a browser error or a Streamlit exception on the page."""
    started = time.perf_counter()
    try:
        await page.goto(base_url + target.url, wait_until="commit", timeout=timeout_s * 1000)
        left = max(1.0, timeout_s - (time.perf_counter() - started)) * 1000
        await page.wait_for_function(
            CONTENT_DRAWN,
            arg=[target.selector, target.charts, target.tables],
            timeout=left,
            polling="raf",
        )
        elapsed = time.perf_counter() - started
        shows_exception = await page.locator(SHOWS_EXCEPTION).count()
    except Exception as error:  # a timeout or a closed page: this visit failed
        elapsed = time.perf_counter() - started
        timed_out = type(error).__name__ == "TimeoutError"  # Playwright's, or asyncio's
        first_line = (str(error).splitlines() or [""])[0]  # Playwright appends a call log
        what = "timed out" if timed_out else f"{type(error).__name__}: {first_line}"
        state = await _page_state(page)
        raise VisitFailed(
            f"{target.name}: {what} after {elapsed:.0f} s ({state}; expected "
            f"{target.charts} charts, {target.tables} tables)",
            elapsed=elapsed,
            timed_out=timed_out,
        ) from error
    if shows_exception:
        raise VisitFailed(f"{target.name}: the page shows an exception", elapsed=elapsed)
    return elapsed


async def _page_state(page: Any) -> str:
    try:
        return str(await asyncio.wait_for(page.evaluate(PAGE_STATE), timeout=10))
    except Exception as error:  # the page is gone or hangs: say so instead
        return f"page state unknown: {type(error).__name__}"


async def fresh_visit(browser: Any, base_url: str, target: Target, *, timeout_s: float) -> float:
    """One visit in a fresh browser context (no cookies, cache or session)."""
    context = await browser.new_context()
    try:
        page = await context.new_page()
        return await visit(page, base_url, target, timeout_s=timeout_s)
    finally:
        await context.close()


async def calibrate(browser: Any, base_url: str, target: Target, *, timeout_s: float) -> Target:
    """Open the page once (untimed: it also fills the server's read caches), wait until
    it is drawn and stays so, and note how many charts and tables it draws. A page's
    first visit on a fresh server also imports its modules: it gets a longer timeout."""
    timeout_s *= COLD_TIMEOUT_FACTOR
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await visit(page, base_url, target, timeout_s=timeout_s)
        counts: list[int] = []
        while counts != (now := await page.evaluate(COUNT_DRAWINGS)):
            counts = now
            await asyncio.sleep(SETTLE_S)
            await page.wait_for_function(
                CONTENT_DRAWN, arg=[target.selector, 0, 0], timeout=timeout_s * 1000
            )
        return replace(target, charts=counts[0], tables=counts[1])
    finally:
        await context.close()


async def warm_visit(context: Any, base_url: str, target: Target, *, timeout_s: float) -> float:
    """One visit in a new tab of a context that opened the page before: its HTTP cache
    holds the frontend's JavaScript and CSS, as a stakeholder's browser does who opens
    such links every day (cookies kept too; a new tab is a new Streamlit session)."""
    page = await context.new_page()
    try:
        return await visit(page, base_url, target, timeout_s=timeout_s)
    finally:
        await page.close()


def floor_target(name: str) -> Target:
    """The same-elements floor of page `name` (bench.floors), on the floors' server."""
    return Target(f"floor {name}", f"/floor_{name}")


@dataclass(frozen=True)
class BrowserTimes:
    """Median time-to-content on a cold and on a warm browser cache of each page, of its
    same-elements floor (`floor <page>`) and of the one-line page (`floor`)."""

    cold: dict[str, float]
    warm: dict[str, float]
    drawings: dict[str, str]
    runs: int


async def measure_browser(
    base_url: str,
    floor_url: str,
    targets: Sequence[Target],
    *,
    repeat: int,
    timeout_s: float,
) -> tuple[BrowserTimes, list[Target]]:
    """Calibrate the one-line page, every page and its floor; open one warm context per
    target (primed by one visit); then `repeat` rounds, each of a cold visit (a fresh
    context) to every target in turn (one-line page, then each floor and its page) and a
    warm visit to every target in turn; medians. Returns the calibrated pages too."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await launch(playwright)
        contexts: list[Any] = []
        try:
            one_line = await calibrate(browser, floor_url, FLOOR_TARGET, timeout_s=timeout_s)
            ready: list[Target] = []
            everything: list[tuple[str, Target]] = [(floor_url, one_line)]
            for target in targets:
                floor = await calibrate(
                    browser, floor_url, floor_target(target.name), timeout_s=timeout_s
                )
                page = await calibrate(browser, base_url, target, timeout_s=timeout_s)
                ready.append(page)
                everything += [(floor_url, floor), (base_url, page)]
            warm_contexts = {}
            for url, target in everything:
                context = await browser.new_context()
                contexts.append(context)
                await warm_visit(context, url, target, timeout_s=timeout_s * COLD_TIMEOUT_FACTOR)
                warm_contexts[target.name] = context
            cold: dict[str, list[float]] = {t.name: [] for _, t in everything}
            warm: dict[str, list[float]] = {t.name: [] for _, t in everything}
            for _ in range(repeat):
                for url, target in everything:
                    cold[target.name].append(
                        await fresh_visit(browser, url, target, timeout_s=timeout_s)
                    )
                for url, target in everything:
                    warm[target.name].append(
                        await warm_visit(
                            warm_contexts[target.name], url, target, timeout_s=timeout_s
                        )
                    )
        finally:
            for context in contexts:
                await context.close()
            await browser.close()
    result = BrowserTimes(
        cold={name: median(times) for name, times in cold.items()},
        warm={name: median(times) for name, times in warm.items()},
        drawings={t.name: t.drawings for _, t in everything},
        runs=repeat,
    )
    return result, ready
