"""Crash during import: `manage.py import-readings` of a 100,000-row file killed with
SIGKILL at random points leaves the database intact, with the import all there or not
there at all, and the database takes the next write. On SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from core.access import Actor
from core.reading_files import ReadingRow
from db.engine import PROJECT_ROOT, make_engine, read_session, write_session
from db.migrate import upgrade
from db.models import AuditEvent, Metric, Reading, Team, Train
from db.readings import import_readings
from tests.conftest import POSTGRES_URL, postgres_database, postgres_url

pytestmark = pytest.mark.slow

ROWS = 100_000
METRICS = 50
FIRST_DAY = dt.date(2015, 1, 1)  # the file's readings: METRICS x ROWS / METRICS days from here
EARLIER_DAY = dt.date(2014, 1, 1)  # readings stored before the import, none in the file
TEAM_KEY = "CHK"
SEED = 20261128
SQLITE_TIMED_KILLS = 12  # at delays spread over the whole run of the command
SQLITE_WRITE_KILLS = 3  # when the write transaction has put a given share of its pages
POSTGRES_TIMED_KILLS = 2
POSTGRES_WRITE_KILLS = 2  # while the import streams its COPYs
POLL_SECONDS = 0.002
IMPORT_TIMEOUT_SECONDS = 180

# Where a kill landed, decided from what the database shows afterwards (and, on SQLite,
# from the -shm/-wal files at the moment of the kill).
STARTING = "starting (no database opened yet)"
READING = "parsing and checking the file"
WRITING = "inside the write transaction"
COMMITTED = "after the commit"


def _metric_name(number: int) -> str:
    return f"Metric {number:02d}"


@dataclass(frozen=True)
class ReadingFile:
    path: Path
    total: float  # the sum of the file's values, to tell a whole import from a partial one


@dataclass(frozen=True)
class Stored:
    """What the database holds that an import changes."""

    readings: int
    in_file_span: int  # readings on the file's days
    file_span_sum: float
    import_events: int


@dataclass(frozen=True)
class Trial:
    number: int
    plan: str  # what decided the kill
    killed_at: float | None  # seconds after the start; None: the command ended first
    phase: str
    outcome: str  # "absent" or "present"

    def __str__(self) -> str:
        at = "ended first" if self.killed_at is None else f"{self.killed_at:6.2f} s"
        return f"#{self.number:2d} {self.plan:<34} {at:>12}  {self.phase:<34} {self.outcome}"


@pytest.fixture(scope="session")
def reading_file(tmp_path_factory: pytest.TempPathFactory) -> ReadingFile:
    """A 100,000-row CSV in PRODUCT.md's reading-file columns, all of them new readings."""
    rng = random.Random(SEED)
    lines = ["team,metric,date,value,note"]
    total = 0.0
    for metric in range(METRICS):
        for day in range(ROWS // METRICS):
            value = round(rng.uniform(0, 1000), 2)
            total += value
            note = "after the release" if day % 97 == 0 else ""
            date = (FIRST_DAY + dt.timedelta(days=day)).isoformat()
            lines.append(f"{TEAM_KEY},{_metric_name(metric)},{date},{value:.2f},{note}")
    path = tmp_path_factory.mktemp("import") / "readings.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ReadingFile(path, total)


def _fill_workspace(engine: Engine) -> None:
    """A team, its metrics and some readings of earlier days."""
    upgrade(engine)
    with write_session(engine) as session:
        train = Train(name="Payments")
        team = Team(name="Checkout", key=TEAM_KEY, train=train)
        session.add_all([train, team])
        session.flush()
        metrics = [
            Metric(team_id=team.id, name=_metric_name(number), unit="%")
            for number in range(METRICS)
        ]
        session.add_all(metrics)
        session.flush()
        session.add_all(
            Reading(
                metric_id=metric.id,
                date=EARLIER_DAY + dt.timedelta(days=day),
                value=float(day),
                source="form",
                entered_by="setup",
            )
            for metric in metrics[:10]
            for day in range(50)
        )


def _stored(url: str) -> Stored:
    engine = make_engine(url)
    try:
        with read_session(engine) as session:
            readings = session.scalar(select(func.count()).select_from(Reading)) or 0
            in_span, span_sum = session.execute(
                select(func.count(), func.coalesce(func.sum(Reading.value), 0.0)).where(
                    Reading.date >= FIRST_DAY
                )
            ).one()
            events = session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "import", AuditEvent.entity == "reading")
            )
    finally:
        engine.dispose()
    return Stored(readings, in_span, float(span_sum), events or 0)


def _all_or_nothing(before: Stored, after: Stored, file: ReadingFile, trial: str) -> str:
    """ "absent" or "present"; fails on anything in between."""
    if after == before:
        return "absent"
    assert after.readings == before.readings + ROWS, f"{trial}: partial import {after}"
    assert after.in_file_span == ROWS, f"{trial}: partial import {after}"
    assert math.isclose(after.file_span_sum, file.total, rel_tol=1e-9), f"{trial}: {after}"
    assert after.import_events == before.import_events + 1, f"{trial}: no audit event {after}"
    return "present"


def _accepts_a_new_write(url: str, trial: str) -> None:
    before = _stored(url).readings
    engine = make_engine(url)
    try:
        with write_session(engine) as session:
            row = ReadingRow(
                row=1, team=TEAM_KEY, metric=_metric_name(0), date=dt.date(2030, 1, 1), value=1.5
            )
            result = import_readings(
                session, actor=Actor.system("crash-test"), rows=[row], source="cli"
            )
    finally:
        engine.dispose()
    assert result.added == 1, trial
    assert _stored(url).readings == before + 1, trial


def _start_import(url: str, file: ReadingFile) -> subprocess.Popen[bytes]:
    """The real command, as an operator or a cron job runs it."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "import-readings", str(file.path)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "OUTCOMES_DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


# Decides from the time since the start, the watcher's look and the first time each sign
# was seen whether to kill now.
KillWhen = Callable[[float, dict[str, int], dict[str, float]], bool]
Plan = tuple[str, KillWhen]


def _never(_elapsed: float, _state: dict[str, int], _seen: dict[str, float]) -> bool:
    return False


def _kill_points(
    rng: random.Random, count: int, anchors: dict[str, float], end: float
) -> list[tuple[float, str, float]]:
    """Kill points drawn uniformly over a measured run of `end` seconds: (point, the last
    sign seen before it, the offset from that sign). Held as offsets from what the
    command was doing, a slower or faster run than the measured one (a busy CI machine)
    is still killed in the same phase, rather than all before it or after the end."""
    ordered = sorted(anchors.items(), key=lambda item: item[1])
    points = []
    for _ in range(count):
        point = rng.uniform(0, end)
        anchor, at = "start", 0.0
        for sign, seen_at in ordered:
            if seen_at <= point:
                anchor, at = sign, seen_at
        points.append((point, anchor, point - at))
    return points


def _after(anchor: str, offset: float) -> Plan:
    def kill_when(elapsed: float, _state: dict[str, int], seen: dict[str, float]) -> bool:
        since = 0.0 if anchor == "start" else seen.get(anchor)
        return since is not None and elapsed >= since + offset

    return f"{offset:.2f} s after {anchor}", kill_when


@dataclass(frozen=True)
class Run:
    """One run of the command, watched from outside until it ended or was killed."""

    killed_at: float | None
    ended_at: float
    seen: dict[str, float]  # first time each watched sign was seen, seconds after start
    peak: dict[str, float]  # the largest number each watched sign showed
    trace: list[tuple[float, dict[str, int]]]  # every look that differed from the last
    at_kill: dict[str, int]  # the watcher's last look before the kill


def _watch(
    process: subprocess.Popen[bytes],
    look: Callable[[], dict[str, int]],
    kill_when: KillWhen,
    started: float,
) -> Run:
    seen: dict[str, float] = {}
    peak: dict[str, float] = {}
    state: dict[str, int] = {}
    trace: list[tuple[float, dict[str, int]]] = []
    killed_at = None
    while process.poll() is None:
        elapsed = time.perf_counter() - started
        if elapsed > IMPORT_TIMEOUT_SECONDS:
            process.kill()
            pytest.fail(f"the import ran for more than {IMPORT_TIMEOUT_SECONDS} s")
        state = look()
        if not trace or trace[-1][1] != state:
            trace.append((elapsed, state))
        for sign, value in state.items():
            if value and sign not in seen:
                seen[sign] = elapsed
            if isinstance(value, int) and not isinstance(value, bool):
                peak[sign] = max(peak.get(sign, 0), value)
        if kill_when(elapsed, state, seen):
            os.kill(process.pid, signal.SIGKILL)
            killed_at = elapsed
            break
        time.sleep(POLL_SECONDS)
    process.wait()
    out, err = process.communicate()
    if killed_at is None:
        assert process.returncode == 0, (out + err).decode()
    else:
        assert process.returncode == -signal.SIGKILL
    return Run(killed_at, time.perf_counter() - started, seen, peak, trace, state)


def _report(backend: str, timeline: str, trials: list[Trial]) -> str:
    lines = [f"{backend}: {timeline}", *map(str, trials)]
    counts: dict[str, int] = {}
    for trial in trials:
        counts[trial.phase] = counts.get(trial.phase, 0) + 1
    lines.append("kills by phase: " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
    text = "\n".join(lines)
    print(text)  # the kill points, for the log of a CI run (pytest -s or -rA)
    return text


# ---------------------------------------------------------------- SQLite


@pytest.fixture(scope="session")
def sqlite_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("workspace") / "workspace.db"
    engine = make_engine(f"sqlite:///{path}")
    _fill_workspace(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _sqlite_look(database: Path) -> Callable[[], dict[str, int]]:
    """The -shm file appears when the command opens the database and goes when it closes
    it; a WAL file larger than its 32-byte header holds pages of a write transaction."""
    wal = database.with_name(database.name + "-wal")
    shm = database.with_name(database.name + "-shm")
    was_open = False

    def look() -> dict[str, int]:
        nonlocal was_open
        try:
            wal_size = wal.stat().st_size
        except FileNotFoundError:
            wal_size = 0
        is_open = shm.exists()
        was_open = was_open or is_open
        return {
            "opened": is_open,
            "writing": wal_size > 32,
            "wal_size": wal_size,
            "closed": was_open and not is_open,
        }

    return look


def _page_size(database: Path) -> int:
    connection = sqlite3.connect(database)
    try:
        return int(connection.execute("PRAGMA page_size").fetchone()[0])
    finally:
        connection.close()


def _wal_frames(wanted: int, frame: int) -> KillWhen:
    """Kill once the WAL holds `wanted` frames: inside the write transaction."""

    def kill_when(_elapsed: float, state: dict[str, int], _seen: dict[str, float]) -> bool:
        return state["wal_size"] >= 32 + wanted * frame

    return kill_when


def _sqlite_intact(database: Path, trial: str) -> None:
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)], trial
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == [], trial
    finally:
        connection.close()


def test_import_killed_at_random_points_on_sqlite_is_all_or_nothing(
    tmp_path: Path, sqlite_workspace: Path, reading_file: ReadingFile
) -> None:
    # Setup: one undisturbed run gives the command's timeline on this machine.
    database = tmp_path / "measured.db"
    shutil.copy(sqlite_workspace, database)
    url = f"sqlite:///{database}"
    before = _stored(url)
    started = time.perf_counter()
    measured = _watch(_start_import(url, reading_file), _sqlite_look(database), _never, started)
    assert _all_or_nothing(before, _stored(url), reading_file, "undisturbed") == "present"
    # The write transaction has to spill pages to the WAL before its commit (the file is
    # larger than the page cache), else a kill inside it could not be told apart.
    anchors = {sign: measured.seen[sign] for sign in ("opened", "writing", "closed")}
    frame = _page_size(sqlite_workspace) + 24  # a WAL frame: one page and its header
    frames = int((measured.peak["wal_size"] - 32) // frame)
    timeline = (
        f"{measured.ended_at:.2f} s in all; database opened at {anchors['opened']:.2f} s, "
        f"write transaction putting pages in the WAL from {anchors['writing']:.2f} s "
        f"({frames} frames at most), database closed at {anchors['closed']:.2f} s"
    )

    rng = random.Random(SEED)
    plans: list[Plan] = []
    for point, anchor, offset in _kill_points(rng, SQLITE_TIMED_KILLS, anchors, measured.ended_at):
        if anchor == "writing":
            # Writing time varies most with the machine's load: aim at the WAL's size then.
            size = max(look["wal_size"] for at, look in measured.trace if at <= point)
            wanted = max(1, (size - 32) // frame)
            plans.append((f"at {wanted} WAL frames ({point:.2f} s in)", _wal_frames(wanted, frame)))
        else:
            plans.append(_after(anchor, offset))
    for _ in range(SQLITE_WRITE_KILLS):
        # The commit's flush of the page cache (up to ~500 frames) is the last third.
        wanted = rng.randint(frames // 20, frames * 2 // 3)
        plans.append((f"at {wanted} WAL frames", _wal_frames(wanted, frame)))

    # Exercise and verify: each kill on a fresh copy of the same workspace.
    trials: list[Trial] = []
    for number, (plan, kill_when) in enumerate(plans, start=1):
        database = tmp_path / f"trial-{number}.db"
        shutil.copy(sqlite_workspace, database)
        url = f"sqlite:///{database}"
        name = f"SQLite trial {number} ({plan})"
        run = _watch(
            _start_import(url, reading_file),
            _sqlite_look(database),
            kill_when,
            time.perf_counter(),
        )
        at_kill = _sqlite_look(database)()  # the files as the killed process left them
        _sqlite_intact(database, name)
        outcome = _all_or_nothing(before, _stored(url), reading_file, name)
        if outcome == "present":
            phase = COMMITTED
        elif at_kill["writing"]:
            phase = WRITING
        elif run.at_kill.get("opened"):
            phase = READING
        else:
            phase = STARTING
        trials.append(Trial(number, plan, run.killed_at, phase, outcome))
        _accepts_a_new_write(url, name)
        _sqlite_intact(database, name)
        for file in tmp_path.glob(f"{database.name}*"):
            file.unlink()  # 15 copies of a 10 MB database add up

    report = _report("SQLite", timeline, trials)
    # A test whose kills all land before the first write would prove little.
    assert sum(trial.phase == WRITING for trial in trials) >= 2, report
    assert sum(trial.killed_at is not None for trial in trials) >= 10, report


# ---------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def postgres_workspace() -> Iterator[str]:
    """A PostgreSQL database holding the workspace, to copy with CREATE DATABASE TEMPLATE."""
    with postgres_database("outcomes_crash") as url:
        engine = make_engine(url)
        _fill_workspace(engine)
        engine.dispose()
        yield make_url(url).database or ""


def _postgres_look(admin: Engine, name: str) -> Callable[[], dict[str, int]]:
    query = text(
        "SELECT query FROM pg_stat_activity "
        "WHERE datname = :name AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )

    def look() -> dict[str, int]:
        with admin.connect() as connection:
            queries = connection.execute(query, {"name": name}).scalars().all()
        return {
            "opened": bool(queries),
            "writing": any(q.lstrip().upper().startswith("COPY READINGS") for q in queries),
        }

    return look


def _wait_for_backends_to_end(admin: Engine, name: str) -> None:
    """The killed client's server process rolls back (or finishes a commit it received)
    once it sees the connection gone: look only after that."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = :name AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + 60
    with admin.connect() as connection:
        while connection.execute(query, {"name": name}).scalar():
            assert time.monotonic() < deadline, "the killed import's server process stayed"
            time.sleep(0.05)


def test_import_killed_at_random_points_on_postgresql_is_all_or_nothing(
    postgres_workspace: str, reading_file: ReadingFile
) -> None:
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    databases: list[str] = []

    def fresh_copy() -> str:
        name = f"outcomes_crash_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_workspace}"'))
        databases.append(name)
        return name

    try:
        # Setup: the undisturbed timeline.
        name = fresh_copy()
        url = postgres_url(name)
        before = _stored(url)
        measured = _watch(
            _start_import(url, reading_file),
            _postgres_look(admin, name),
            _never,
            time.perf_counter(),
        )
        assert _all_or_nothing(before, _stored(url), reading_file, "undisturbed") == "present"
        anchors = {"opened": measured.seen["opened"], "writing": measured.seen["writing"]}
        timeline = (
            f"{measured.ended_at:.2f} s in all; connected at {anchors['opened']:.2f} s, "
            f"first COPY seen at {anchors['writing']:.2f} s"
        )

        rng = random.Random(SEED)
        points = _kill_points(rng, POSTGRES_TIMED_KILLS, anchors, measured.ended_at)
        plans = [_after(anchor, offset) for _, anchor, offset in points]
        for _ in range(POSTGRES_WRITE_KILLS):
            copies = rng.randint(1, 8)
            plans.append((f"at COPY sighting {copies}", _nth_sighting(copies)))

        trials: list[Trial] = []
        for number, (plan, kill_when) in enumerate(plans, start=1):
            name = fresh_copy()
            url = postgres_url(name)
            trial = f"PostgreSQL trial {number} ({plan})"
            run = _watch(
                _start_import(url, reading_file),
                _postgres_look(admin, name),
                kill_when,
                time.perf_counter(),
            )
            _wait_for_backends_to_end(admin, name)
            outcome = _all_or_nothing(before, _stored(url), reading_file, trial)
            if outcome == "present":
                phase = COMMITTED
            elif run.at_kill.get("writing"):
                phase = WRITING
            elif run.at_kill.get("opened") or "opened" in run.seen:
                phase = READING
            else:
                phase = STARTING
            trials.append(Trial(number, plan, run.killed_at, phase, outcome))
            _accepts_a_new_write(url, trial)

        report = _report("PostgreSQL", timeline, trials)
        assert sum(trial.phase == WRITING for trial in trials) >= 2, report
    finally:
        with admin.connect() as connection:
            for name in databases:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _nth_sighting(wanted: int) -> KillWhen:
    """Kill at the watcher's n-th look that finds the import's COPY as its last statement."""
    sightings = 0

    def kill_when(_elapsed: float, state: dict[str, int], _seen: dict[str, float]) -> bool:
        nonlocal sightings
        sightings += bool(state.get("writing"))
        return sightings >= wanted

    return kill_when
