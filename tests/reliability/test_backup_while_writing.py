"""Backup and restore while writing: backups taken while writer processes record readings
restore to a consistent database that holds every save committed before the backup began
and no part of any later one; a damaged or foreign file is refused with a clear message
and the current database is untouched."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import multiprocessing
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator
from multiprocessing.sharedctypes import SynchronizedArray
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from core.access import Actor
from core.errors import ValidationError
from core.reading_files import ReadingRow
from db.backup import BACKUP_FORMAT, backup, restore
from db.engine import PROJECT_ROOT, is_sqlite, make_engine, read_session, write_session
from db.models import AuditEvent, Base, Metric, Reading, Team
from db.queries import load_pi_snapshot
from db.readings import import_readings
from db.workspace import import_workspace
from db.writes import ReadingEntry, record_readings
from tests.conftest import DEMO_TODAY, postgres_database

WRITERS = 3
METRICS_PER_TEAM = 4
BATCH_SIZES = (1, 1, 5, 10, 20, 50)  # form saves and pastes
IMPORT_EVERY = 5  # every fifth save is a reading file import ...
IMPORT_ROWS = 400  # ... of this many rows, so a half-written import would show
READY_SAVES = 5  # saves each writer commits before the first backup
SAVES_AFTER = 3  # saves each writer commits after the last backup
PAUSE = 0.005  # seconds between a writer's saves
MAX_SAVES = 3_000  # a writer stops here even if nobody tells it to
FIRST_DAY = dt.date(2026, 4, 1)
PI_NAME = "PI 26.4"
WAIT = 180  # seconds; a stuck writer fails the test instead of hanging CI
ADMIN = Actor.system("test-admin")
NOTE = re.compile(r"^w(\d+) b(\d+) (\d+)/(\d+)$")


def _workspace() -> dict[str, Any]:
    teams = [{"name": f"Writer {w}", "key": f"W{w}"} for w in range(WRITERS)]
    target = {
        "metric": "Metric 0",
        "baseline": 1.0,
        "baseline_date": "2026-10-05",
        "target": 2.0,
        "target_date": "2026-12-18",
        "kind": "increase",
        "band_low": None,
        "band_high": None,
    }
    return {
        "format": "outcome-board/1",
        "trains": [{"name": "Payments"}],
        "teams": [{**t, "train": "Payments", "active": True} for t in teams],
        "pis": [{"name": PI_NAME, "train": "Payments", "start": "2026-10-05", "end": "2026-12-18"}],
        "metrics": [
            {"team": t["name"], "name": f"Metric {m}"}
            for t in teams
            for m in range(METRICS_PER_TEAM)
        ],
        "outcomes": [
            {
                "pi": PI_NAME,
                "key": f"W{w}-1",
                "team": f"Writer {w}",
                "title": f"Outcome of writer {w}",
                "status": "active",
                "targets": [target],
            }
            for w in range(WRITERS)
        ],
    }


def _reading(writer: int, k: int) -> tuple[str, dt.date, float]:
    """The writer's k-th reading: metric name, date and a value that names both."""
    return (
        f"Metric {k % METRICS_PER_TEAM}",
        FIRST_DAY + dt.timedelta(days=k // METRICS_PER_TEAM),
        writer * 1_000_000 + k + 0.5,
    )


def _save_size(writer: int, save: int) -> int:
    if save % IMPORT_EVERY == IMPORT_EVERY - 1:
        return IMPORT_ROWS
    return random.Random(writer * 100_000 + save).choice(BATCH_SIZES)


def _failure(error: BaseException) -> str:
    return f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"


def run_writer(
    url: str, writer: int, saves_done: SynchronizedArray, stop: Event, result: str
) -> None:
    """A writer process: saves readings until told to stop, each save tagged in its notes
    ("w1 b7 3/20": writer 1, save 7, reading 3 of 20). Every fifth save is a reading file
    import. Logs when each save began and when its commit returned."""
    engine = make_engine(url)
    log: list[list[Any]] = []  # [save, size, began, committed]
    errors: list[str] = []
    try:
        with read_session(engine) as session:
            team_id, team_name = session.execute(
                select(Team.id, Team.name).where(Team.key == f"W{writer}")
            ).one()
            metric_ids = dict(
                session.execute(
                    select(Metric.name, Metric.id).where(Metric.team_id == team_id)
                ).all()
            )
        actor = Actor(f"writer-{writer}", "editor", frozenset({team_id}))
        k = 0
        for save in range(MAX_SAVES):
            if stop.is_set():
                break
            size = _save_size(writer, save)
            readings = [(i, *_reading(writer, k + i)) for i in range(size)]
            notes = [f"w{writer} b{save} {i + 1}/{size}" for i in range(size)]
            began = time.time()
            try:
                with write_session(engine) as session:
                    if size == IMPORT_ROWS:
                        rows = [
                            ReadingRow(i + 2, team_name, metric, date, value, notes[i])
                            for i, metric, date, value in readings
                        ]
                        import_readings(session, actor=actor, rows=rows)
                    else:
                        entries = [
                            ReadingEntry(metric_ids[metric], date, value, notes[i])
                            for i, metric, date, value in readings
                        ]
                        record_readings(session, actor=actor, entries=entries)
                log.append([save, size, began, time.time()])
                saves_done[writer] += 1
            except Exception as error:
                errors.append(_failure(error))
            k += size
            time.sleep(PAUSE)
    except Exception:
        errors.append(traceback.format_exc())
    finally:
        engine.dispose()
        Path(result).write_text(json.dumps({"log": log, "errors": errors}), "utf-8")


# ---------------------------------------------------------------- databases


def _fill(engine: Engine) -> None:
    with write_session(engine) as session:
        import_workspace(session, actor=ADMIN, document=_workspace())


@pytest.fixture
def restore_url(
    database_url: str, tmp_path: Path, sqlite_template: Path, postgres_template: str
) -> Iterator[str]:
    """A second fresh, migrated database on the backend of `database_url`."""
    if is_sqlite(database_url):
        path = tmp_path / "restored" / "outcomes.db"
        path.parent.mkdir()
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    with postgres_database("outcomes_r", template=postgres_template) as url:
        yield url


def _manage(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python manage.py ...` on the database at `url`, as an administrator runs it."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "OUTCOMES_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=WAIT,
    )


def _stored_readings(engine: Engine) -> list[tuple[str, str, dt.date, float, str]]:
    with read_session(engine) as session:
        return [
            tuple(row)  # type: ignore[misc]
            for row in session.execute(
                select(Team.key, Metric.name, Reading.date, Reading.value, Reading.note)
                .join(Metric, Reading.metric_id == Metric.id)
                .join(Team, Metric.team_id == Team.id)
            )
        ]


def _saves_present(engine: Engine) -> dict[int, set[int]]:
    """Writer -> the saves whose readings are all there. Fails on any reading that is not
    what its save wrote, and on any save that is there only in part."""
    groups: dict[tuple[int, int], list[tuple[int, str, str, dt.date, float]]] = defaultdict(list)
    for team, metric, date, value, note in _stored_readings(engine):
        match = NOTE.match(note)
        assert match, f"a reading not written by the test: {note!r}"
        writer, save, index, size = map(int, match.groups())
        groups[(writer, save)].append((index, team, metric, date, value))
    present: dict[int, set[int]] = defaultdict(set)
    for (writer, save), readings in groups.items():
        size = _save_size(writer, save)
        assert sorted(r[0] for r in readings) == list(range(1, size + 1)), (
            f"save {save} of writer {writer} is partly present ({len(readings)} of {size})"
        )
        present[writer].add(save)
    for (writer, save), readings in groups.items():
        first = sum(_save_size(writer, s) for s in range(save))
        for index, team, metric, date, value in readings:
            assert (team, metric, date, value) == (
                f"W{writer}",
                *_reading(writer, first + index - 1),
            ), f"reading {index} of save {save} of writer {writer} is not what was saved"
    return present


def _check_restored(
    engine: Engine, logs: list[list[list[Any]]], began: float, ended: float, kind: str
) -> None:
    """The restored database is whole, and holds a moment between `began` and `ended`."""
    if is_sqlite(engine):
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []
    present = _saves_present(engine)
    for writer, log in enumerate(logs):
        saves = present.get(writer, set())
        # Each writer saves one after another: a snapshot holds a prefix of its saves.
        assert saves == set(range(len(saves))), f"writer {writer}: saves missing in between"
        committed_before = {save for save, _, _, committed in log if committed < began}
        begun_after = {save for save, _, start, _ in log if start > ended}
        # The backup fell in the middle of the writing, not before or after it.
        assert committed_before and begun_after, f"writer {writer}: not a backup while writing"
        assert committed_before <= saves, f"writer {writer}: committed saves lost"
        assert not begun_after & saves, f"writer {writer}: saves from after the backup"
    assert sum(map(len, present.values())) > 0

    with read_session(engine) as session:
        events = session.execute(
            select(AuditEvent.actor, func.count())
            .where(AuditEvent.entity == "reading")
            .group_by(AuditEvent.actor)
        ).all()
        restores = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "restore")
        )
        snapshot = load_pi_snapshot(session, pi_name=PI_NAME, as_of=DEMO_TODAY)
        latest = dict(
            session.execute(
                select(Reading.metric_id, func.max(Reading.date))
                .where(Reading.date <= DEMO_TODAY)
                .group_by(Reading.metric_id)
            ).all()
        )
    assert restores == 1
    if kind == "sqlite":  # the file carries the audit log: one event per save
        assert dict(events) == {f"writer-{w}": len(s) for w, s in present.items()}
    # The app's read path works on the restored database and sees what is stored.
    assert len(snapshot.outcomes) == WRITERS
    assert {m: points[-1].date for m, points in snapshot.readings.items()} == latest


@pytest.mark.slow
def test_backups_taken_while_writers_save_restore_to_a_consistent_moment(
    database_url: str, restore_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    context = multiprocessing.get_context("spawn")
    saves_done = context.Array("i", WRITERS)
    stop = context.Event()
    results = [tmp_path / f"writer-{w}.json" for w in range(WRITERS)]
    writers = [
        context.Process(
            target=run_writer, args=(database_url, w, saves_done, stop, str(results[w]))
        )
        for w in range(WRITERS)
    ]
    backups: list[tuple[Path, float, float]] = []

    def wait_for(saves: list[int]) -> None:
        deadline = time.monotonic() + WAIT
        while any(saves_done[w] < saves[w] for w in range(WRITERS)):
            assert all(p.is_alive() for p in writers), "a writer died"
            assert time.monotonic() < deadline, f"writers stuck at {saves_done[:]}"
            time.sleep(0.05)

    try:
        _fill(engine)
        for process in writers:
            process.start()
        wait_for([READY_SAVES] * WRITERS)

        # Through the API: SQLite gives a database file, PostgreSQL a JSON document.
        native = tmp_path / ("during.db" if is_sqlite(engine) else "during.json")
        began = time.time()
        kind = backup(engine, native).kind
        backups.append((native, began, time.time()))
        wait_for([saves_done[w] + 1 for w in range(WRITERS)])

        # Through the command line, as a cron job would: a JSON document on both.
        document = tmp_path / "during-cli.json"
        began = time.time()
        run = _manage(database_url, "backup", str(document))
        backups.append((document, began, time.time()))
        assert run.returncode == 0, run.stderr
        wait_for([saves_done[w] + SAVES_AFTER for w in range(WRITERS)])
    finally:
        stop.set()
        for process in writers:
            process.join(WAIT)
            if process.is_alive():
                process.kill()
                process.join()

    accounts = [json.loads(path.read_text("utf-8")) for path in results]
    # No lock error or anything else reached a writer while the backups ran.
    errors = [f"writer {w}: {e}" for w, a in enumerate(accounts) for e in a["errors"]]
    assert not errors, "\n".join(errors[:20])
    assert [p.exitcode for p in writers] == [0] * WRITERS
    logs = [a["log"] for a in accounts]
    try:  # the live database holds every save each writer saw committed
        assert _saves_present(engine) == {w: set(range(len(log))) for w, log in enumerate(logs)}
    finally:
        engine.dispose()

    assert kind == ("sqlite" if is_sqlite(database_url) else "json")
    assert json.loads(document.read_text("utf-8"))["format"] == BACKUP_FORMAT
    target = make_engine(restore_url)
    try:
        for (path, began, ended), restored_kind in zip(backups, [kind, "json"], strict=True):
            result = restore(target, path, actor=ADMIN)
            assert result.kind == restored_kind
            _check_restored(target, logs, began, ended, restored_kind)
    finally:
        target.dispose()


# ---------------------------------------------------------------- refusals


@pytest.fixture(scope="module")
def good_backups(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> list[Path]:
    """A SQLite file backup and a JSON backup of a small workspace with readings."""
    folder = tmp_path_factory.mktemp("good")
    shutil.copy(sqlite_template, folder / "source.db")
    engine = make_engine(f"sqlite:///{folder / 'source.db'}")
    try:
        _fill(engine)
        _save_readings(engine, writer=0, saves=3)
        return [
            backup(engine, folder / "good.db").path,
            backup(engine, folder / "good.json").path,
        ]
    finally:
        engine.dispose()


def _save_readings(engine: Engine, *, writer: int, saves: int) -> None:
    with read_session(engine) as session:
        metric_ids = dict(
            session.execute(
                select(Metric.name, Metric.id).join(Team).where(Team.key == f"W{writer}")
            ).all()
        )
    k = 0
    for save in range(saves):
        size = 50
        entries = []
        for i in range(size):
            metric, date, value = _reading(writer, k + i)
            entries.append(
                ReadingEntry(metric_ids[metric], date, value, f"w{writer} b{save} {i + 1}/{size}")
            )
        with write_session(engine) as session:
            record_readings(session, actor=ADMIN, entries=entries)
        k += size


def _fingerprint(engine: Engine) -> tuple[dict[str, int], str]:
    """Row counts of every table and a checksum of every readings row."""
    with read_session(engine) as session:
        counts = {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }
        digest = hashlib.sha256()
        for row in session.execute(select(Reading.__table__).order_by(Reading.id)):
            digest.update(repr(tuple(row)).encode())
    return counts, digest.hexdigest()


def _truncated_file(good: list[Path], path: Path) -> None:
    data = good[0].read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])


def _garbled_pages(good: list[Path], path: Path) -> None:
    data = bytearray(good[0].read_bytes())
    page = int.from_bytes(data[16:18], "big")
    noise = random.Random(11)
    for number in range(2, len(data) // page, 3):  # every third page after the schema
        data[number * page : (number + 1) * page] = noise.randbytes(page)
    path.write_bytes(bytes(data))


def _garbled_header(good: list[Path], path: Path) -> None:
    data = bytearray(good[0].read_bytes())
    data[16:100] = random.Random(5).randbytes(84)  # page size, counts, schema cookie
    path.write_bytes(bytes(data))


def _other_application(good: list[Path], path: Path) -> None:
    with sqlite3.connect(path) as connection:
        connection.executescript(
            """
            CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT, title TEXT);
            CREATE TABLE moz_bookmarks (id INTEGER PRIMARY KEY, fk INTEGER, title TEXT);
            INSERT INTO moz_places (url, title) VALUES ('https://example.org', 'Example');
            INSERT INTO moz_bookmarks (fk, title) VALUES (1, 'Example');
            """
        )
    connection.close()


def _truncated_json(good: list[Path], path: Path) -> None:
    text_ = good[1].read_text("utf-8")
    path.write_text(text_[: len(text_) // 2], "utf-8")


def _garbled_json(good: list[Path], path: Path) -> None:
    data = bytearray(good[1].read_bytes())
    noise = random.Random(3)
    for _ in range(40):
        data[noise.randrange(len(data))] = noise.randrange(256)
    path.write_bytes(bytes(data))


def _random_json(good: list[Path], path: Path) -> None:
    path.write_text(json.dumps({"name": "shopping list", "items": ["milk", "eggs"]}), "utf-8")


def _json_array(good: list[Path], path: Path) -> None:
    path.write_text(json.dumps([1, 2, 3]), "utf-8")


def _backup_with_unknown_metric(good: list[Path], path: Path) -> None:
    """Valid as JSON and as a backup's outline; wrong only deep inside, so the restore
    fails after it has begun replacing the data, and must roll all of it back."""
    document = json.loads(good[1].read_text("utf-8"))
    document = copy.deepcopy(document)
    document["workspace"]["readings"][-1]["metric"] = "No such metric"
    path.write_text(json.dumps(document), "utf-8")


BAD_FILES: list[tuple[str, Callable[[list[Path], Path], None], str]] = [
    ("truncated SQLite backup", _truncated_file, "not a readable SQLite database"),
    ("SQLite backup with garbled pages", _garbled_pages, "not a readable SQLite database"),
    ("SQLite backup with a garbled header", _garbled_header, "SQLite"),
    ("SQLite file of another application", _other_application, "not an Outcome Board database"),
    ("truncated JSON backup", _truncated_json, "not JSON"),
    ("JSON backup with garbled bytes", _garbled_json, "neither a SQLite backup nor a JSON"),
    ("JSON of another application", _random_json, "not a backup of Outcome Board"),
    ("JSON array", _json_array, "not a backup of Outcome Board"),
    ("JSON backup naming an unknown metric", _backup_with_unknown_metric, "No such metric"),
]


@pytest.mark.parametrize(
    ("make", "says"), [pytest.param(make, says, id=name) for name, make, says in BAD_FILES]
)
def test_damaged_or_foreign_backup_is_refused_and_the_database_is_untouched(
    engine: Engine,
    good_backups: list[Path],
    tmp_path: Path,
    make: Callable[[list[Path], Path], None],
    says: str,
) -> None:
    _fill(engine)
    _save_readings(engine, writer=1, saves=4)
    before = _fingerprint(engine)
    source = tmp_path / "suspect.backup"
    make(good_backups, source)

    with pytest.raises(ValidationError) as raised:
        restore(engine, source, actor=ADMIN)

    assert says in str(raised.value)
    assert _fingerprint(engine) == before


@pytest.mark.slow
def test_command_line_restore_of_a_damaged_file_says_why_and_changes_nothing(
    database_url: str, good_backups: list[Path], tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    try:
        _fill(engine)
        _save_readings(engine, writer=2, saves=2)
        before = _fingerprint(engine)
        source = tmp_path / "broken.db"
        _truncated_file(good_backups, source)

        run = _manage(database_url, "restore", str(source))

        assert run.returncode == 1
        assert "file: is not a readable SQLite database" in run.stderr
        assert "Nothing was written." in run.stderr
        assert _fingerprint(engine) == before
    finally:
        engine.dispose()
