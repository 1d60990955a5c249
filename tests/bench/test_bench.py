"""The benchmark suite's pieces on tiny inputs: the table and its ratio and aim logic, the
command line, and each measuring function once on a tiny scaled workspace (timings are
never asserted; the full benchmark is `python -m bench`, too slow for the test suite)."""

from __future__ import annotations

import asyncio
import datetime as dt
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench import import_bench
from bench.__main__ import FIGURES, parse_args
from bench.import_bench import measure_import
from bench.pages import measure_pages
from bench.report import TODAY, measure_report
from bench.table import (
    COUNT,
    NOTES_HEADING,
    Figure,
    Machine,
    format_value,
    percentile,
    render_markdown,
    render_text,
    write_results,
)
from bench.workspace import (
    WRITER_PREFIX,
    BenchWorkspace,
    dashboard_pages,
    describe,
    remove_writer_rows,
    update_pages,
)
from bench.writers import SAVE_SIZE, batches, write_until_stopped
from db.engine import make_engine, read_session
from db.migrate import upgrade
from db.models import AuditEvent, Reading
from seed.scaled import build_scaled
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scaled workspace small enough to build in a second, at the benchmark's TODAY."""
    path = tmp_path_factory.mktemp("bench") / "tiny.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    build_scaled(engine, teams=2, pis=2, metrics=6, readings=600, today=TODAY)
    engine.dispose()
    return path


def machine() -> Machine:
    return Machine(command="python -m bench --quick", load_end=(1.0, 2.0, 3.0))


# ---------------------------------------------------------------- ratios and aims


@pytest.mark.parametrize(
    ("ours", "floor", "aim", "ratio", "met"),
    [
        (1.2, 1.0, 1.3, 1.2, True),
        (1.3, 1.0, 1.3, 1.3, True),  # the aim itself is met
        (2.0, 1.0, 1.3, 2.0, False),
        (0.5, 1.0, 2.0, 0.5, True),  # faster than the floor
        (3.0, 1.0, None, 3.0, None),  # no aim: reported only
        (1.0, None, 2.0, None, None),  # no floor: no ratio to judge
        (1.0, 0.0, 2.0, None, None),  # a zero floor gives no ratio
    ],
)
def test_ratio_is_ours_over_floor_and_met_when_within_the_aim(
    ours: float, floor: float | None, aim: float | None, ratio: float | None, met: bool | None
) -> None:
    figure = Figure("x", ours, floor, "s", aim)

    assert figure.ratio == (None if ratio is None else pytest.approx(ratio))
    assert figure.met is met


@pytest.mark.parametrize(("errors", "met"), [(0, True), (1, False), (7, False)])
def test_an_error_count_meets_an_aim_of_zero_only_at_zero(errors: int, met: bool) -> None:
    figure = Figure("load errors", errors, None, "", 0, kind=COUNT)

    assert figure.met is met
    assert figure.cells()[3:] == ("—", "≤ 0", "yes" if met else "NO")


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.0123, "s", "12.3 ms"),
        (0.456, "s", "456 ms"),
        (1.5, "s", "1.50 s"),
        (241.4, "MB", "241 MB"),
        (3, "", "3"),
    ],
)
def test_values_are_shown_in_readable_units(value: float, unit: str, text: str) -> None:
    assert format_value(value, unit) == text


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([5.0], 0.95, 5.0),
        ([1.0, 2.0, 3.0], 0.5, 2.0),
        ([4.0, 1.0, 3.0, 2.0], 0.5, 2.5),
        ([float(v) for v in range(1, 21)], 0.95, 19.05),
        ([1.0, 2.0], 1.0, 2.0),
    ],
)
def test_percentile_interpolates_between_order_statistics(
    values: list[float], share: float, expected: float
) -> None:
    assert percentile(values, share) == pytest.approx(expected)


def test_load_percentiles_count_timed_out_runs_at_their_wait() -> None:
    from bench.load import LevelTimes

    drawn = LevelTimes(
        sessions=2,
        times=tuple(("team", t) for t in (1.0, 2.0, 3.0, 4.0)),
        errors=(),
        timed_out=(),
        seconds=9,
    )
    stuck = LevelTimes(
        sessions=2,
        times=(("team", 1.0), ("team", 2.0), ("review", 3.0)),
        errors=("team: no script_finished within 120 s",),
        timed_out=(120.0,),
        seconds=130,
        server_cpu_s=6.0,
        rss_before_mb=200.0,
        rss_open_mb=210.0,
    )

    assert drawn.p95() == pytest.approx(3.85)
    assert stuck.p95() > 100  # the stuck run is not dropped from the tail
    assert stuck.runs == 4
    assert stuck.pages() == ["team", "review"] and stuck.p50("team") == pytest.approx(1.5)
    assert stuck.cpu_per_session_s == pytest.approx(3.0)
    assert stuck.memory_per_session_mb == pytest.approx(5.0)
    assert drawn.cpu_per_session_s is None and drawn.memory_per_session_mb is None


# ---------------------------------------------------------------- the table


FIGURES_ROWS = [
    Figure("browser time-to-content: team", 2.8, 2.0, "s", 1.3),
    Figure("import a|b", 0.9, 0.3, "s", 3.0),
    Figure("load errors", 0, None, "", 0, kind=COUNT),
    Figure("memory", 300.0, 250.0, "MB"),
]


def test_text_table_has_every_column_and_row_and_the_machine() -> None:
    text = render_text(FIGURES_ROWS, machine())
    lines = text.splitlines()

    assert [c.strip() for c in lines[0].split("|")] == [
        "figure",
        "ours",
        "floor",
        "ratio",
        "aim",
        "met",
    ]
    team = next(line for line in lines if line.startswith("browser time-to-content: team"))
    cells = [c.strip() for c in team.split("|")][1:]
    assert cells == ["2.80 s", "2.00 s", "1.40x", "≤ 1.3x", "NO"]
    assert "command: python -m bench --quick" in text
    assert "load average (1/5/15 min):" in text and "1.00 / 2.00 / 3.00 at end" in text


def test_markdown_table_is_well_formed_and_counts_the_aims_met() -> None:
    markdown = render_markdown(FIGURES_ROWS, machine(), how_measured=["Browser: like this."])
    rows = [line for line in markdown.splitlines() if line.startswith("|")]

    assert rows[0] == "| figure | ours | floor | ratio | aim | met |"
    assert len(rows) == 2 + len(FIGURES_ROWS)
    # An escaped pipe keeps a name from splitting its row.
    assert all(row.replace("\\|", "").count("|") == 7 for row in rows)
    assert "2 of 3 aims met." in markdown
    assert "`python -m bench --quick`" in markdown
    assert "## How measured" in markdown and "- Browser: like this." in markdown


def test_a_second_floor_adds_its_columns_only_when_a_figure_has_one() -> None:
    rows = [
        Figure("browser warm: team vs its floor", 2.6, 2.0, "s", 1.3, second_floor=1.3),
        Figure("load errors", 0, None, "", 0, kind=COUNT),
    ]

    markdown = render_markdown(rows, machine())
    table = [line for line in markdown.splitlines() if line.startswith("|")]

    assert table[0] == (
        "| figure | ours | floor | ratio | aim | met | one-line floor | ratio to it |"
    )
    assert table[2].endswith("| 1.30 s | 2.00x |")
    assert table[3].endswith("| — | — |")
    assert all(row.count("|") == 9 for row in table)
    assert "one-line" not in render_text(FIGURES_ROWS, machine())


def test_rewriting_the_results_keeps_the_notes_section(tmp_path: Path) -> None:
    path = tmp_path / "RESULTS.md"
    path.write_text(f"# old table\n\n{NOTES_HEADING}\n\nteam page: chart spec too large\n")

    write_results(path, render_markdown(FIGURES_ROWS, machine()))

    text = path.read_text()
    assert "# old table" not in text
    assert text.index("| figure |") < text.index(NOTES_HEADING)
    assert text.endswith("team page: chart spec too large\n")


# ---------------------------------------------------------------- the command line


def test_help_runs_and_names_the_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,  # importing the bench pulls in streamlit and playwright: slow on a loaded machine
        check=False,
    )

    assert result.returncode == 0, result.stderr
    for option in ("--quick", "--db", "--only", "--repeat", "--sessions", "--writers"):
        assert option in result.stdout


@pytest.mark.parametrize(
    ("only", "figures"),
    [
        ("pages,browser", ("pages", "browser")),
        ("browser,pages", ("pages", "browser")),  # always run in the suite's order
        ("memory", ("load",)),
        (" report , import ", ("report", "import")),
    ],
)
def test_only_picks_figures_in_the_suites_order(only: str, figures: tuple[str, ...]) -> None:
    assert parse_args(["--only", only]).only == figures


def test_load_flag_runs_only_the_load_at_the_levels_given() -> None:
    args = parse_args(["--load", "--sessions", "1,5"])

    assert args.only == ("load",)
    assert args.sessions == (1, 5)
    assert parse_args([]).sessions == (1, 20, 50)
    for bad in ("0,20", "one", ""):
        with pytest.raises(SystemExit):
            parse_args(["--sessions", bad])


def test_every_figure_runs_by_default_and_an_unknown_one_is_refused() -> None:
    assert parse_args([]).only == FIGURES
    with pytest.raises(SystemExit):
        parse_args(["--only", "browser,speed"])


# ---------------------------------------------------------------- the workspace


def test_pages_open_on_a_real_pi_team_and_outcome(tiny: Path) -> None:
    ws = describe(tiny)

    assert (ws.teams, ws.metrics, ws.readings) == (2, 6, 600)
    pages = {p.name: p for p in dashboard_pages(ws) + update_pages(ws)}
    assert list(pages) == [
        "overview",
        "team",
        "outcome",
        "review",
        "present",
        "record",
        "plan",
        "admin",
    ]
    assert pages["outcome"].params == {
        "pi": ws.pi,
        "team": ws.team,
        "outcome": ws.outcome,
        "as_of": TODAY.isoformat(),
    }
    assert ws.outcome.startswith(ws.team)
    assert [p.name for p in pages.values() if p.signed_in] == ["record", "plan", "admin"]
    assert pages["team"].url.startswith("/team?team=")


def test_writers_share_the_metrics_without_overlap() -> None:
    ids = list(range(1, 48))

    shares = [batches(ids, index=i, writers=4) for i in range(4)]

    written = [m for share in shares for batch in share for m in batch]
    assert sorted(written) == ids
    assert all(len(batch) <= SAVE_SIZE for share in shares for batch in share)


class StopAfter:
    """A stop event that is set after `checks` looks at it."""

    def __init__(self, checks: int) -> None:
        self.left = checks

    def is_set(self) -> bool:
        self.left -= 1
        return self.left < 0


def test_a_writer_records_through_the_write_path_and_its_rows_are_removed_after(
    tiny: Path, tmp_path: Path
) -> None:
    path = tmp_path / "load.db"
    path.write_bytes(tiny.read_bytes())
    url = f"sqlite:///{path}"
    reports: queue.Queue = queue.Queue()
    at_work = threading.Event()

    write_until_stopped(
        url, 0, 2, TODAY + dt.timedelta(days=1), 0, StopAfter(6), reports, at_work=at_work
    )

    report = reports.get_nowait()
    assert report.errors == 0 and report.saves > 0
    assert at_work.is_set()
    engine = make_engine(url)
    mine = Reading.entered_by == f"{WRITER_PREFIX}0"
    with read_session(engine) as session:
        assert session.scalar(select(func.count()).where(mine)) == report.readings
        assert session.scalar(select(func.max(Reading.date)).where(mine)) > TODAY
    engine.dispose()
    assert remove_writer_rows(path) == report.readings
    engine = make_engine(url)
    with read_session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Reading)) == 600
        assert not session.scalar(
            select(func.count()).where(AuditEvent.actor.like(f"{WRITER_PREFIX}%"))
        )
    engine.dispose()


# ---------------------------------------------------------------- the measuring pieces


def test_report_figure_checks_both_fetch_the_same_numbers_and_times_them(tiny: Path) -> None:
    engine = make_engine(f"sqlite:///{tiny}")
    try:
        times = measure_report(engine, repeat=1)
    finally:
        engine.dispose()

    assert times.hand > 0 and times.snapshot > 0 and times.rows > 0
    assert times.readings == 600


def test_import_figure_imports_new_rows_into_copies_and_leaves_the_workspace(
    tiny: Path, tmp_path: Path
) -> None:
    before = tiny.read_bytes()

    times = measure_import(tiny, rows=300, workdir=tmp_path, repeat=1)

    assert times.rows == 300 and times.metrics == 6
    assert times.total[0] > 0 and times.raw[0] > 0
    assert list(tmp_path.iterdir()) == []  # the copies are gone
    assert tiny.read_bytes() == before


def test_whole_import_loads_every_row_file_by_file_within_the_file_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    imported: list[int] = []
    real = import_bench.time_import

    def counting(path: Path, data: bytes) -> dict[str, tuple[float, float]]:
        imported.append(data.count(b"\n") - 1)  # rows of this file, header left out
        return real(path, data)

    monkeypatch.setattr(import_bench, "time_import", counting)

    times = import_bench.measure_whole_import(
        rows=1_000, metrics=20, workdir=tmp_path, file_rows=310
    )

    # 310 rounds down to whole days (300), so no file repeats a (metric, date) of another;
    # time_import and time_raw assert every row was added.
    assert imported == [300, 300, 300, 100]
    assert times.files == 4 and times.rows == 1_000
    assert times.total[0] > 0 and times.raw[0] > 0
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_page_runner_runs_a_page_and_the_floor_cold_and_warm(tiny: Path, tmp_path: Path) -> None:
    ws: BenchWorkspace = describe(tiny)
    team = next(p for p in dashboard_pages(ws) if p.name == "team")
    main_module = sys.modules["__main__"]

    pages, floor = measure_pages([team], database_url=ws.url, workdir=tmp_path, repeat=1)

    assert [p.page.name for p in pages] == ["team"]
    assert pages[0].cold > 0 and pages[0].warm > 0
    assert floor.cold > 0 and floor.warm > 0
    # AppTest swaps in the page as __main__; processes spawned later must not import it.
    assert sys.modules["__main__"] is main_module


@pytest.mark.browser
@pytest.mark.slow
def test_time_to_content_of_the_floor_page(tmp_path: Path) -> None:
    from bench.browser import CHROMIUM, FLOOR_TARGET, calibrate, floor_server, fresh_visit, launch

    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")

    async def visit_twice(base_url: str) -> tuple[object, float]:
        from playwright.async_api import async_playwright

        async with async_playwright() as playwright:
            browser = await launch(playwright)
            try:
                target = await calibrate(browser, base_url, FLOOR_TARGET, timeout_s=60)
                return target, await fresh_visit(browser, base_url, target, timeout_s=60)
            finally:
                await browser.close()

    with floor_server(tmp_path / "floor", log_path=tmp_path / "floor.log") as server:
        target, seconds = asyncio.run(visit_twice(server.base_url))
        rss = server.rss_mb()

    assert (target.charts, target.tables) == (0, 0)
    assert seconds > 0 and rss > 0
