"""Load: concurrent browser sessions on the overview and team pages while writer processes
record readings into the same database; time-to-content percentiles, errors, and the
server's memory."""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
import os
import queue
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.browser import Target, VisitFailed, launch, visit
from bench.table import percentile
from bench.writers import WriterReport, write_until_stopped

WRITER_WARMUP_S = 1.0  # writers are busy before the first session opens a page
WRITER_STOP_TIMEOUT_S = 120  # to finish the save in hand after the stop


@dataclass(frozen=True)
class SessionTimes:
    """Every visit's time-to-content, the visits that failed, and how long the visits
    that timed out had waited (at least their time to content, were it drawn later)."""

    times: tuple[float, ...]
    errors: tuple[str, ...]
    timed_out: tuple[float, ...]
    sessions: int
    seconds: float
    # Where the machine's CPU went meanwhile: the browser (Chromium and Playwright's
    # driver) and the app's server process (None when not known).
    browser_cpu_s: float = 0.0
    server_cpu_s: float | None = None

    @property
    def visits(self) -> int:
        return len(self.times) + len(self.errors)

    @property
    def p50(self) -> float:
        return percentile(self.times + self.timed_out, 0.50)

    @property
    def p95(self) -> float:
        return percentile(self.times + self.timed_out, 0.95)


@dataclass(frozen=True)
class LoadResult:
    single: SessionTimes
    loaded: SessionTimes
    writers: tuple[WriterReport, ...]
    rss_one_session_mb: float
    rss_after_load_mb: float

    @property
    def errors(self) -> int:
        return len(self.loaded.errors) + sum(w.errors for w in self.writers)

    def error_lines(self) -> list[str]:
        lines = list(self.loaded.errors)
        for writer in self.writers:
            lines += [f"writer {writer.index}: {e}" for e in writer.first_errors]
        return lines


async def _session(
    browser: Any,
    base_url: str,
    targets: Sequence[Target],
    *,
    offset: int,
    rounds: int,
    timeout_s: float,
    delay_s: float = 0.0,
) -> tuple[list[float], list[VisitFailed]]:
    """One browser session (a context with one tab) opening the targets in turn,
    `rounds` times, starting at `offset` so that sessions spread over the pages, after
    `delay_s` seconds."""
    times: list[float] = []
    errors: list[VisitFailed] = []
    await asyncio.sleep(delay_s)
    context = await browser.new_context()
    try:
        page = await context.new_page()
        for step in range(rounds * len(targets)):
            target = targets[(offset + step) % len(targets)]
            try:
                times.append(await visit(page, base_url, target, timeout_s=timeout_s))
            except VisitFailed as error:
                errors.append(error)
                await page.close()
                page = await context.new_page()  # a stuck tab must not fail the next visits
    finally:
        await context.close()
    return times, errors


def process_cpu_s(pid: int) -> float:
    """User and system CPU seconds a running process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu_s() -> float:
    """CPU seconds of this process's ended (and waited-for) descendants."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def run_sessions(
    base_url: str,
    targets: Sequence[Target],
    *,
    sessions: int,
    rounds: int,
    timeout_s: float,
    ramp_s: float = 0.0,
    server_pid: int | None = None,
) -> SessionTimes:
    """`sessions` concurrent sessions in one Chromium, starting evenly over `ramp_s`
    seconds (0: all at once); each visit timed as in the time-to-content figure. The
    browser's CPU time is counted once its driver has ended (Chromium's processes are
    the driver's children, so their time is added to it as they end)."""
    from playwright.async_api import async_playwright

    children_before = _children_cpu_s()
    server_before = process_cpu_s(server_pid) if server_pid else None
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            started = time.perf_counter()
            results = await asyncio.gather(
                *(
                    _session(
                        browser,
                        base_url,
                        targets,
                        offset=i,
                        rounds=rounds,
                        timeout_s=timeout_s,
                        delay_s=ramp_s * i / sessions,
                    )
                    for i in range(sessions)
                )
            )
            seconds = time.perf_counter() - started
        finally:
            await browser.close()
    server_cpu = (
        process_cpu_s(server_pid) - server_before
        if server_pid and server_before is not None
        else None
    )
    times = tuple(t for result in results for t in result[0])
    failed = [e for result in results for e in result[1]]
    return SessionTimes(
        times=times,
        errors=tuple(str(e) for e in failed),
        timed_out=tuple(e.elapsed for e in failed if e.timed_out),
        sessions=sessions,
        seconds=seconds,
        browser_cpu_s=_children_cpu_s() - children_before,
        server_cpu_s=server_cpu,
    )


def measure_load(
    server_url: str,
    server_rss: Callable[[], float],
    database_url: str,
    targets: Sequence[Target],
    *,
    server_pid: int | None = None,
    sessions: int,
    writers: int,
    rounds: int,
    timeout_s: float,
    first_day: dt.date,
    writer_pause_s: float,
    ramp_s: float = 0.0,
) -> LoadResult:
    """One session alone (the floor), the server's memory after it; then `sessions`
    sessions while `writers` processes record readings; the memory after that."""
    single = asyncio.run(
        run_sessions(server_url, targets, sessions=1, rounds=rounds, timeout_s=timeout_s)
    )
    if not single.times:
        raise SystemExit("load: the single session drew no page: " + "; ".join(single.errors))
    rss_one = server_rss()

    spawn = multiprocessing.get_context("spawn")  # no inherited engine or browser state
    stop = spawn.Event()
    reports = spawn.Queue()
    processes = [
        spawn.Process(
            target=write_until_stopped,
            args=(database_url, index, writers, first_day, writer_pause_s, stop, reports),
            daemon=True,
        )
        for index in range(writers)
    ]
    for process in processes:
        process.start()
    try:
        time.sleep(WRITER_WARMUP_S)
        loaded = asyncio.run(
            run_sessions(
                server_url,
                targets,
                sessions=sessions,
                rounds=rounds,
                timeout_s=timeout_s,
                ramp_s=ramp_s,
                server_pid=server_pid,
            )
        )
    finally:
        stop.set()
        writer_reports = _collect(reports, processes)
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    missing = writers - len(writer_reports)
    writer_reports += [
        WriterReport(-1, 0, 0, 1, ("a writer process ended without a report",))
        for _ in range(missing)
    ]
    if not loaded.times and not loaded.timed_out:
        raise SystemExit("load: no session drew a page: " + "; ".join(loaded.errors[:5]))
    return LoadResult(
        single=single,
        loaded=loaded,
        writers=tuple(sorted(writer_reports, key=lambda w: w.index)),
        rss_one_session_mb=rss_one,
        rss_after_load_mb=server_rss(),
    )


def _collect(reports: Any, processes: Sequence[Any]) -> list[WriterReport]:
    """Every writer's report: wait while a writer still runs (it finishes its save
    first), stop once all have ended and nothing more is queued."""
    collected: list[WriterReport] = []
    deadline = time.monotonic() + WRITER_STOP_TIMEOUT_S
    while len(collected) < len(processes) and time.monotonic() < deadline:
        try:
            collected.append(reports.get(timeout=1))
        except queue.Empty:
            if not any(process.is_alive() for process in processes):
                break
    return collected


def measure_floor_load(
    floor_url: str,
    floor: Target,
    *,
    sessions: int,
    visits: int,
    timeout_s: float,
    ramp_s: float = 0.0,
) -> tuple[SessionTimes, SessionTimes]:
    """The same burst on the one-line page (no writers): one session, then `sessions`,
    each making `visits` visits. What the browsers and Streamlit cost on this machine
    before any page of ours runs."""
    single = asyncio.run(
        run_sessions(floor_url, [floor], sessions=1, rounds=visits, timeout_s=timeout_s)
    )
    loaded = asyncio.run(
        run_sessions(
            floor_url, [floor], sessions=sessions, rounds=visits, timeout_s=timeout_s, ramp_s=ramp_s
        )
    )
    return single, loaded
