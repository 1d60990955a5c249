"""Import benchmark: a 100,000-row reading CSV through parse + import_readings on SQLite,
next to a raw `sqlite3.executemany` of the same rows into the same schema, in one run.

    python -m bench.import_bench [--rows 100000] [--metrics 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from core.access import Actor
from core.reading_files import parse_reading_file
from db.audit import utcnow
from db.engine import make_engine, write_session
from db.migrate import upgrade
from db.models import Metric, Team
from db.readings_io import import_readings

SEED = 42
START = dt.date(2020, 1, 6)


def build_template(path: Path, metrics: int) -> list[str]:
    """A migrated database with one team and `metrics` metrics; returns the metric names."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    names = [f"Metric {i:03}" for i in range(metrics)]
    with write_session(engine) as session:
        team = Team(name="Checkout", key="CHK")
        session.add(team)
        session.flush()
        session.add_all(Metric(team_id=team.id, name=name) for name in names)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return names


def make_csv(rows: int, names: list[str]) -> bytes:
    """`rows` readings spread over the metrics, one per metric and day, with some notes."""
    rng = random.Random(SEED)
    lines = ["team,metric,date,value,note"]
    for index in range(rows):
        metric = names[index % len(names)]
        date = START + dt.timedelta(days=index // len(names))
        note = "after release" if rng.random() < 0.05 else ""
        lines.append(f"Checkout,{metric},{date.isoformat()},{rng.uniform(0, 1000):.3f},{note}")
    return ("\n".join(lines) + "\n").encode()


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clocks()
    return wall - start[0], cpu - start[1]


def time_import(path: Path, data: bytes) -> dict[str, tuple[float, float]]:
    """(wall, CPU) seconds of each step; CPU time is steadier on a shared machine."""
    engine = make_engine(f"sqlite:///{path}")
    started = _clocks()
    parsed = parse_reading_file(data, "readings.csv")
    parse = _since(started)
    assert not parsed.problems, parsed.problems[:3]
    imported = _clocks()
    with write_session(engine) as session:
        result = import_readings(session, actor=Actor.system("bench"), rows=parsed.rows)
    engine.dispose()
    assert result.added == len(parsed.rows)
    return {"parse": parse, "import_readings": _since(imported), "total": _since(started)}


def time_raw(path: Path, data: bytes) -> tuple[float, float]:
    """The same rows, already resolved to metric ids, straight into sqlite3."""
    connection = sqlite3.connect(path, isolation_level=None)
    metric_ids = dict(connection.execute("SELECT name, id FROM metrics"))
    stamp = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    lines = data.decode().splitlines()[1:]
    records = []
    for line in lines:
        _, metric, date, value, note = line.split(",")
        records.append((metric_ids[metric], date, float(value), note, "import", "bench", stamp))
    started = _clocks()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "INSERT INTO readings (metric_id, date, value, note, source, entered_by, entered_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        records,
    )
    connection.execute("COMMIT")
    elapsed = _since(started)
    count = connection.execute("SELECT count(*) FROM readings").fetchone()[0]
    connection.close()
    assert count == len(records)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--metrics", type=int, default=500)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        template = Path(folder) / "template.db"
        names = build_template(template, args.metrics)
        data = make_csv(args.rows, names)
        ours, raw_path = Path(folder) / "import.db", Path(folder) / "raw.db"
        shutil.copy(template, ours)
        shutil.copy(template, raw_path)

        timings = time_import(ours, data)
        raw = time_raw(raw_path, data)

    print(f"{args.rows:,} rows, {args.metrics} metrics, {len(data) / 1e6:.1f} MB CSV")
    print(f"  {'seconds':32} {'wall':>6} {'CPU':>6}")
    for label, (wall, cpu) in [
        ("parse_reading_file", timings["parse"]),
        ("import_readings (check+write)", timings["import_readings"]),
        ("parse + import, total", timings["total"]),
        ("raw sqlite3.executemany", raw),
    ]:
        print(f"  {label:32} {wall:6.2f} {cpu:6.2f}")
    total = timings["total"]
    print(f"  {'ratio total / raw':32} {total[0] / raw[0]:5.1f}x {total[1] / raw[1]:5.1f}x")


if __name__ == "__main__":
    main()
