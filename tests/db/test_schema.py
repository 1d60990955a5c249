"""The schema keeps data valid by itself, and SQLite runs with the pragmas we rely on."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from db.engine import make_engine, read_session, write_session
from db.models import PI, Metric, Outcome, Reading, Target, Team, Train


def _team_and_metric(engine: Engine) -> tuple[int, int, int]:
    with write_session(engine) as session:
        train = Train(name="Payments")
        team = Team(name="Checkout", key="CHK", train=train)
        pi = PI(
            name="PI 26.4",
            train=train,
            start_date=dt.date(2026, 10, 5),
            end_date=dt.date(2026, 12, 18),
        )
        session.add_all([train, team, pi])
        session.flush()
        metric = Metric(team_id=team.id, name="Conversion", unit="%")
        session.add(metric)
        session.flush()
        return team.id, metric.id, pi.id


def _insert_fails(engine: Engine, *records: object) -> None:
    with pytest.raises(IntegrityError), write_session(engine) as session:
        session.add_all(records)
        session.flush()


def test_one_reading_per_metric_and_date(engine: Engine) -> None:
    _, metric_id, _ = _team_and_metric(engine)
    day = dt.date(2026, 10, 6)
    with write_session(engine) as session:
        session.add(Reading(metric_id=metric_id, date=day, value=1.0))
    _insert_fails(engine, Reading(metric_id=metric_id, date=day, value=2.0))


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_reading_value_must_be_finite(engine: Engine, value: float) -> None:
    _, metric_id, _ = _team_and_metric(engine)
    _insert_fails(engine, Reading(metric_id=metric_id, date=dt.date(2026, 10, 6), value=value))


def test_reading_needs_an_existing_metric(engine: Engine) -> None:
    _insert_fails(engine, Reading(metric_id=999, date=dt.date(2026, 10, 6), value=1.0))


def test_pi_end_after_start(engine: Engine) -> None:
    day = dt.date(2026, 10, 5)
    _insert_fails(engine, PI(name="PI bad", start_date=day, end_date=day))


def test_team_names_and_keys_unique(engine: Engine) -> None:
    _team_and_metric(engine)
    _insert_fails(engine, Team(name="Checkout", key="CH2"))
    _insert_fails(engine, Team(name="Other", key="CHK"))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("planned_bv", 0),
        ("planned_bv", 11),
        ("actual_bv", -1),
        ("actual_bv", 11),
        ("status", "done"),
    ],
)
def test_outcome_ranges(engine: Engine, field: str, value: object) -> None:
    team_id, _, pi_id = _team_and_metric(engine)
    outcome = Outcome(pi_id=pi_id, team_id=team_id, key="CHK-1", title="Raise conversion")
    setattr(outcome, field, value)
    _insert_fails(engine, outcome)


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "maintain", "band_low": 5.0, "band_high": 4.0},
        {"kind": "maintain", "band_low": None, "band_high": 4.0},
        {"kind": "increase", "baseline": 2.0, "target": 2.0},
        {"kind": "increase", "baseline": 2.0, "target": None},
        {"kind": "sideways", "baseline": 1.0, "target": 2.0},
    ],
)
def test_target_constraints(engine: Engine, fields: dict[str, object]) -> None:
    team_id, metric_id, pi_id = _team_and_metric(engine)
    with write_session(engine) as session:
        outcome = Outcome(pi_id=pi_id, team_id=team_id, key="CHK-1", title="Raise conversion")
        session.add(outcome)
        session.flush()
        outcome_id = outcome.id
    _insert_fails(engine, Target(outcome_id=outcome_id, metric_id=metric_id, **fields))


def test_outcome_key_unique_within_pi(engine: Engine) -> None:
    team_id, _, pi_id = _team_and_metric(engine)
    with write_session(engine) as session:
        session.add(Outcome(pi_id=pi_id, team_id=team_id, key="CHK-1", title="A"))
    _insert_fails(engine, Outcome(pi_id=pi_id, team_id=team_id, key="CHK-1", title="B"))


@pytest.mark.sqlite_only("the pragmas are SQLite settings")
def test_sqlite_pragmas_in_effect(sqlite_engine: Engine) -> None:
    with write_session(sqlite_engine) as session:
        pragmas = {
            name: session.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 30000,
        "synchronous": 1,
    }


def test_a_new_connection_waits_for_a_write_on_a_rollback_journal_file_to_use_wal(
    tmp_path: Path,
) -> None:
    """Another process writes to a file still in rollback-journal mode (as when two app
    processes start on a new database): the switch to WAL waits for the write instead of
    failing at once with "database is locked" (SQLite skips its busy handler there)."""
    path = tmp_path / "new.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    finish = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    finish.start()
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("SELECT x FROM t").scalars().all() == [1]
    finally:
        finish.join()
        engine.dispose()
        other.close()


@pytest.mark.sqlite_only("BEGIN IMMEDIATE is how SQLite writers queue")
def test_write_session_takes_the_write_lock_up_front(sqlite_engine: Engine) -> None:
    # A second BEGIN IMMEDIATE must wait while a writer holds the lock: prove the first
    # one holds it by asking SQLite directly with a zero timeout.
    import sqlite3

    path = sqlite_engine.url.database
    with write_session(sqlite_engine) as session:
        session.execute(text("SELECT 1"))
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


@pytest.mark.sqlite_only("WAL readers beside SQLite's one writer")
def test_read_session_does_not_block_writers(sqlite_engine: Engine) -> None:
    import sqlite3

    path = sqlite_engine.url.database
    with read_session(sqlite_engine) as session:
        session.execute(text("SELECT count(*) FROM teams")).scalar()
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        other.close()
