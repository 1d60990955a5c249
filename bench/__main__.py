"""The benchmark suite: every figure of issue 7 against its floor, measured in one run on
one scaled workspace, printed as a table and written to bench/RESULTS.md.

    python -m bench [--quick] [--db PATH] [--only browser,pages,...] [--load] [--repeat N]
    python -m bench --load --processes 1,2 --postgres-url URL [--sessions 1,10]

Figures: report (PI report queries vs hand-written SQL), import (100,000-row CSV vs raw
executemany), pages (AppTest page runs, cold and warm, vs a one-line page), browser
(time-to-content in Chromium on a cold and a warm cache vs a same-elements floor per
dashboard, with a one-line page beside), load (protocol-level sessions at 1, 20 and 50 at
once while writers record readings: page-run percentiles, errors, server CPU and memory per
session; `--load` runs only this), version (the data version check every page
run makes, vs SELECT 1), sync (`sync` of 500 metrics from a SQL source vs the source
queries alone). With --processes 1,2 and --postgres-url, the load runs instead
against 1 and then 2 processes behind nginx on PostgreSQL (bench/several.py). Only a run of every figure at full size
rewrites bench/RESULTS.md; other runs print, and write Markdown only with --out."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench.table import COUNT, Figure, Machine, render_markdown, render_text, write_results
from bench.workspace import (
    BenchWorkspace,
    dashboard_pages,
    prepare,
    remove_writer_rows,
    update_pages,
)

if TYPE_CHECKING:
    from bench.browser import Server
    from bench.floors import Floor
    from bench.load import LoadResult, Plan
    from bench.workspace import PageSpec

FIGURES = ("report", "import", "pages", "browser", "load", "version", "api", "sync")
ALIASES = {"memory": "load"}
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
AIM_BROWSER = 1.3
AIM_WARM = 1.5
AIM_COLD = 4.0
AIM_REPORT = 2.0
AIM_IMPORT = 3.0
AIM_LOAD_P95 = 3.0
AIM_LOAD_P95_AT = 20  # the aim: 20 sessions' p95 within 3x one session's
LOAD_LEVELS = (1, 20, 50)
THINK_S = 5.0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(__doc__ or "").split("\n\n")[0],
        epilog=(__doc__ or "").split("\n\n", 2)[-1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a tenth of the full workspace")
    parser.add_argument(
        "--db", help="SQLite file to build the workspace into once and reuse on later runs"
    )
    parser.add_argument(
        "--only",
        type=_figure_list,
        default=FIGURES,
        help=f"comma-separated subset of: {', '.join(FIGURES)} (memory comes with load)",
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs per median: browser and pages (default 5)"
    )
    parser.add_argument(
        "--report-repeat", type=int, default=0, help="report runs (default 15, 5 with --quick)"
    )
    parser.add_argument(
        "--import-repeat", type=int, default=3, help="imports on fresh copies (default 3)"
    )
    parser.add_argument("--import-rows", type=int, default=100_000, help="default 100000")
    parser.add_argument(
        "--sync-metrics", type=int, default=500, help="sync: metrics with a SQL source (500)"
    )
    parser.add_argument(
        "--load",
        action="store_true",
        help="only the protocol-level load (the same as --only load)",
    )
    parser.add_argument(
        "--sessions",
        type=_levels,
        default=LOAD_LEVELS,
        help="load: comma-separated levels of concurrent protocol sessions, the first the "
        "baseline (default 1,20,50)",
    )
    parser.add_argument(
        "--postgres-url",
        help="version: also measure on this migrated PostgreSQL database of Outcome Board; "
        "--processes: the server for a scratch database (created, filled, dropped)",
    )
    parser.add_argument(
        "--processes",
        type=_levels,
        help="load: run it against each of these numbers of `streamlit run` processes "
        "behind nginx on PostgreSQL (needs --postgres-url), e.g. 1,2; the first the baseline",
    )
    parser.add_argument("--nginx", default="/usr/sbin/nginx", help="--processes: the nginx binary")
    parser.add_argument("--writers", type=int, default=4, help="load: writer processes")
    parser.add_argument(
        "--rounds", type=int, default=3, help="load: page cycles per session (default 3)"
    )
    parser.add_argument(
        "--writer-pause",
        type=float,
        default=0.5,
        help="load: seconds each writer waits between saves (default 0.5)",
    )
    parser.add_argument(
        "--ramp",
        type=float,
        default=0.0,
        help="load: seconds over which the sessions start, evenly (default 0: all at once)",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=THINK_S,
        help=f"load: a session's mean pause after each page run, seconds (default {THINK_S:g})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120,
        help="seconds before a browser visit or a page run fails",
    )
    parser.add_argument("--out", type=Path, help="write the Markdown table here")
    args = parser.parse_args(argv)
    if args.load:
        args.only = ("load",)
    if args.processes and not args.postgres_url:
        parser.error("--processes needs --postgres-url (the processes share PostgreSQL)")
    return args


def _levels(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        levels = ()
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give session counts such as 1,20,50")
    return levels


def _figure_list(text: str) -> tuple[str, ...]:
    names = [ALIASES.get(n.strip(), n.strip()) for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in FIGURES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown figure {', '.join(unknown) or '(none)'}: choose from {', '.join(FIGURES)}"
        )
    return tuple(n for n in FIGURES if n in names)


class Stages:
    """Wall seconds of each stage, printed as it ends (to estimate a full run)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def run(self, name: str, action: Callable[[], list[Figure]]) -> list[Figure]:
        print(f"[{name}] ...", flush=True)
        started = time.perf_counter()
        figures = action()
        self.seconds[name] = time.perf_counter() - started
        print(f"[{name}] {self.seconds[name]:.1f} s", flush=True)
        return figures

    def line(self) -> str:
        return "stages: " + ", ".join(f"{name} {s:.0f} s" for name, s in self.seconds.items())


# ---------------------------------------------------------------- the figures


def report_figures(ws: BenchWorkspace, args: argparse.Namespace) -> list[Figure]:
    from bench.report import default_repeat, measure_report
    from db.engine import make_engine

    engine = make_engine(ws.url)
    try:
        times = measure_report(
            engine, repeat=args.report_repeat or default_repeat(quick=args.quick)
        )
    finally:
        engine.dispose()
    return [
        Figure(
            "PI report queries vs hand-written SQL", times.snapshot, times.hand, "s", AIM_REPORT
        ),
        Figure("whole PI report (JSON)", times.report, None, "s"),
    ]


def import_figures(ws: BenchWorkspace, args: argparse.Namespace, workdir: Path) -> list[Figure]:
    from bench.import_bench import measure_import

    times = measure_import(
        ws.path, rows=args.import_rows, workdir=workdir, repeat=args.import_repeat
    )
    return [
        Figure(
            f"import {times.rows:,}-row CSV vs raw executemany",
            times.total[0],
            times.raw[0],
            "s",
            AIM_IMPORT,
        ),
        *whole_import_figures(ws, workdir),
    ]


def whole_import_figures(ws: BenchWorkspace, workdir: Path) -> list[Figure]:
    """The workspace's whole reading count (2,000,000 at full size) loaded through the
    import path into an empty workspace of as many metrics, against raw executemany."""
    from bench.import_bench import MAX_FILE_READINGS, measure_whole_import

    times = measure_whole_import(rows=ws.readings, metrics=ws.metrics, workdir=workdir)
    return [
        Figure(
            f"import-readings of {times.rows:,} rows ({times.files} files of at most "
            f"{MAX_FILE_READINGS:,}, the per-file limit) vs raw executemany",
            times.total[0],
            times.raw[0],
            "s",
            AIM_IMPORT,
        )
    ]


def sync_figures(args: argparse.Namespace, workdir: Path) -> list[Figure]:
    from bench.sync_bench import measure_sync

    folder = workdir / "sync"
    folder.mkdir()
    times = measure_sync(folder, metrics=args.sync_metrics)
    return [
        Figure(
            f"sync of {times.metrics} metrics from the SQL source vs the source queries alone",
            times.first,
            times.queries,
            "s",
        ),
        Figure("sync again, nothing new (a cron run)", times.again, times.queries, "s"),
    ]


def version_figures(ws: BenchWorkspace, args: argparse.Namespace) -> list[Figure]:
    from bench.version import measure_version_check
    from db.engine import is_sqlite, make_engine

    figures = []
    for url in (ws.url, args.postgres_url):
        if not url:
            continue
        label = "SQLite" if is_sqlite(url) else "PostgreSQL"
        engine = make_engine(url)
        try:
            times = measure_version_check(engine, repeat=200 if args.quick else 2_000)
        finally:
            engine.dispose()
        figures.append(
            Figure(
                f"data version check per page run, {label} (vs SELECT 1)",
                times.check,
                times.floor,
                "s",
            )
        )
    return figures


def api_figures(ws: BenchWorkspace, args: argparse.Namespace, workdir: Path) -> list[Figure]:
    from bench.api_bench import ROWS, measure_api

    times = measure_api(
        ws.path,
        team_key=ws.team,
        pi=ws.pi,
        as_of=ws.today,
        workdir=workdir,
        repeat=20 if args.quick else 50,
    )
    return [
        Figure(
            f"API {ROWS}-row post p50 (vs import_readings directly)",
            times.post.p50,
            times.post_direct.p50,
            "s",
        ),
        Figure(
            f"API {ROWS}-row post p95 (vs import_readings directly)",
            times.post.p95,
            times.post_direct.p95,
            "s",
        ),
        Figure(
            "API report read p50 (vs report_json directly)",
            times.report.p50,
            times.report_direct.p50,
            "s",
        ),
        Figure(
            "API report read p95 (vs report_json directly)",
            times.report.p95,
            times.report_direct.p95,
            "s",
        ),
    ]


def page_figures(ws: BenchWorkspace, args: argparse.Namespace, workdir: Path) -> list[Figure]:
    from bench.pages import measure_pages

    pages, floor = measure_pages(
        dashboard_pages(ws) + update_pages(ws),
        database_url=ws.url,
        workdir=workdir,
        repeat=args.repeat,
    )
    figures = []
    for kind, aim in (("warm", AIM_WARM), ("cold", AIM_COLD)):
        for page in pages:
            who = "admin" if page.page.signed_in else "anonymous"
            figures.append(
                Figure(
                    f"page run {kind}: {page.page.name} ({who})",
                    getattr(page, kind),
                    getattr(floor, kind),
                    "s",
                    aim,
                )
            )
    return figures


def browser_and_load_figures(
    ws: BenchWorkspace, args: argparse.Namespace, workdir: Path, only: Sequence[str]
) -> list[Figure]:
    """The browser figure (the app and the floors, each under `streamlit run`), then the
    load on a fresh app server (so its memory is the load's alone)."""
    from bench.browser import app_server, floor_server

    figures: list[Figure] = []
    if "browser" in only:
        with app_server(ws.url, log_path=workdir / "app.log") as server:
            floors = asyncio.run(_floors(server.base_url, dashboard_pages(ws), args))
            with floor_server(
                workdir / "floors", log_path=workdir / "floors.log", floors=floors
            ) as floor:
                figures += browser_figures(server, floor, dashboard_pages(ws), floors, args)
    if "load" in only and args.processes:
        figures += several_load_figures(ws, args, workdir)
    elif "load" in only:
        with (
            app_server(ws.url, log_path=workdir / "load-app.log") as server,
            floor_server(workdir / "one-line", log_path=workdir / "one-line.log") as floor,
        ):
            figures += load_figures(ws, server, floor, args)
    return figures


async def _floors(
    base_url: str, pages: Sequence[PageSpec], args: argparse.Namespace
) -> dict[str, Floor]:
    """Each dashboard's same-elements floor, from one run of it (bench.floors)."""
    from bench.floors import floor_for
    from bench.protocol import Session

    floors = {}
    for page in pages:
        timeout = args.timeout * 3  # a page's first run on a fresh server imports its modules
        async with Session(base_url, first_url=page.url, timeout_s=timeout) as session:
            floors[page.name] = floor_for(page.name, await session.open(page.url))
        if floors[page.name].skipped:
            print(f"floor {page.name}: not reproduced: {', '.join(floors[page.name].skipped)}")
    return floors


def browser_figures(
    server: Server,
    floor: Server,
    pages: Sequence[PageSpec],
    floors: Mapping[str, Floor],
    args: argparse.Namespace,
) -> list[Figure]:
    from bench.browser import FLOOR_TARGET, floor_target, measure_browser, page_target

    times, _ = asyncio.run(
        measure_browser(
            server.base_url,
            floor.base_url,
            [page_target(page) for page in pages],
            repeat=args.repeat,
            timeout_s=args.timeout,
        )
    )
    figures = []
    for cache in ("cold", "warm"):
        medians = getattr(times, cache)
        for page in pages:
            own = floor_target(page.name).name
            skipped = floors[page.name].skipped
            note = f"; floor lacks {', '.join(skipped)}" if skipped else ""
            figures.append(
                Figure(
                    f"browser time-to-content, {cache} cache: {page.name} "
                    f"({times.drawings[page.name]}) vs its same-elements floor "
                    f"({times.drawings[own]}{note})",
                    medians[page.name],
                    medians[own],
                    "s",
                    AIM_BROWSER,
                    second_floor=medians[FLOOR_TARGET.name],
                )
            )
    return figures


def load_plan(ws: BenchWorkspace, args: argparse.Namespace) -> Plan:
    from bench.load import WorkspaceNames, dashboard_plan
    from bench.workspace import team_outcomes

    teams = team_outcomes(ws)
    if len(teams) < 2:
        raise SystemExit(f"load: {ws.pi} needs two teams with outcomes, has {len(teams)}")
    names = WorkspaceNames(pi=ws.pi, as_of=ws.today, teams=tuple(teams))
    return dashboard_plan(names, rounds=args.rounds)


def load_figures(
    ws: BenchWorkspace, server: Server, floor: Server, args: argparse.Namespace
) -> list[Figure]:
    from bench.load import measure_load, measure_one_line

    plan = load_plan(ws, args)
    levels: tuple[int, ...] = args.sessions
    result = measure_load(
        server.base_url,
        plan,
        database_url=ws.url,
        levels=levels,
        writers=args.writers,
        timeout_s=args.timeout,
        first_day=ws.today + dt.timedelta(days=1),
        writer_pause_s=args.writer_pause,
        think_s=args.think,
        ramp_s=args.ramp,
        server_pid=server.pid,
        server_rss=server.rss_mb,
    )
    for line in result.error_lines()[:10]:
        print(f"load error: {line}")
    runs_per_session = sum(len(plan.visits(0, r)) for r in range(plan.rounds))
    print("[load] the one-line page at the same levels ...", flush=True)
    one_line = measure_one_line(
        floor.base_url,
        levels=levels,
        runs=runs_per_session,
        timeout_s=args.timeout,
        think_s=args.think,
        ramp_s=args.ramp,
        server_pid=floor.pid,
    )
    base = result.levels[0]
    writers = f"{args.writers} writers"
    figures: list[Figure] = []
    for level, line in zip(result.levels, one_line, strict=True):
        n = level.sessions
        who = f"{n} session{'s' if n > 1 else ''} + {writers} vs {base.sessions}"
        if level.timed_out:
            who += ", timeouts counted at their wait"
        figures += [
            Figure(
                f"protocol load p50 page run, {who}",
                level.p50(),
                base.p50(),
                "s",
                second_floor=line.p50(),
            ),
            Figure(
                f"protocol load p95 page run, {who}",
                level.p95(),
                base.p95(),
                "s",
                AIM_LOAD_P95 if n == AIM_LOAD_P95_AT else None,
                second_floor=line.p95(),
            ),
            Figure(
                f"protocol load errors, {n} sessions ({level.runs} page runs)",
                len(level.errors),
                None,
                "",
                0,
                kind=COUNT,
            ),
        ]
        if level.cpu_per_session_s is not None and base.cpu_per_session_s is not None:
            figures.append(
                Figure(
                    f"server CPU per session, {n} sessions ({level.server_cpu_s:.1f} s in "
                    f"{level.seconds:.0f} s on {os.cpu_count()} CPUs; the client "
                    f"{level.client_cpu_s:.1f} s) vs {base.sessions}",
                    level.cpu_per_session_s,
                    base.cpu_per_session_s,
                    "s",
                )
            )
        if level.memory_per_session_mb is not None:
            figures.append(
                Figure(
                    f"server memory per open session, {n} sessions (RSS "
                    f"{level.rss_before_mb:.0f} MB before, {level.rss_open_mb:.0f} MB with "
                    "all open)",
                    level.memory_per_session_mb,
                    None,
                    "MB",
                )
            )
    top = result.levels[-1]
    for page in top.pages():
        if page in base.pages():
            figures.append(
                Figure(
                    f"protocol load p95 by page, {top.sessions} sessions vs {base.sessions}: "
                    f"{page}",
                    top.p95(page),
                    base.p95(page),
                    "s",
                )
            )
    saves = sum(w.saves for w in result.writers)
    figures.append(
        Figure(
            f"writer saves failed ({saves} saved)", result.writer_errors, None, "", 0, kind=COUNT
        )
    )
    return figures


def several_load_figures(
    ws: BenchWorkspace, args: argparse.Namespace, workdir: Path
) -> list[Figure]:
    """The same load (plan, levels, writers) against each number of processes behind
    nginx, on one scratch PostgreSQL database holding the bench workspace; each count's
    percentiles, errors and CPU per process beside the first count's."""
    from bench.load import measure_load
    from bench.several import deployment, load_workspace, remove_writer_rows_at, scratch_database
    from bench.workspace import sizes

    if not Path(args.nginx).exists():
        raise SystemExit(f"--processes: {args.nginx} is missing (apt-get install nginx)")
    plan = load_plan(ws, args)
    results: dict[int, LoadResult] = {}
    spread: dict[int, list[str]] = {}
    with scratch_database(args.postgres_url) as url:
        print("[load] the workspace into a scratch PostgreSQL database ...", flush=True)
        load_workspace(url, sizes(quick=args.quick))
        for count in args.processes:
            print(f"[load] {count} process(es) behind nginx ...", flush=True)
            remove_writer_rows_at(url)
            with deployment(
                url, processes=count, run_dir=workdir / f"run-{count}", nginx=args.nginx
            ) as deployed:
                results[count] = measure_load(
                    deployed.base_url,
                    plan,
                    database_url=url,
                    levels=args.sessions,
                    writers=args.writers,
                    timeout_s=args.timeout,
                    first_day=ws.today + dt.timedelta(days=1),
                    writer_pause_s=args.writer_pause,
                    think_s=args.think,
                    ramp_s=args.ramp,
                    server_pids=deployed.pids,
                    cookies_for=deployed.cookies_for,
                    warm_sessions=count,
                )
                spread[count] = deployed.upstreams
            for line in results[count].error_lines()[:10]:
                print(f"load error ({count} processes): {line}")
    return several_figures(results, spread, writers=args.writers)


def several_figures(
    results: Mapping[int, LoadResult], upstreams: Mapping[int, Sequence[str]], *, writers: int
) -> list[Figure]:
    """Per level, per number of processes: p50 and p95 against the first number's, the
    errors, the sessions each process got, and the server CPU (total, per process)."""
    counts = list(results)
    base = results[counts[0]]
    figures: list[Figure] = []
    for index, base_level in enumerate(base.levels):
        n = base_level.sessions
        for count in counts:
            level = results[count].levels[index]
            by_upstream = level.sessions_by_upstream()
            landed = ", ".join(
                f"{by_upstream.get(upstream, 0)} on {upstream}" for upstream in upstreams[count]
            )
            strays = sum(v for k, v in by_upstream.items() if k not in upstreams[count])
            if strays:
                landed += f", {strays} unknown"
            who = (
                f"{n} session{'s' if n > 1 else ''} + {writers} writers, {count} "
                f"process{'es' if count > 1 else ''} behind nginx vs {counts[0]}"
            )
            if level.timed_out:
                who += ", timeouts counted at their wait"
            figures += [
                Figure(f"protocol load p50 page run, {who}", level.p50(), base_level.p50(), "s"),
                Figure(f"protocol load p95 page run, {who}", level.p95(), base_level.p95(), "s"),
                Figure(
                    f"protocol load errors, {n} sessions, {count} processes "
                    f"({level.runs} page runs; sessions: {landed})",
                    len(level.errors),
                    None,
                    "",
                    0,
                    kind=COUNT,
                ),
            ]
            if level.server_cpu_s is not None and base_level.server_cpu_s is not None:
                per_process = " + ".join(f"{s:.1f}" for s in level.server_cpu_by_process)
                figures.append(
                    Figure(
                        f"server CPU, {n} sessions, {count} processes ({per_process} s in "
                        f"{level.seconds:.0f} s on {os.cpu_count()} CPUs) vs {counts[0]}",
                        level.server_cpu_s,
                        base_level.server_cpu_s,
                        "s",
                    )
                )
    for count in counts:
        result = results[count]
        saves = sum(w.saves for w in result.writers)
        figures.append(
            Figure(
                f"writer saves failed, {count} processes ({saves} saved)",
                result.writer_errors,
                None,
                "",
                0,
                kind=COUNT,
            )
        )
    return figures


def how_measured(args: argparse.Namespace, ws: BenchWorkspace | None) -> list[str]:
    from bench.writers import SAVE_SIZE

    where = ws.summary() if ws else "the scaled workspace"
    return [
        f"Workspace: the scaled demo workspace (seed/scaled.py) in one SQLite file: {where}.",
        "Report: bench/report.py; load_pi_snapshot (the report's queries) against the same "
        "inputs fetched by hand-written SQL on the raw driver, checked to be equal, medians "
        "of runs taken in turns; the whole report (JSON) for information.",
        f"Import: bench/import_bench.py; {args.import_rows:,} new readings of the workspace's "
        "metrics as a CSV through parse_reading_file and import_readings into a copy of the "
        "workspace, against raw sqlite3.executemany of the same resolved rows into another "
        f"copy; wall time, median of {args.import_repeat} runs on fresh copies. The whole "
        "import: as many readings as the workspace holds, of as many metrics (one team), "
        "into an empty migrated database through parse_reading_file and import_readings as "
        "consecutive CSV files of 200,000 readings (a file may hold no more: README "
        '"Reading files"), each in its own transaction into the table the earlier ones grew, '
        "summed; against raw sqlite3.executemany of all the rows at once into another copy; "
        "one run.",
        "Page runs: bench/pages.py; streamlit.testing.v1.AppTest of each page (building the "
        "AppTest, query parameters and run); cold = st.cache_data and st.cache_resource "
        "cleared first (so the engine is rebuilt and the schema checked), warm = run again "
        "at once; floor = a one-line page (st.write) run the same way; one untimed run of "
        f"each first (module imports); median of {args.repeat}. Dashboards as an anonymous "
        "viewer (public read), Record, Plan and Admin as a signed-in admin.",
        "Browser: bench/browser.py and bench/floors.py; `streamlit run app.py` "
        "(OUTCOMES_DEMO=false, headless, free loopback port) and the floors as an app of "
        "their own with the same config and flags: the one-line page (st.write) and, per "
        "dashboard, a same-elements floor generated from one run of that page read over "
        "the protocol (the same headings, markdown, text, alerts, filter widgets and page "
        "links word for word; one Vega chart and one table with three rows of trivial "
        "data; one of every other element and block kind). Debian's Chromium headless via "
        "Playwright, time from page.goto until the content is drawn: script state "
        "notRunning, no status widget, no loading skeleton, the main heading (the one-line "
        "page: its text) present, and at least as many Vega charts and tables as the page "
        "draws, each drawn (a chart with marks, as SVG marks or canvas; a table with its "
        "grid canvas), checked every animation frame. The counts (in the figure's name) "
        "come from one untimed calibration visit per page (which also fills the server's "
        "read caches, kept until the data version changes, as earlier visitors would). Cold cache: "
        "a fresh browser context per visit; warm cache: a new tab in a context kept per "
        "page that opened it once before (its HTTP cache holds the frontend's JavaScript "
        "and CSS). Each round visits the one-line page, then each floor and its page, "
        f"cold, then the same warm; median of {args.repeat} rounds. The ratio is to the "
        "same-elements floor; the one-line floor and the ratio to it are beside.",
        f"Load: bench/load.py over bench/protocol.py (a client of Streamlit's websocket "
        "protocol, no browser: see its docstring). Per level of concurrency "
        f"({', '.join(str(n) for n in args.sessions)} sessions, the first the baseline), "
        f"each session cycles {args.rounds} times through the overview, a team's page, "
        "another team picked in its Team filter (a widget state, as a person picks it), "
        "that team's outcome and the review, with the as-of date a day earlier each "
        "round and sessions starting on different teams, each page run followed by a "
        f"think time of 0.5-1.5 x {args.think:g} s (seeded); sessions start "
        + (f"evenly over {args.ramp:g} s" if args.ramp else "all at once")
        + f". Throughout, {args.writers} processes save readings through "
        f"db.writes.record_readings ({SAVE_SIZE} a save, {args.writer_pause:g} s apart, "
        "dated after the as-of date so the pages' numbers stay the same; removed after the "
        "run), each at work (its first save tried) before the first session opens a page. "
        "A page run's time: from sending rerun_script to receiving script_finished "
        "(the last delta of the run). Errors: runs that timed out (after "
        f"{args.timeout:g} s; also counted in the percentiles at their wait), lost their "
        "connection, did not finish, drew a Streamlit exception, or lacked the page's "
        "expected heading; a failed run's session reconnects. Server CPU: the server "
        "process's user and system time from /proc over the level, per session; the "
        "client's own CPU (this process) is in the name. Memory per open session: the "
        "server's RSS with every session of the level still connected, minus before "
        "they connected, per session. Beside each percentile: the one-line page at the "
        "same level (no writers), what Streamlit itself costs at that concurrency.",
        "Several processes (with --processes): bench/several.py; the same load against "
        "each number of `streamlit run` processes started by deploy/several.py behind its "
        "nginx (cookie-sticky), all on one scratch PostgreSQL database of the "
        "--postgres-url server holding the same workspace (same generator, sizes and "
        "date), writers' rows removed before each; session i pinned to process i mod n "
        "by its outcomes_node cookie, kept by the client across the HTML, host-config and "
        "websocket requests; where each session's websocket landed from nginx's "
        "X-Outcomes-Upstream header; server CPU summed over the processes and listed per "
        "process; one warm-up session per process first. No one-line page beside.",
        "Version: bench/version.py; what every page run adds to read the data version "
        "(a read session and one primary-key query, ui.data.current_data_version) against "
        "a read session running SELECT 1, in turns, medians of 2,000 (200 with --quick); "
        "on the workspace's SQLite file and, with --postgres-url, on PostgreSQL.",
        "Sync: bench/sync_bench.py; `sync` (sources.sync.sync_sources) of --sync-metrics "
        "metrics over 50 teams in a scratch database, each a `sql` source on a scratch SQLite "
        "warehouse (30 days per metric): the first sync writes every point, the second finds "
        "nothing new; the floor is the same queries on one plain sqlite3 connection.",
    ]


# ---------------------------------------------------------------- the run


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    only: tuple[str, ...] = args.only
    machine = Machine(command=shlex.join(["python", "-m", "bench", *argv]))
    stages = Stages()
    figures: list[Figure] = []
    ws: BenchWorkspace | None = None
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        workdir = Path(folder)
        try:
            started = time.perf_counter()
            ws = prepare(db=args.db, quick=args.quick, workdir=workdir)
            stages.seconds["workspace"] = time.perf_counter() - started
            machine.workspace = ws.summary()
            print(ws.summary(), flush=True)
            if "report" in only:
                figures += stages.run("report", lambda: report_figures(ws, args))
            if "import" in only:
                figures += stages.run("import", lambda: import_figures(ws, args, workdir))
            if "pages" in only:
                figures += stages.run("pages", lambda: page_figures(ws, args, workdir))
            if "version" in only:
                figures += stages.run("version", lambda: version_figures(ws, args))
            if "api" in only:
                figures += stages.run("api", lambda: api_figures(ws, args, workdir))
            if "sync" in only:
                figures += stages.run("sync", lambda: sync_figures(args, workdir))
            if "browser" in only or "load" in only:
                figures += stages.run(
                    "browser+load", lambda: browser_and_load_figures(ws, args, workdir, only)
                )
        finally:
            if ws is not None:
                remove_writer_rows(ws.path)
    machine.finish()

    print()
    print(render_text(figures, machine))
    print(stages.line())
    markdown = render_markdown(figures, machine, how_measured=how_measured(args, ws))
    complete = only == FIGURES and not args.quick
    out = args.out or (RESULTS if complete else None)
    if out is not None:
        write_results(out, markdown)
        print(f"wrote {out}")
    else:
        print("(a quick or partial run: bench/RESULTS.md is left as it is; --out PATH to save)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
