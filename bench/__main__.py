"""The benchmark suite: every figure of issue 7 against its floor, measured in one run on
one scaled workspace, printed as a table and written to bench/RESULTS.md.

    python -m bench [--quick] [--db PATH] [--only browser,pages,...] [--repeat N]

Figures: report (PI report queries vs hand-written SQL), import (100,000-row CSV vs raw
executemany), pages (AppTest page runs, cold and warm, vs a one-line page), browser
(time-to-content in Chromium vs a one-line page), load (concurrent sessions while writers
record readings, and the server's memory), version (the data version check every page
run makes, vs SELECT 1). Only a run of every figure at full size
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
from collections.abc import Callable, Sequence
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
    from bench.browser import Server, Target

FIGURES = ("report", "import", "pages", "browser", "load", "version")
ALIASES = {"memory": "load"}
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
AIM_BROWSER = 1.3
AIM_WARM = 1.5
AIM_COLD = 4.0
AIM_REPORT = 2.0
AIM_IMPORT = 3.0
AIM_LOAD_P95 = 3.0
LOAD_PAGES = ("overview", "team")


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
        "--postgres-url",
        help="version: also measure on this migrated PostgreSQL database of Outcome Board",
    )
    parser.add_argument("--sessions", type=int, default=20, help="load: browser sessions")
    parser.add_argument("--writers", type=int, default=4, help="load: writer processes")
    parser.add_argument(
        "--rounds", type=int, default=3, help="load: visits of each page per session (default 3)"
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
        "--timeout", type=float, default=120, help="seconds before a browser visit fails"
    )
    parser.add_argument("--out", type=Path, help="write the Markdown table here")
    return parser.parse_args(argv)


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
        )
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
    """The app and the one-line page each under `streamlit run`, for the browser figure
    and then the load (which also runs its burst on the one-line page)."""
    from bench.browser import app_server, floor_server, page_target

    figures: list[Figure] = []
    targets = [page_target(page) for page in dashboard_pages(ws)]
    with (
        app_server(ws.url, log_path=workdir / "app.log") as server,
        floor_server(workdir / "floor", log_path=workdir / "floor.log") as floor,
    ):
        if "browser" in only:
            browser_rows, targets = browser_figures(server, floor, targets, args)
            figures += browser_rows
        if "load" in only:
            load_targets = [t for t in targets if t.name in LOAD_PAGES]
            if "browser" not in only:
                load_targets = asyncio.run(_calibrated(server.base_url, load_targets, args))
            figures += load_figures(ws, server, floor, load_targets, args)
    return figures


def browser_figures(
    server: Server, floor: Server, targets: Sequence[Target], args: argparse.Namespace
) -> tuple[list[Figure], list[Target]]:
    from bench.browser import measure_browser

    times, ready = asyncio.run(
        measure_browser(
            server.base_url, floor.base_url, targets, repeat=args.repeat, timeout_s=args.timeout
        )
    )
    figures = [
        Figure(
            f"browser time-to-content: {name} ({times.drawings[name]})",
            seconds,
            times.floor,
            "s",
            AIM_BROWSER,
        )
        for name, seconds in times.pages.items()
    ]
    return figures, ready


def load_figures(
    ws: BenchWorkspace,
    server: Server,
    floor: Server,
    targets: Sequence[Target],
    args: argparse.Namespace,
) -> list[Figure]:
    from bench.browser import FLOOR_TARGET
    from bench.load import measure_floor_load, measure_load

    result = measure_load(
        server.base_url,
        server.rss_mb,
        ws.url,
        targets,
        server_pid=server.pid,
        sessions=args.sessions,
        writers=args.writers,
        rounds=args.rounds,
        timeout_s=args.timeout,
        first_day=ws.today + dt.timedelta(days=1),
        writer_pause_s=args.writer_pause,
        ramp_s=args.ramp,
    )
    for line in result.error_lines()[:10]:
        print(f"load error: {line}")
    one_line, one_line_loaded = measure_floor_load(
        floor.base_url,
        FLOOR_TARGET,
        sessions=args.sessions,
        visits=args.rounds * len(targets),
        timeout_s=args.timeout,
        ramp_s=args.ramp,
    )
    who = f"{args.sessions} sessions + {args.writers} writers vs 1 session"
    if result.loaded.timed_out or result.single.timed_out:
        who += ", timeouts counted at their wait"
    saves = sum(w.saves for w in result.writers)
    floor_who = f"{args.sessions} sessions vs 1, no writers"
    if one_line_loaded.timed_out or one_line.timed_out:
        floor_who += ", timeouts counted at their wait"
    return [
        Figure(f"load p50 time-to-content, {who}", result.loaded.p50, result.single.p50, "s"),
        Figure(
            f"load p95 time-to-content, {who}",
            result.loaded.p95,
            result.single.p95,
            "s",
            AIM_LOAD_P95,
        ),
        Figure(
            f"load errors ({result.loaded.visits} visits, {saves} writer saves)",
            result.errors,
            None,
            "",
            0,
            kind=COUNT,
        ),
        Figure(
            f"for comparison: the one-line page's load p95, {floor_who} "
            f"({len(one_line_loaded.errors)} failed visits)",
            one_line_loaded.p95,
            one_line.p95,
            "s",
        ),
        Figure(
            f"CPU used during the {args.sessions}-session burst: the app's server vs the "
            f"browser ({result.loaded.seconds:.0f} s of wall time on {os.cpu_count()} CPUs)",
            result.loaded.server_cpu_s or 0.0,
            result.loaded.browser_cpu_s,
            "s",
        ),
        Figure(
            "server memory (RSS) after the load vs after one session",
            result.rss_after_load_mb,
            result.rss_one_session_mb,
            "MB",
        ),
    ]


async def _calibrated(
    base_url: str, targets: Sequence[Target], args: argparse.Namespace
) -> list[Target]:
    """Calibration visits (see bench.browser.calibrate) when the browser figure is not run."""
    from playwright.async_api import async_playwright

    from bench.browser import calibrate, launch

    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            return [await calibrate(browser, base_url, t, timeout_s=args.timeout) for t in targets]
        finally:
            await browser.close()


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
        f"copy; wall time, median of {args.import_repeat} runs on fresh copies.",
        "Page runs: bench/pages.py; streamlit.testing.v1.AppTest of each page (building the "
        "AppTest, query parameters and run); cold = st.cache_data and st.cache_resource "
        "cleared first (so the engine is rebuilt and the schema checked), warm = run again "
        "at once; floor = a one-line page (st.write) run the same way; one untimed run of "
        f"each first (module imports); median of {args.repeat}. Dashboards as an anonymous "
        "viewer (public read), Record, Plan and Admin as a signed-in admin.",
        "Browser: bench/browser.py; `streamlit run app.py` (OUTCOMES_DEMO=false, headless, "
        "free loopback port) and the one-line page as its own app with the same config and "
        "flags; Debian's Chromium headless via Playwright, a fresh context per visit, time "
        "from page.goto until the content is drawn: script state notRunning, no status "
        "widget, no loading skeleton, the main heading (the floor: its text) present, and "
        "at least as many Vega charts and tables as the page draws, each drawn (a chart "
        "with marks, as SVG marks or canvas; a table with its grid canvas), checked every "
        "animation frame. The counts (in the figure's name) come from one untimed "
        "calibration visit per page (which also fills the server's read caches, kept "
        "until the data version changes, as earlier visitors would). Visits go floor, then each "
        f"page, in turns; median of {args.repeat}.",
        f"Load: bench/load.py; one session visiting overview and team {args.rounds} times "
        f"each, then {args.sessions} concurrent sessions (contexts in one Chromium) doing "
        f"the same while {args.writers} processes save readings through "
        f"db.writes.record_readings ({SAVE_SIZE} a save, {args.writer_pause:g} s apart, "
        "dated after the as-of date so the pages' numbers stay the same; removed after the "
        "run); time-to-content as above; errors = failed visits (a timeout after "
        f"{args.timeout:g} s, a browser error, a Streamlit exception element) plus failed "
        "saves; a visit that timed out also counts in the percentiles at the time it "
        "waited. Sessions start "
        + (f"evenly over {args.ramp:g} s" if args.ramp else "all at once")
        + ". The sessions' Chromium and the server share this machine's CPUs: for "
        "comparison the same burst (no writers) also runs on the one-line page. CPU "
        "during the burst: the server process's user and system time from /proc, against "
        "the browser's (Playwright's driver and Chromium) as the rusage of this process's "
        "ended children, so a browser process nobody waited for is not counted.",
        "Version: bench/version.py; what every page run adds to read the data version "
        "(a read session and one primary-key query, ui.data.current_data_version) against "
        "a read session running SELECT 1, in turns, medians of 2,000 (200 with --quick); "
        "on the workspace's SQLite file and, with --postgres-url, on PostgreSQL.",
        "Memory: the server process's resident memory (psutil when installed, else VmRSS "
        "in /proc) right after the single session and right after the load.",
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
