"""Import benchmark: a 100,000-row reading CSV through parse + import_readings on SQLite,
next to a raw `sqlite3.executemany` of the same rows into the same schema, in one run.
Standalone it imports into a database of one team and `--metrics` metrics; `python -m
bench` runs `measure_import` on copies of the scaled workspace instead.

    python -m bench.import_bench [--rows 100000] [--metrics 500]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.access import Actor
from core.reading_files import MAX_ROWS, parse_reading_file
from db.audit import utcnow
from db.engine import make_engine, write_session
from db.migrate import upgrade
from db.models import Metric, Team
from db.readings import import_readings

SEED = 42
START = dt.date(2020, 1, 6)
MAX_FILE_READINGS = MAX_ROWS - 1  # the header counts as a row


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


def make_csv(rows: int, metrics: Sequence[tuple[str, str]], start: dt.date = START) -> bytes:
    """`rows` readings spread over the (team, metric) pairs, one per metric and day from
    `start` on, with some notes."""
    rng = random.Random(SEED)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["team", "metric", "date", "value", "note"])
    for index in range(rows):
        team, metric = metrics[index % len(metrics)]
        date = start + dt.timedelta(days=index // len(metrics))
        note = "after release" if rng.random() < 0.05 else ""
        writer.writerow([team, metric, date.isoformat(), f"{rng.uniform(0, 1000):.3f}", note])
    return out.getvalue().encode()


def workspace_metrics(path: Path) -> tuple[list[tuple[str, str]], dt.date]:
    """The (team, metric) names of a database's active metrics, and the first day after
    its latest reading (START when it holds none): the import adds, never replaces."""
    connection = sqlite3.connect(path)
    try:
        pairs = connection.execute(
            "SELECT t.name, m.name FROM metrics m JOIN teams t ON t.id = m.team_id "
            "WHERE m.archived = 0 AND t.active = 1 ORDER BY m.id"
        ).fetchall()
        (latest,) = connection.execute("SELECT max(date) FROM readings").fetchone()
    finally:
        connection.close()
    start = dt.date.fromisoformat(latest[:10]) + dt.timedelta(days=1) if latest else START
    return [(team, metric) for team, metric in pairs], start


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (a WAL file's pages included)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


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
    metric_ids = {
        (team, metric): metric_id
        for team, metric, metric_id in connection.execute(
            "SELECT t.name, m.name, m.id FROM metrics m JOIN teams t ON t.id = m.team_id"
        )
    }
    (before,) = connection.execute("SELECT count(*) FROM readings").fetchone()
    stamp = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    records = [
        (metric_ids[team, metric], date, float(value), note, "import", "bench", stamp)
        for team, metric, date, value, note in list(csv.reader(io.StringIO(data.decode())))[1:]
    ]
    started = _clocks()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "INSERT INTO readings (metric_id, date, value, note, source, entered_by, entered_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        records,
    )
    connection.execute("COMMIT")
    elapsed = _since(started)
    (count,) = connection.execute("SELECT count(*) FROM readings").fetchone()
    connection.close()
    assert count == before + len(records)
    return elapsed


@dataclass(frozen=True)
class ImportTimes:
    """(wall, CPU) seconds of each step of ours and of the raw floor, for `rows` rows."""

    rows: int
    metrics: int
    csv_bytes: int
    parse: tuple[float, float]
    import_readings: tuple[float, float]
    total: tuple[float, float]
    raw: tuple[float, float]


def measure_import(template: Path, *, rows: int, workdir: Path, repeat: int = 1) -> ImportTimes:
    """Import `rows` new readings for the template's metrics into one copy of it through
    the parser and import_readings, and the same rows into another copy with raw
    executemany; `repeat` times on fresh copies, medians. The copies are deleted."""
    metrics, start = workspace_metrics(template)
    data = make_csv(rows, metrics, start)
    ours, raw_path = workdir / "import.db", workdir / "raw.db"
    runs: list[dict[str, tuple[float, float]]] = []
    try:
        for _ in range(repeat):
            _remove(ours, raw_path)
            copy_database(template, ours)
            copy_database(template, raw_path)
            runs.append({**time_import(ours, data), "raw": time_raw(raw_path, data)})
    finally:
        _remove(ours, raw_path)

    def median(step: str) -> tuple[float, float]:
        return (
            statistics.median(run[step][0] for run in runs),
            statistics.median(run[step][1] for run in runs),
        )

    return ImportTimes(
        rows=rows,
        metrics=len(metrics),
        csv_bytes=len(data),
        parse=median("parse"),
        import_readings=median("import_readings"),
        total=median("total"),
        raw=median("raw"),
    )


@dataclass(frozen=True)
class WholeImportTimes:
    """(wall, CPU) seconds of loading a whole workspace's readings through the import
    path, file after file, and of raw executemany of all of them at once."""

    rows: int
    files: int
    metrics: int
    csv_bytes: int
    total: tuple[float, float]
    raw: tuple[float, float]


def measure_whole_import(
    *, rows: int, metrics: int, workdir: Path, file_rows: int = MAX_FILE_READINGS
) -> WholeImportTimes:
    """`rows` readings of `metrics` metrics into an empty workspace (one team) as
    `import-readings` would load them, against raw executemany of the same rows into
    another copy. One file may hold at most 200,000 readings and 50 MB (core/reading_files
    limits, README "Reading files"), so the rows go as consecutive files of `file_rows`,
    each parsed and imported in its own transaction, every later file into a table the
    earlier ones grew: the import cost at each size is in the figure."""
    template, ours, raw_path = (
        workdir / "whole.db",
        workdir / "whole-ours.db",
        workdir / "whole-raw.db",
    )
    file_rows -= file_rows % metrics  # whole days per file: no (metric, date) twice
    try:
        names = build_template(template, metrics)
        pairs = [("Checkout", name) for name in names]
        copy_database(template, ours)
        copy_database(template, raw_path)
        total_wall = total_cpu = 0.0
        size = 0
        chunks = 0
        everything: list[bytes] = []
        for first in range(0, rows, file_rows):
            count = min(file_rows, rows - first)
            # Day offsets continue where the previous file stopped (rows go metric by metric).
            start = START + dt.timedelta(days=first // len(pairs))
            data = make_csv(count, pairs, start)
            size += len(data)
            chunks += 1
            wall, cpu = time_import(ours, data)["total"]
            total_wall += wall
            total_cpu += cpu
            everything.append(data if first == 0 else data.split(b"\n", 1)[1])
        raw = time_raw(raw_path, b"".join(everything))
    finally:
        _remove(template, ours, raw_path)
    return WholeImportTimes(
        rows=rows,
        files=chunks,
        metrics=metrics,
        csv_bytes=size,
        total=(total_wall, total_cpu),
        raw=raw,
    )


def _remove(*paths: Path) -> None:
    for path in paths:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.import_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--metrics", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=1, help="runs on fresh copies (medians)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        template = Path(folder) / "template.db"
        build_template(template, args.metrics)
        times = measure_import(template, rows=args.rows, workdir=Path(folder), repeat=args.repeat)

    print(
        f"{times.rows:,} rows, {times.metrics} metrics, {times.csv_bytes / 1e6:.1f} MB CSV, "
        f"median of {args.repeat}"
    )
    print(f"  {'seconds':32} {'wall':>6} {'CPU':>6}")
    for label, (wall, cpu) in [
        ("parse_reading_file", times.parse),
        ("import_readings (check+write)", times.import_readings),
        ("parse + import, total", times.total),
        ("raw sqlite3.executemany", times.raw),
    ]:
        print(f"  {label:32} {wall:6.2f} {cpu:6.2f}")
    total, raw = times.total, times.raw
    print(f"  {'ratio total / raw':32} {total[0] / raw[0]:5.1f}x {total[1] / raw[1]:5.1f}x")


if __name__ == "__main__":
    main()
