"""Migrations: a database at any Alembic revision, holding data, upgrades to head with
nothing lost (row counts and a sample of rows compared), a SQLite file is copied aside
first, each revision steps back down, the models match the migrations, and a database
newer than the code is refused by the command line and the app with a clear message."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlalchemy import Engine, MetaData, event, func, select, text
from streamlit.testing.v1 import AppTest

from core.access import Actor
from db import edit_queries, users
from db.browser_sessions import start_browser_session
from db.digest import set_digest_destination
from db.engine import PROJECT_ROOT, is_sqlite, make_engine, read_session, sqlite_path, write_session
from db.migrate import alembic_config, current_revision, head_revision, upgrade
from db.models import Base, Metric, Reading, Team
from db.sign_in import sign_in
from db.sources import set_metric_source
from db.tokens import create_token
from db.writes import ReadingEntry, record_readings
from manage import cli
from seed.demo import load_demo
from tests.conftest import DEMO_TODAY


def _revisions() -> list[str]:
    """Every revision of the script directory, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


REVISIONS = _revisions()
FUTURE_REVISION = "ffff_from_a_newer_version"
SAMPLE_EVERY = 50  # of the readings; every row of the other tables is compared
ADMIN = Actor.system("migration-test")


# ---------------------------------------------------------------- databases


@pytest.fixture(scope="session")
def workspace_at_head(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at head with a row in every table: the demo, two accounts (one with
    a team) and form saves (audit events, submission keys). The source of the rows each
    old-revision database is filled with."""
    path = tmp_path_factory.mktemp("source") / "workspace.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    load_demo(engine, today=DEMO_TODAY)
    hasher, users.hasher = users.hasher, PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    try:
        with write_session(engine) as session:
            users.create_user(
                session, actor=ADMIN, username="ana", role="admin", password="long enough pw"
            )
            users.create_user(
                session,
                actor=ADMIN,
                username="eli",
                role="editor",
                team_keys=["CHK"],
                email="eli@example.org",
            )
        # A failed sign-in fills sign_in_throttle.
        sign_in(engine, username="ana", password="wrong", client="10.0.0.1", now=dt.datetime.now())
        with write_session(engine) as session:
            # Revision 0008's tables: an API token and a digest destination.
            create_token(
                session, actor=ADMIN, name="pipeline", team_key="CHK", scope="readings:write"
            )
            team_id = session.scalar(select(Team.id).where(Team.key == "CHK"))
            set_digest_destination(
                session, actor=ADMIN, team_id=team_id, kind="email", target="po@example.org"
            )
            # Revision 0009's table: a browser's lasting sign-in.
            start_browser_session(session, username="ana", now=dt.datetime.now(), hours=12)
        for number, metric_id in enumerate(_metric_ids(engine)[:5]):
            with write_session(engine) as session:
                record_readings(
                    session,
                    actor=ADMIN,
                    entries=[ReadingEntry(metric_id, DEMO_TODAY + dt.timedelta(days=40), 1.25)],
                    submission_key=f"form-{number}",
                )
        with write_session(engine) as session:
            set_metric_source(
                session,
                actor=ADMIN,
                metric_id=_metric_ids(engine)[0],
                spec={"kind": "csv_url", "url": "http://127.0.0.1:9/readings.csv"},
            )
    finally:
        users.hasher = hasher
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _metric_ids(engine: Engine) -> list[int]:
    with read_session(engine) as session:
        return list(session.scalars(select(Metric.id).order_by(Metric.id)))


@pytest.fixture
def empty_engine(empty_url: str) -> Iterator[Engine]:
    engine = make_engine(empty_url)
    yield engine
    engine.dispose()


def _alembic(engine: Engine, verb: str, revision: str) -> None:
    """Alembic's upgrade or downgrade to `revision`, on a connection set up as db.migrate
    sets up its own (SQLite's foreign keys off for batch table rebuilds)."""
    config = alembic_config()
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            raw.execute("PRAGMA foreign_keys=OFF")
        with connection.begin():
            config.attributes["connection"] = connection
            getattr(command, verb)(config, revision)
        if sqlite:
            raw.execute("PRAGMA foreign_keys=ON")


def _tables(engine: Engine) -> MetaData:
    metadata = MetaData()
    metadata.reflect(engine)
    metadata.remove(metadata.tables["alembic_version"])
    return metadata


def _fill(target: Engine, source: Path) -> None:
    """Copy every row the target's tables can hold from the source, table by table in
    foreign-key order, with the columns the target has at its revision."""
    source_engine = make_engine(f"sqlite:///{source}")
    source_tables = _tables(source_engine)
    target_tables = _tables(target)
    try:
        with source_engine.connect() as read, target.begin() as write:
            for table in target_tables.sorted_tables:
                if table.name == "data_version":
                    continue  # one row, made by its migration and changed by every write
                origin = source_tables.tables.get(table.name)
                if origin is None:
                    pytest.fail(f"{table.name} is gone at head: give this test its rows")
                columns = [column for column in table.columns if column.name in origin.c]
                unfilled = [
                    column.name
                    for column in table.columns
                    if column.name not in origin.c
                    and not column.nullable
                    and column.server_default is None
                ]
                assert not unfilled, f"{table.name}.{unfilled} is gone at head: fill it here"
                query = select(*(origin.c[column.name] for column in columns)).order_by(
                    *origin.primary_key.columns
                )
                rows = [dict(row) for row in read.execute(query).mappings()]
                if rows:
                    write.execute(table.insert(), rows)
            if write.dialect.name == "postgresql":
                # Rows came with their ids: move each id sequence past them, as the app's
                # own inserts would have.
                for table in target_tables.sorted_tables:
                    if "id" in table.c and table.c.id.primary_key:
                        write.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                f"COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"
                            )
                        )
    finally:
        source_engine.dispose()


@dataclass(frozen=True)
class Snapshot:
    counts: dict[str, int]
    rows: dict[str, list[tuple[Any, ...]]]  # every row, but only every 50th reading


def _snapshot(engine: Engine, columns: dict[str, list[str]]) -> Snapshot:
    """Row counts of every table and a sample of rows, in the given columns (those of the
    revision the data was written at)."""
    tables = _tables(engine)
    counts: dict[str, int] = {}
    rows: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for name, names in columns.items():
            table = tables.tables[name]
            counts[name] = connection.scalar(select(func.count()).select_from(table)) or 0
            query = select(*(table.c[column] for column in names)).order_by(
                *table.primary_key.columns
            )
            found = [tuple(row) for row in connection.execute(query)]
            rows[name] = found[::SAMPLE_EVERY] if name == "readings" else found
    return Snapshot(counts, rows)


def _columns(engine: Engine) -> dict[str, list[str]]:
    """The data tables' columns; data_version is left out: every write changes it."""
    return {
        table.name: [c.name for c in table.columns]
        for table in _tables(engine).sorted_tables
        if table.name != "data_version"
    }


def _revision_in_file(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    finally:
        connection.close()


# ---------------------------------------------------------------- upgrades


@pytest.mark.parametrize("revision", REVISIONS)
def test_database_at_each_revision_upgrades_to_head_with_nothing_lost(
    revision: str, empty_engine: Engine, workspace_at_head: Path
) -> None:
    # Setup: a database at `revision`, holding a row in every table it has.
    _alembic(empty_engine, "upgrade", revision)
    _fill(empty_engine, workspace_at_head)
    columns = _columns(empty_engine)
    before = _snapshot(empty_engine, columns)
    assert all(before.counts.values()), f"tables left empty: {before.counts}"

    # Exercise: the app's own upgrade, as `manage.py init` or the first page run does.
    result = upgrade(empty_engine)

    # Verify: at head, with every row of the old revision still there, unchanged.
    assert (result.before, result.after) == (revision, head_revision())
    assert current_revision(empty_engine) == head_revision()
    after = _snapshot(empty_engine, columns)
    assert after.counts == before.counts
    for table, rows in before.rows.items():
        assert after.rows[table] == rows, f"{table} changed by the upgrade from {revision}"

    path = sqlite_path(empty_engine)
    if path is not None and revision != head_revision():
        # The file was copied aside before Alembic touched it, at the old revision.
        assert result.backup is not None and result.backup.parent == path.parent / "backups"
        assert _revision_in_file(result.backup) == revision
        copy = make_engine(f"sqlite:///{result.backup}")
        try:
            assert _snapshot(copy, columns).counts == before.counts
        finally:
            copy.dispose()
    else:
        assert result.backup is None

    # And the code at head writes to it.
    metric_id = _metric_ids(empty_engine)[0]
    with write_session(empty_engine) as session:
        entry = ReadingEntry(metric_id, DEMO_TODAY + dt.timedelta(days=90), 2.5)
        assert record_readings(session, actor=ADMIN, entries=[entry]).added == 1


@pytest.mark.parametrize("revision", REVISIONS[1:])
def test_each_revision_downgrades_and_upgrades_again_with_nothing_lost(
    revision: str, empty_engine: Engine, workspace_at_head: Path
) -> None:
    _alembic(empty_engine, "upgrade", revision)
    _fill(empty_engine, workspace_at_head)
    columns = _columns(empty_engine)
    before = _snapshot(empty_engine, columns)
    script = ScriptDirectory.from_config(alembic_config())
    previous = script.get_revision(revision).down_revision
    assert isinstance(previous, str), "a merge revision: give this test its own case"
    at_previous = _columns_at(previous)
    previous_columns = {
        name: [column for column in names if column in at_previous[name]]
        for name, names in columns.items()
        if name in at_previous
    }

    kept = _snapshot(empty_engine, previous_columns)  # what the older schema can hold

    _alembic(empty_engine, "downgrade", previous)
    assert current_revision(empty_engine) == previous
    assert _snapshot(empty_engine, previous_columns) == kept
    _alembic(empty_engine, "upgrade", revision)

    assert current_revision(empty_engine) == revision
    # A table this revision adds cannot keep its rows through a downgrade that drops it
    # (revision 0004: iterations, made again from the PIs' dates, and their goals); every
    # table the older schema has comes back whole, the columns it lacked included.
    surviving = {name: names for name, names in columns.items() if name in at_previous}
    assert _snapshot(empty_engine, surviving) == _snapshot_of(before, surviving)


def _snapshot_of(snapshot: Snapshot, tables: dict[str, list[str]]) -> Snapshot:
    """The part of a snapshot about these tables."""
    return Snapshot(
        {name: snapshot.counts[name] for name in tables},
        {name: snapshot.rows[name] for name in tables},
    )


def _columns_at(revision: str) -> dict[str, list[str]]:
    """The tables and columns a database at `revision` has."""
    engine = make_engine("sqlite://")
    try:
        _alembic(engine, "upgrade", revision)
        return _columns(engine)
    finally:
        engine.dispose()


def test_models_match_the_migrations_at_head(empty_engine: Engine) -> None:
    """A model change without its revision (or the reverse) shows up here."""
    upgrade(empty_engine)
    with empty_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_audit_log_lists_and_filters_actors_through_the_actor_index(
    tmp_path: Path, workspace_at_head: Path
) -> None:
    """Revision 0002's index: the Admin page's audit log lists every actor on each run and
    filters by them; without it, both read the whole audit table."""
    path = tmp_path / "outcomes.db"
    shutil.copy(workspace_at_head, path)
    engine = make_engine(f"sqlite:///{path}")
    statements: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    try:
        event.listen(engine, "before_cursor_execute", keep)
        with read_session(engine) as session:
            edit_queries.audit_facets(session)
            edit_queries.audit_events(
                session, actors=["ana"], start=DEMO_TODAY, end=DEMO_TODAY, limit=100
            )
        event.remove(engine, "before_cursor_execute", keep)
        with engine.connect() as connection:
            plans = {
                statement: " / ".join(
                    row[3]
                    for row in connection.exec_driver_sql(
                        f"EXPLAIN QUERY PLAN {statement}", parameters
                    )
                )
                for statement, parameters in statements
                if "actor" in statement.split("FROM")[0] or "actor IN" in statement
            }
    finally:
        engine.dispose()
    listing = [plan for statement, plan in plans.items() if "DISTINCT" in statement]
    filtering = [plan for statement, plan in plans.items() if "actor IN" in statement]
    assert listing and all("COVERING INDEX ix_audit_actor" in plan for plan in listing), plans
    assert filtering and all("INDEX ix_audit_actor (actor=?)" in plan for plan in filtering), plans


# ---------------------------------------------------------------- newer than the code


@pytest.fixture
def newer_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database last migrated by a newer Outcome Board, named by OUTCOMES_DATABASE_URL."""
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE alembic_version SET version_num = :v"), {"v": FUTURE_REVISION}
        )
    engine.dispose()
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", database_url)
    monkeypatch.setenv("OUTCOMES_PUBLIC_READ", "true")
    st.cache_data.clear()
    st.cache_resource.clear()
    yield database_url
    st.cache_data.clear()
    st.cache_resource.clear()


def _untouched(url: str) -> None:
    engine = make_engine(url)
    try:
        assert current_revision(engine) == FUTURE_REVISION
        with read_session(engine) as session:
            assert session.scalar(select(func.count()).select_from(Reading)) == 0
        if is_sqlite(engine):
            path = sqlite_path(engine)
            assert path is not None and not (path.parent / "backups").exists()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "arguments",
    [
        ["init"],
        ["record", "--team", "CHK", "--metric", "Conversion", "--value", "1"],
        ["export-workspace", "-"],
    ],
    ids=["init", "record", "export-workspace"],
)
def test_command_line_refuses_a_database_newer_than_the_code(
    newer_database: str, arguments: list[str]
) -> None:
    result = CliRunner().invoke(cli, arguments, catch_exceptions=False)

    assert result.exit_code == 1
    assert f"schema revision {FUTURE_REVISION}" in result.stderr
    assert "newer version: upgrade the app" in result.stderr
    assert "Traceback" not in result.output
    _untouched(newer_database)


@pytest.mark.parametrize(
    "page_file",
    ["app.py", *sorted(f"pages/{p.name}" for p in (PROJECT_ROOT / "pages").glob("*.py"))],
)
def test_app_shows_why_it_will_not_open_a_database_newer_than_the_code(
    newer_database: str, page_file: str
) -> None:
    at = AppTest.from_file(str(PROJECT_ROOT / page_file), default_timeout=60).run()

    assert not at.exception
    assert [error.value for error in at.error] == [
        f"The database is at schema revision {FUTURE_REVISION}, which this version of "
        f"Outcome Board does not know (its newest is {head_revision()}). It was written by "
        "a newer version: upgrade the app instead of opening it with this one."
    ]
    assert not at.title and not at.dataframe  # nothing else of the page ran
    _untouched(newer_database)
