"""The data version changes with every kind of write (app, command line, driver SQL,
COPY, migrations, restores) on SQLite and PostgreSQL, and with nothing else."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError

from core.access import Actor
from db.engine import is_sqlite, make_engine, read_session, write_session
from db.migrate import alembic_config
from db.models import Metric, Reading
from db.version import DataVersion, read_data_version
from db.writes import ReadingEntry, record_readings
from manage import cli
from tests.db.test_workspace import EXAMPLE

METRIC = "Checkout conversion"


def version(engine: Engine) -> DataVersion:
    with read_session(engine) as session:
        return read_data_version(session)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def cli_database(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Engine:
    """The command line on the test database, holding the example workspace."""
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", database_url)
    path = tmp_path / "example.json"
    path.write_text(json.dumps(EXAMPLE), "utf-8")
    assert run("import-workspace", str(path)).exit_code == 0
    return engine


def _metric_id(engine: Engine) -> int:
    with read_session(engine) as session:
        return session.scalars(select(Metric.id).where(Metric.name == METRIC)).one()


def test_a_new_database_has_a_version_and_the_schema_revision(engine: Engine) -> None:
    found = version(engine)
    assert len(found.token) == 32 and found.revision is not None


def test_reads_and_a_rolled_back_write_leave_it_alone(cli_database: Engine) -> None:
    before = version(cli_database)
    with read_session(cli_database) as session:
        session.scalars(select(Reading)).all()
    with pytest.raises(IntegrityError), write_session(cli_database) as session:
        session.add(Reading(metric_id=999_999, date=dt.date(2026, 10, 6), value=1.0))
        session.flush()
    assert version(cli_database) == before


def test_an_app_write_changes_it(cli_database: Engine) -> None:
    before = version(cli_database)
    entry = ReadingEntry(metric_id=_metric_id(cli_database), date=dt.date(2026, 10, 20), value=3)
    with write_session(cli_database) as session:
        record_readings(session, actor=Actor.system("t"), entries=[entry])
    after = version(cli_database)
    assert after.token != before.token and after.counter == before.counter + 1


def test_driver_sql_outside_a_write_session_changes_it(cli_database: Engine) -> None:
    """A bulk insert through the driver on a plain `engine.begin()` (no writer option)."""
    before = version(cli_database)
    sqlite = is_sqlite(cli_database)
    marks = ", ".join(["?" if sqlite else "%s"] * 7)
    at = "2026-11-03 09:00:00.000000" if sqlite else dt.datetime(2026, 11, 3, 9)
    metric_id = _metric_id(cli_database)
    rows = [
        (metric_id, f"2026-11-0{d}" if sqlite else dt.date(2026, 11, d), d, "", "bulk", "t", at)
        for d in (1, 2)
    ]
    with cli_database.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO readings (metric_id, date, value, note, source, entered_by, entered_at)"
            f" VALUES ({marks})",
            rows,
        )
    assert version(cli_database).token != before.token


@pytest.mark.parametrize(
    "args",
    [
        ("record", "--team", "CHK", "--metric", METRIC, "--value", "2.7", "--date", "2026-10-19"),
        ("import-readings", "{readings}"),  # COPY on PostgreSQL, driver SQL on SQLite
        ("import-workspace", "{workspace}"),
    ],
    ids=["record", "import-readings", "import-workspace"],
)
def test_each_writing_command_changes_it(
    cli_database: Engine, tmp_path: Path, args: tuple[str, ...]
) -> None:
    readings = tmp_path / "readings.csv"
    readings.write_text(f"team,metric,date,value\nCHK,{METRIC},2026-10-26,2.9\n", "utf-8")
    changed = json.loads(json.dumps(EXAMPLE))
    changed["metrics"][0]["description"] = "Orders per checkout started"
    workspace = tmp_path / "changed.json"
    workspace.write_text(json.dumps(changed), "utf-8")
    before = version(cli_database)

    result = run(*(a.format(readings=readings, workspace=workspace) for a in args))

    assert result.exit_code == 0, result.output
    assert version(cli_database).token != before.token


def test_a_refused_command_leaves_it_alone(cli_database: Engine) -> None:
    before = version(cli_database)
    result = run("record", "--team", "NOPE", "--metric", METRIC, "--value", "1")
    assert result.exit_code == 1
    assert version(cli_database) == before


def test_demo_changes_it(database_url: str, engine: Engine, monkeypatch) -> None:
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", database_url)
    before = version(engine)
    assert run("demo", "--today", "2026-11-02").exit_code == 0
    assert version(engine).token != before.token


def test_init_migrating_an_older_database_gives_it_a_version(
    database_url: str, engine: Engine, monkeypatch
) -> None:
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", database_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0002")
    assert version(engine) == DataVersion(token="", counter=0, revision="0002")

    assert run("init").exit_code == 0

    found = version(engine)
    assert found.token and found.revision != "0002"


def test_restore_changes_it_even_when_the_counter_matches(
    cli_database: Engine, tmp_path: Path
) -> None:
    """The backup is forged to carry the live database's exact version (same counter, same
    token): the restored database must still read as a new version."""
    saved = tmp_path / ("saved.db" if is_sqlite(cli_database) else "saved.json")
    assert run("backup", str(saved)).exit_code == 0
    run("record", "--team", "CHK", "--metric", METRIC, "--value", "9", "--date", "2026-10-12")
    live = version(cli_database)
    if saved.suffix == ".db":
        with sqlite3.connect(saved) as forged:
            forged.execute(
                "UPDATE data_version SET counter = ?, token = ?", (live.counter, live.token)
            )
        forged.close()

    assert run("restore", str(saved)).exit_code == 0

    assert version(cli_database).token != live.token
    with read_session(cli_database) as session:
        assert session.scalar(select(Reading.value).where(Reading.value == 9)) is None


def test_a_deleted_row_is_put_back_by_the_same_commit(cli_database: Engine) -> None:
    """A JSON restore empties every table, this one too: the commit's bump inserts it."""
    before = version(cli_database)
    with cli_database.begin() as connection:
        connection.execute(text("DELETE FROM data_version"))
    after = version(cli_database)
    assert after.token not in ("", before.token) and after.counter == 1


def test_another_process_sees_the_write(database_url: str, engine: Engine) -> None:
    """Two engines stand in for two app processes: one writes, the other's next read of
    the version differs (no cache, no clock)."""
    other = make_engine(database_url)
    try:
        seen = version(other)
        with write_session(engine) as session:
            session.execute(text("UPDATE data_version SET counter = counter WHERE id = 1"))
        assert version(other) != seen
    finally:
        other.dispose()
