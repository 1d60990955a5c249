"""The time `sync` takes for N metrics (default 500) from the SQL source, next to the time
of the same N source queries alone, in the same run (issue 12).

A scratch Outcome Board database holds N metrics over 50 teams, each connected to a `sql`
source on a scratch SQLite "warehouse" (one table, `points` days per metric). Measured:
the first sync (every point new: fetch, check, import, audit, one transaction per
metric), a second sync (nothing new: what cron pays on most runs), and the floor: the N
queries on one plain sqlite3 connection of the warehouse.

    python -m bench.sync_bench [--metrics 500] [--points 30]"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.access import Actor
from db import writes
from db.engine import make_engine, write_session
from db.migrate import upgrade
from db.sources import set_metric_source
from sources.connections import env_name
from sources.sync import FAILED, sync_sources

CONNECTION = "benchwarehouse"
TEAMS = 50
ADMIN = Actor.system("bench")


@dataclass(frozen=True)
class SyncTimes:
    metrics: int
    points: int
    first: float  # seconds: sync writing every point
    again: float  # seconds: sync finding nothing new
    queries: float  # seconds: the N source queries alone
    fetching: float  # seconds of the first sync spent fetching (the adapters)


def _query(metric: int) -> str:
    return f"SELECT day AS date, value FROM daily WHERE metric = {metric} ORDER BY day"


def _warehouse(path: Path, metrics: int, points: int, today: dt.date) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE daily (metric INTEGER, day TEXT, value REAL)")
        connection.execute("CREATE INDEX ix_daily_metric ON daily (metric, day)")
        connection.executemany(
            "INSERT INTO daily VALUES (?, ?, ?)",
            (
                (m, (today - dt.timedelta(days=d + 1)).isoformat(), float(m + d))
                for m in range(metrics)
                for d in range(points)
            ),
        )


def _workspace(url: str, metrics: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    try:
        with write_session(engine) as session:
            teams = [
                writes.create_team(session, actor=ADMIN, name=f"Team {t:02d}", key=f"T{t:02d}").id
                for t in range(TEAMS)
            ]
            ids = [
                writes.create_metric(
                    session, actor=ADMIN, team_id=teams[m % TEAMS], name=f"Metric {m:03d}"
                ).id
                for m in range(metrics)
            ]
            for m, metric_id in enumerate(ids):
                set_metric_source(
                    session,
                    actor=ADMIN,
                    metric_id=metric_id,
                    spec={"kind": "sql", "connection": CONNECTION, "query": _query(m)},
                )
    finally:
        engine.dispose()


def _queries_alone(path: Path, metrics: int) -> float:
    started = time.perf_counter()
    with sqlite3.connect(path) as connection:
        for m in range(metrics):
            connection.execute(_query(m)).fetchall()
    return time.perf_counter() - started


def measure_sync(workdir: Path, *, metrics: int = 500, points: int = 30) -> SyncTimes:
    today = dt.datetime.now(dt.UTC).date()
    warehouse = workdir / "warehouse.db"
    _warehouse(warehouse, metrics, points, today)
    url = f"sqlite:///{workdir / 'outcomes.db'}"
    _workspace(url, metrics)
    variable = env_name(CONNECTION)
    old = os.environ.get(variable)
    os.environ[variable] = f"sqlite:///{warehouse}"
    engine = make_engine(url)
    try:
        queries = _queries_alone(warehouse, metrics)
        started = time.perf_counter()
        first = sync_sources(engine, actor=ADMIN, today=today)
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        again = sync_sources(engine, actor=ADMIN, today=today)
        again_s = time.perf_counter() - started
    finally:
        engine.dispose()
        if old is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = old
    failed = [r for r in (*first, *again) if r.outcome == FAILED]
    if failed or sum(r.added for r in first) != metrics * points or any(r.added for r in again):
        raise RuntimeError(f"the benchmark's sync did not do what it should: {failed[:3]}")
    return SyncTimes(metrics, points, first_s, again_s, queries, sum(r.seconds for r in first))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sync_bench", description=__doc__)
    parser.add_argument("--metrics", type=int, default=500)
    parser.add_argument("--points", type=int, default=30)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="outcomes-sync-bench-") as folder:
        times = measure_sync(Path(folder), metrics=args.metrics, points=args.points)
    print(
        f"sync of {times.metrics} metrics x {times.points} points from the SQL source: "
        f"first {times.first:.2f} s (fetching {times.fetching:.2f} s), again (nothing new) "
        f"{times.again:.2f} s; the {times.metrics} source queries alone {times.queries:.3f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
