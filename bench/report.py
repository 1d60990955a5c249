"""Benchmark of the full PI report on a scaled workspace (50 teams, 500 metrics, 2 million
readings): the report's queries against the best hand-written SQL fetching the same
numbers, timed in the same run, medians and their ratio; and the whole report.

    python -m bench.report [--quick] [--db PATH | --url URL] [--repeat N]

`--db PATH` keeps the SQLite file and reuses it on the next run (building the full size
takes a minute or two); `--url` runs against an existing, already filled database."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from db.engine import is_sqlite, make_engine, read_session
from db.migrate import upgrade
from db.models import Reading, Team
from db.queries import current_pi, load_pi_snapshot
from db.report import report_json

TODAY = dt.date(2026, 11, 2)  # fixed, so every run measures the same workspace
FULL = {"teams": 50, "pis": 8, "metrics": 500, "readings": 2_000_000}
QUICK = {"teams": 5, "pis": 8, "metrics": 50, "readings": 200_000}


# ---------------------------------------------------------------- the hand-written floor

# The same inputs as load_pi_snapshot, written by hand for the driver: no ORM, no type
# processing, window starts computed in SQL, dates left as the driver returns them.
HAND_SQL: dict[str, str] = {
    "pi": "SELECT id, train_id, start_date, end_date FROM pis WHERE name = :pi",
    "teams": """
        SELECT id, name, key, train_id, active FROM teams
        WHERE (active = TRUE AND train_id = :train)
           OR id IN (SELECT team_id FROM outcomes WHERE pi_id = :pi_id AND status <> 'archived')
        ORDER BY name""",
    "outcomes": """
        SELECT id, team_id, key, title, committed, planned_bv, actual_bv, status
        FROM outcomes WHERE pi_id = :pi_id AND status <> 'archived'
        ORDER BY position, key""",
    "targets": """
        SELECT t.id, t.outcome_id, t.metric_id, t.kind, t.baseline, t.baseline_date,
               t.target, t.target_date, t.band_low, t.band_high
        FROM targets t JOIN outcomes o ON o.id = t.outcome_id
        WHERE o.pi_id = :pi_id AND o.status <> 'archived' AND t.archived = FALSE
        ORDER BY t.outcome_id, t.position, t.id""",
    "hypotheses": """
        SELECT h.id, h.outcome_id, h.metric_id, h.if_text, h.expect_text, h.because_text,
               h.direction, h.min_effect, h.min_effect_unit, h.window_days, h.override,
               h.override_reason, r.name, r.date
        FROM hypotheses h JOIN outcomes o ON o.id = h.outcome_id
        LEFT JOIN releases r ON r.id = h.release_id
        WHERE o.pi_id = :pi_id AND o.status <> 'archived' AND h.archived = FALSE
        ORDER BY h.outcome_id, h.position, h.id""",
    "metrics": """
        SELECT id, team_id, name, unit, decimals, update_interval_days, "leading" FROM metrics
        WHERE (archived = FALSE AND team_id IN (SELECT id FROM teams WHERE active = TRUE
                                                 AND train_id = :train))
           OR id IN (SELECT t.metric_id FROM targets t JOIN outcomes o ON o.id = t.outcome_id
                     WHERE o.pi_id = :pi_id AND o.status <> 'archived')
           OR id IN (SELECT h.metric_id FROM hypotheses h JOIN outcomes o ON o.id = h.outcome_id
                     WHERE o.pi_id = :pi_id AND o.status <> 'archived')""",
    "latest": """
        SELECT m.id, r.date, r.value FROM metrics m
        JOIN readings r ON r.id = (SELECT r2.id FROM readings r2
                                   WHERE r2.metric_id = m.id AND r2.date <= :as_of
                                   ORDER BY r2.date DESC LIMIT 1)
        WHERE (m.archived = FALSE AND m.team_id IN (SELECT id FROM teams WHERE active = TRUE
                                                     AND train_id = :train))
           OR m.id IN (SELECT t.metric_id FROM targets t JOIN outcomes o ON o.id = t.outcome_id
                       WHERE o.pi_id = :pi_id AND o.status <> 'archived')""",
    "windows": """
        WITH {starts}
        SELECT r.metric_id, r.date, r.value FROM windows w
        JOIN readings r ON r.metric_id = w.metric_id AND r.date >= w.start
                       AND r.date <= :as_of
        ORDER BY r.metric_id, r.date""",
    "releases": """
        WITH {starts}
        SELECT id, team_id, name, date FROM releases
        WHERE archived = FALSE AND date <= :as_of
          AND date >= (SELECT MIN(day) FROM (SELECT start AS day FROM windows
                                             UNION ALL SELECT :pi_start) AS days)
          AND team_id IN (SELECT id FROM teams WHERE active = TRUE AND train_id = :train)
        ORDER BY date, id""",
    "checkins": """
        SELECT c.id, c.outcome_id, c.date, c.confidence FROM checkins c
        JOIN outcomes o ON o.id = c.outcome_id
        WHERE o.pi_id = :pi_id AND o.status <> 'archived' AND c.date <= :as_of
        ORDER BY c.date, c.id""",
}

# Where each metric's readings start to matter, shared by the windows and the releases.
STARTS = """
        starts AS (
            SELECT t.metric_id AS metric_id, t.baseline_date AS start
            FROM targets t JOIN outcomes o ON o.id = t.outcome_id
            WHERE o.pi_id = :pi_id AND o.status <> 'archived' AND t.archived = FALSE
              AND t.baseline_date IS NOT NULL AND t.baseline_date <= :as_of
            UNION ALL
            SELECT h.metric_id, {release_minus_window}
            FROM hypotheses h JOIN outcomes o ON o.id = h.outcome_id
            JOIN releases r ON r.id = h.release_id
            WHERE o.pi_id = :pi_id AND o.status <> 'archived' AND h.archived = FALSE
              AND r.date <= :as_of
        ), windows AS (SELECT metric_id, MIN(start) AS start FROM starts GROUP BY metric_id)"""


def _driver_sql(sql: str, sqlite: bool) -> str:
    """Named parameters in the driver's own style (sqlite3 `:name`, psycopg `%(name)s`)."""
    release_minus_window = (
        "date(r.date, '-' || h.window_days || ' days')" if sqlite else "r.date - h.window_days"
    )
    sql = sql.replace("{starts}", STARTS).replace("{release_minus_window}", release_minus_window)
    if sqlite:
        return sql
    return re.sub(r":(\w+)", r"%(\1)s", sql)


def hand_written(engine: Engine, pi_name: str, as_of: dt.date) -> dict[str, list[tuple]]:
    """Every input of the report through the raw driver, statement by statement."""
    sqlite = is_sqlite(engine)
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        as_of_param: Any = as_of.isoformat() if sqlite else as_of
        cursor.execute(_driver_sql(HAND_SQL["pi"], sqlite), {"pi": pi_name})
        pi_id, train_id, start, _end = cursor.fetchone()
        params = {"pi_id": pi_id, "train": train_id, "as_of": as_of_param, "pi_start": start}
        rows: dict[str, list[tuple]] = {}
        for name, sql in HAND_SQL.items():
            if name == "pi":
                continue
            cursor.execute(_driver_sql(sql, sqlite), params)
            rows[name] = cursor.fetchall()
        cursor.close()
        return rows
    finally:
        connection.close()


# ---------------------------------------------------------------- measuring


def _median_seconds(actions: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each action, run in turns (hand, ours, hand, ours, ...) so that
    a busy machine slows them alike and the ratio stays fair."""
    for action in actions.values():
        action()  # warm up caches and compiled statements
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def _same_numbers(engine: Engine, pi_name: str, as_of: dt.date) -> None:
    """The floor fetches what the snapshot holds: the same latest readings and the same
    windowed readings (dates compared as ISO text)."""
    hand = hand_written(engine, pi_name, as_of)
    with read_session(engine) as session:
        snapshot = load_pi_snapshot(session, pi_name=pi_name, as_of=as_of)
    series: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for metric_id, day, value in hand["windows"]:
        series[metric_id].append((str(day), value))
    for metric_id, day, value in hand["latest"]:
        if metric_id not in series:
            series[metric_id] = [(str(day), value)]
    mine = {
        m: [(r.date.isoformat(), r.value) for r in points]
        for m, points in snapshot.readings.items()
    }
    if mine != dict(series):
        raise SystemExit("hand-written SQL and the snapshot disagree: the bench is invalid")
    if (len(hand["outcomes"]), len(hand["releases"]), len(hand["checkins"])) != (
        len(snapshot.outcomes),
        len(snapshot.releases),
        len(snapshot.checkins),
    ):
        raise SystemExit("hand-written SQL and the snapshot disagree on outcomes or releases")


def open_database(*, db: str | None, url: str | None, workdir: Path) -> tuple[Engine, bool]:
    """The engine (a migrated SQLite file at `db`, else in `workdir`, or the database at
    `url`), and whether the workspace must still be built."""
    if url:
        return make_engine(url), False
    path = Path(db) if db else workdir / "bench.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with read_session(engine) as session:
        has_teams = bool(session.scalar(select(func.count()).select_from(Team)))
    return engine, not has_teams


def build(engine: Engine, sizes: dict[str, int]) -> float:
    """Build the scaled workspace at TODAY into the empty database; returns seconds."""
    from seed.scaled import build_scaled

    print(f"building {sizes} ...", flush=True)
    started = time.perf_counter()
    build_scaled(engine, today=TODAY, **sizes)
    seconds = time.perf_counter() - started
    print(f"built in {seconds:.1f} s", flush=True)
    return seconds


@dataclass(frozen=True)
class ReportTimes:
    """Median seconds of the hand-written SQL (the floor), the report's queries (the
    snapshot) and the whole report, with what they were measured on."""

    hand: float
    snapshot: float
    report: float
    repeat: int
    rows: int
    teams: int
    readings: int
    pi_name: str

    @property
    def ratio(self) -> float:
        return self.snapshot / self.hand


def measure_report(engine: Engine, *, repeat: int) -> ReportTimes:
    """Time the report's queries against the hand-written SQL on a filled database (the
    current PI at TODAY), after checking that both fetch the same numbers."""
    with read_session(engine) as session:
        pi = current_pi(session, today=TODAY)
        teams = session.scalar(select(func.count()).select_from(Team)) or 0
        readings = session.scalar(select(func.count()).select_from(Reading)) or 0
    if pi is None:
        raise SystemExit("no PI in the database")
    _same_numbers(engine, pi.name, TODAY)

    def snapshot() -> object:
        with read_session(engine) as session:
            return load_pi_snapshot(session, pi_name=pi.name, as_of=TODAY)

    def whole_report() -> object:
        with read_session(engine) as session:
            return report_json(session, pi_name=pi.name, as_of=TODAY)

    medians = _median_seconds(
        {
            "hand": lambda: hand_written(engine, pi.name, TODAY),
            "snapshot": snapshot,
            "report": whole_report,
        },
        repeat,
    )
    hand = hand_written(engine, pi.name, TODAY)
    return ReportTimes(
        hand=medians["hand"],
        snapshot=medians["snapshot"],
        report=medians["report"],
        repeat=repeat,
        rows=sum(len(v) for v in hand.values()),
        teams=teams,
        readings=readings,
        pi_name=pi.name,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a tenth of the full size")
    parser.add_argument("--db", help="SQLite file to keep and reuse between runs")
    parser.add_argument("--url", help="an existing, filled database (OUTCOMES-style URL)")
    parser.add_argument("--repeat", type=int, default=0, help="timed runs (default 15, 5 quick)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    repeat = args.repeat or default_repeat(quick=args.quick)

    with tempfile.TemporaryDirectory() as workdir:
        engine, must_build = open_database(db=args.db, url=args.url, workdir=Path(workdir))
        if must_build:
            build(engine, sizes)
        try:
            times = measure_report(engine, repeat=repeat)
        except SystemExit as error:
            print(error, file=sys.stderr)
            return 1
        finally:
            engine.dispose()

    print(
        f"database: {engine.url.get_backend_name()}, {times.teams} teams, {times.readings} "
        f"readings, PI {times.pi_name} as of {TODAY}: {times.rows} rows fetched; median of "
        f"{repeat} runs"
    )
    print(f"hand-written SQL (driver):   {times.hand * 1000:8.1f} ms")
    print(f"report queries (snapshot):   {times.snapshot * 1000:8.1f} ms")
    print(f"whole report (JSON):         {times.report * 1000:8.1f} ms")
    print(f"ratio queries / hand-written: {times.ratio:.2f}x (aim: 2x or better)")
    return 0


def default_repeat(*, quick: bool) -> int:
    return 5 if quick else 15


if __name__ == "__main__":
    raise SystemExit(main())
