"""Load at the protocol level: concurrent sessions of bench.protocol's client (each one
browser tab's websocket and messages, no browser) cycling overview, team, outcome and
review with changing filters, while writer processes record readings into the same
database; per level of concurrency the p50/p95 time to a page run's last delta, the
errors, and the server's CPU and memory per session.

This replaced the Chromium load of issue 7 (20 browser contexts on the server's 2 CPUs,
which measured Chromium: see FACTS.md); browser time-to-content stays in bench.browser."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import multiprocessing
import os
import queue
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.protocol import PageRun, RunFailed, Session
from bench.table import percentile
from bench.writers import WriterReport, write_until_stopped

# A spawned writer imports the app's modules before its first save: on a busy machine that
# took longer than a short level lasts (a 2-session test level ended with 0 saves).
WRITER_START_TIMEOUT_S = 120.0
WRITER_STOP_TIMEOUT_S = 120  # to finish the save in hand after the stop
HOLD_TIMEOUT_S = 60  # how long finished sessions stay connected for the memory reading
SEED = 42  # think times and the sessions' choices: the same every run


@dataclass(frozen=True)
class Visit:
    """One page run a session asks for: open `url` (path and query), or, with `pick`,
    change the filter labelled pick[0] on the open page to the option pick[1]. The run
    must show `expect` among its headings, markdown, text or alerts."""

    page: str  # the name it is reported under
    url: str = ""
    pick: tuple[str, str] | None = None
    expect: str = ""


@dataclass(frozen=True)
class Plan:
    """What a load level's sessions open: `visits(session, round)` gives one session's
    visits in one round."""

    visits: Callable[[int, int], list[Visit]]
    rounds: int


def unescape(text: str) -> str:
    """Markdown-escaped text (`PI 26\\.4`) as a reader sees it."""
    return re.sub(r"\\(.)", r"\1", text)


def shows(run: PageRun, expected: str) -> bool:
    return not expected or any(expected in unescape(text) for text in run.texts())


@dataclass(frozen=True)
class WorkspaceNames:
    """The names a load plan opens pages with: the PI, the as-of date, and the PI's
    teams (key, name, first outcome key) that have team outcomes."""

    pi: str
    as_of: dt.date
    teams: tuple[tuple[str, str, str], ...]


def dashboard_plan(names: WorkspaceNames, *, rounds: int) -> Plan:
    """Each round: the overview; a team's page; another team picked in its Team filter
    (the widget, as a person does); that team's outcome; the review, as of a date that
    moves back a day each round. Sessions start on different teams."""
    teams = names.teams

    def visits(session: int, round_: int) -> list[Visit]:
        first = teams[(session + round_) % len(teams)]
        second = teams[(session + round_ + 1) % len(teams)]
        as_of = names.as_of - dt.timedelta(days=round_)
        day = as_of.isoformat()
        return [
            Visit("overview", "/?" + urlencode({"pi": names.pi, "as_of": day}), expect="overview"),
            Visit(
                "team",
                "/team?" + urlencode({"team": first[0], "pi": names.pi, "as_of": day}),
                expect=first[1],
            ),
            Visit("team (filter)", pick=("Team", second[1]), expect=second[1]),
            Visit(
                "outcome",
                "/outcome?"
                + urlencode(
                    {"pi": names.pi, "team": second[0], "outcome": second[2], "as_of": day}
                ),
                expect=second[2],
            ),
            Visit(
                "review", "/review?" + urlencode({"pi": names.pi, "as_of": day}), expect="review"
            ),
        ]

    return Plan(visits, rounds)


def one_line_plan(*, runs: int, expect: str = "hello") -> Plan:
    """The one-line page, `runs` times a session (one round)."""
    return Plan(lambda session, round_: [Visit("one-line", "/", expect=expect)] * runs, 1)


@dataclass(frozen=True)
class LevelTimes:
    """One level of concurrency: every finished run's seconds (by page), the failed runs,
    how long the timed-out runs waited, and what the server used meanwhile."""

    sessions: int
    times: tuple[tuple[str, float], ...]
    errors: tuple[str, ...]
    timed_out: tuple[float, ...]
    seconds: float
    server_cpu_s: float | None = None
    client_cpu_s: float = 0.0
    rss_before_mb: float | None = None
    rss_open_mb: float | None = None  # every session still connected
    # Behind nginx: each server process's CPU seconds (in server_pids' order), and the
    # process (its upstream address) each session's last connection reached.
    server_cpu_by_process: tuple[float, ...] = ()
    upstreams: tuple[str, ...] = ()

    @property
    def runs(self) -> int:
        return len(self.times) + len(self.errors)

    def _values(self, page: str | None = None) -> tuple[float, ...]:
        chosen = tuple(t for name, t in self.times if page is None or name == page)
        return chosen + (self.timed_out if page is None else ())

    def p50(self, page: str | None = None) -> float:
        return percentile(self._values(page), 0.50)

    def p95(self, page: str | None = None) -> float:
        return percentile(self._values(page), 0.95)

    def pages(self) -> list[str]:
        return list(dict.fromkeys(name for name, _ in self.times))

    def sessions_by_upstream(self) -> dict[str, int]:
        """How many sessions landed on each process, by its upstream address."""
        counts: dict[str, int] = {}
        for upstream in self.upstreams:
            counts[upstream or "?"] = counts.get(upstream or "?", 0) + 1
        return dict(sorted(counts.items()))

    @property
    def cpu_per_session_s(self) -> float | None:
        return None if self.server_cpu_s is None else self.server_cpu_s / self.sessions

    @property
    def memory_per_session_mb(self) -> float | None:
        if self.rss_before_mb is None or self.rss_open_mb is None:
            return None
        return (self.rss_open_mb - self.rss_before_mb) / self.sessions


@dataclass
class _Shared:
    """What the sessions of one level share: the hold (keep connected until the
    server's memory is read) and the count of sessions done."""

    release: asyncio.Event = field(default_factory=asyncio.Event)
    done: int = 0
    all_done: asyncio.Event = field(default_factory=asyncio.Event)
    sessions: int = 0

    def finished(self) -> None:
        self.done += 1
        if self.done >= self.sessions:
            self.all_done.set()


async def _session(
    base_url: str,
    plan: Plan,
    index: int,
    *,
    timeout_s: float,
    think_s: float,
    delay_s: float,
    shared: _Shared,
    cookies: Mapping[str, str] | None = None,
) -> tuple[list[tuple[str, float]], list[RunFailed], str]:
    """One session: its visits, round after round, a think time (0.5x-1.5x `think_s`,
    seeded) after each; a failed run closes the connection and the next visit opens a
    new one (a person reloads), with the same `cookies` (behind nginx: the same process).
    Stays connected until the level's memory is read. Returns the runs' times, the
    failures and the upstream (process behind nginx) its last connection reached."""
    times: list[tuple[str, float]] = []
    errors: list[RunFailed] = []
    chooser = random.Random(SEED * 1000 + index)
    visits = [v for r in range(plan.rounds) for v in plan.visits(index, r)]
    await asyncio.sleep(delay_s)
    client: Session | None = None
    upstream = ""
    try:
        for visit in visits:
            try:
                if client is None:
                    if not visit.url:
                        raise RunFailed(
                            f"{visit.page}: no page open to pick a filter on", elapsed=0
                        )
                    client = Session(
                        base_url, first_url=visit.url, timeout_s=timeout_s, cookies=cookies
                    )
                    await client.connect()
                    upstream = client.upstream
                if visit.pick is not None:
                    run = await client.pick(*visit.pick)
                else:
                    run = await client.open(visit.url)
                if not shows(run, visit.expect):
                    raise RunFailed(
                        f"{visit.page}: {visit.expect!r} is not on the page", elapsed=run.seconds
                    )
                times.append((visit.page, run.seconds))
            except Exception as error:  # every failure counts; the session goes on
                failed = (
                    error
                    if isinstance(error, RunFailed)
                    else RunFailed(f"{visit.page}: {type(error).__name__}: {error}", elapsed=0)
                )
                errors.append(failed)
                if client is not None:
                    await client.close()
                    client = None
            if think_s:
                await asyncio.sleep(think_s * chooser.uniform(0.5, 1.5))
        shared.finished()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(shared.release.wait(), timeout=HOLD_TIMEOUT_S + timeout_s)
    finally:
        if client is not None:
            await client.close()
    return times, errors, upstream


def process_cpu_s(pid: int) -> float:
    """User and system CPU seconds a running process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_level(
    base_url: str,
    plan: Plan,
    *,
    sessions: int,
    timeout_s: float,
    think_s: float = 0.0,
    ramp_s: float = 0.0,
    server_pid: int | None = None,
    server_rss: Callable[[], float] | None = None,
    server_pids: Sequence[int] = (),
    cookies_for: Callable[[int], Mapping[str, str]] | None = None,
) -> LevelTimes:
    """`sessions` concurrent protocol sessions, starting evenly over `ramp_s` seconds;
    the server's CPU over the level, and its memory before and with all of them open.
    Several server processes (behind nginx): `server_pids`, CPU summed and per process;
    `cookies_for(session)` presets a session's cookies (pins it to a process)."""
    shared = _Shared(sessions=sessions)
    rss_before = server_rss() if server_rss else None
    server_before = process_cpu_s(server_pid) if server_pid else None
    pids_before = [process_cpu_s(pid) for pid in server_pids]
    client_before = time.process_time()
    started = time.perf_counter()
    tasks = [
        asyncio.create_task(
            _session(
                base_url,
                plan,
                i,
                timeout_s=timeout_s,
                think_s=think_s,
                delay_s=ramp_s * i / sessions,
                shared=shared,
                cookies=cookies_for(i) if cookies_for else None,
            )
        )
        for i in range(sessions)
    ]
    everyone = asyncio.gather(*tasks)
    waited = asyncio.create_task(shared.all_done.wait())
    await asyncio.wait({waited, everyone}, return_when=asyncio.FIRST_COMPLETED)
    seconds = time.perf_counter() - started
    server_cpu = (
        process_cpu_s(server_pid) - server_before
        if server_pid and server_before is not None
        else None
    )
    by_process = tuple(
        process_cpu_s(pid) - before for pid, before in zip(server_pids, pids_before, strict=True)
    )
    if server_pids:
        server_cpu = sum(by_process)
    client_cpu = time.process_time() - client_before
    rss_open = server_rss() if server_rss else None
    shared.release.set()
    results = await everyone
    waited.cancel()
    failed = [e for result in results for e in result[1]]
    return LevelTimes(
        sessions=sessions,
        times=tuple(t for result in results for t in result[0]),
        errors=tuple(str(e) for e in failed),
        timed_out=tuple(e.elapsed for e in failed if e.timed_out),
        seconds=seconds,
        server_cpu_s=server_cpu,
        client_cpu_s=client_cpu,
        rss_before_mb=rss_before,
        rss_open_mb=rss_open,
        server_cpu_by_process=by_process,
        upstreams=tuple(result[2] for result in results),
    )


@dataclass(frozen=True)
class LoadResult:
    levels: tuple[LevelTimes, ...]
    writers: tuple[WriterReport, ...]
    one_line: tuple[LevelTimes, ...] = ()

    @property
    def writer_errors(self) -> int:
        return sum(w.errors for w in self.writers)

    def error_lines(self) -> list[str]:
        lines = [f"{level.sessions} sessions: {e}" for level in self.levels for e in level.errors]
        for writer in self.writers:
            lines += [f"writer {writer.index}: {e}" for e in writer.first_errors]
        return lines


def measure_load(
    server_url: str,
    plan: Plan,
    *,
    database_url: str,
    levels: Sequence[int],
    writers: int,
    timeout_s: float,
    first_day: dt.date,
    writer_pause_s: float,
    think_s: float = 0.0,
    ramp_s: float = 0.0,
    server_pid: int | None = None,
    server_rss: Callable[[], float] | None = None,
    server_pids: Sequence[int] = (),
    cookies_for: Callable[[int], Mapping[str, str]] | None = None,
    warm_sessions: int = 1,
) -> LoadResult:
    """Every level in turn (1, 20, 50 sessions ...) while `writers` processes record
    readings through the write path the whole time. Behind nginx, `warm_sessions` (one
    per process, pinned by `cookies_for`) warm every process up."""
    spawn = multiprocessing.get_context("spawn")  # no inherited engine or event loop
    stop = spawn.Event()
    reports = spawn.Queue()
    at_work = [spawn.Event() for _ in range(writers)]
    processes = [
        spawn.Process(
            target=write_until_stopped,
            args=(database_url, index, writers, first_day, writer_pause_s, stop, reports),
            kwargs={"at_work": at_work[index]},
            daemon=True,
        )
        for index in range(writers)
    ]
    for process in processes:
        process.start()
    results: list[LevelTimes] = []
    try:
        _wait_until_at_work(at_work, processes, timeout_s=WRITER_START_TIMEOUT_S)
        # One untimed session through one round first: the server's first runs import
        # the pages' modules and fill its read caches, as earlier visitors would have.
        print("[load] warm-up session ...", flush=True)
        warm = asyncio.run(
            run_level(
                server_url,
                replace(plan, rounds=1),
                sessions=warm_sessions,
                timeout_s=timeout_s * 3,
                cookies_for=cookies_for,
            )
        )
        if warm.errors:
            print(f"[load] warm-up: {warm.errors[0]}", flush=True)
        for sessions in levels:
            print(f"[load] {sessions} sessions ...", flush=True)
            results.append(
                asyncio.run(
                    run_level(
                        server_url,
                        plan,
                        sessions=sessions,
                        timeout_s=timeout_s,
                        think_s=think_s,
                        ramp_s=ramp_s,
                        server_pid=server_pid,
                        server_rss=server_rss,
                        server_pids=server_pids,
                        cookies_for=cookies_for,
                    )
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
    if not any(level.times for level in results):
        first = [e for level in results for e in level.errors][:5]
        raise SystemExit("load: no session finished a page run: " + "; ".join(first))
    return LoadResult(
        levels=tuple(results), writers=tuple(sorted(writer_reports, key=lambda w: w.index))
    )


def _wait_until_at_work(
    at_work: Sequence[Any], processes: Sequence[Any], *, timeout_s: float
) -> None:
    """Until every writer has tried its first save, so that they write throughout every
    timed level; a writer that died or is still starting after `timeout_s` is not waited
    for (its report says what it did)."""
    deadline = time.monotonic() + timeout_s
    for event, process in zip(at_work, processes, strict=True):
        while not event.wait(0.2) and process.is_alive() and time.monotonic() < deadline:
            pass


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


def measure_one_line(
    floor_url: str,
    *,
    levels: Sequence[int],
    runs: int,
    timeout_s: float,
    think_s: float = 0.0,
    ramp_s: float = 0.0,
    server_pid: int | None = None,
) -> tuple[LevelTimes, ...]:
    """The same levels on the one-line page (no writers): what Streamlit itself costs
    per run at that concurrency, before any page of ours runs."""
    return tuple(
        asyncio.run(
            run_level(
                floor_url,
                one_line_plan(runs=runs),
                sessions=sessions,
                timeout_s=timeout_s,
                think_s=think_s,
                ramp_s=ramp_s,
                server_pid=server_pid,
            )
        )
        for sessions in levels
    )
