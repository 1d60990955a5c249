"""The command line: each command on a SQLite file, exit statuses, messages that name the
row or field, nothing written on refusal, and two processes writing at once."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner, Result
from sqlalchemy import Engine, func, select

from db import users
from db.engine import PROJECT_ROOT, make_engine, read_session, write_session
from db.migrate import head_revision
from db.models import Reading, User
from db.users import authenticate
from manage import cli
from tests.conftest import DEMO_TODAY
from tests.db.test_workspace import EXAMPLE

PASSWORD = "correct horse battery"
METRIC = "Checkout conversion"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """OUTCOMES_DATABASE_URL pointing at a fresh file; the engine to look inside it."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def run(*args: str, input: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def _with_example(tmp_path: Path) -> Path:
    path = tmp_path / "example.json"
    path.write_text(json.dumps(EXAMPLE), "utf-8")
    assert run("import-workspace", str(path)).exit_code == 0
    return path


def _readings(engine: Engine) -> list[tuple[dt.date, float]]:
    with read_session(engine) as session:
        return [(r.date, r.value) for r in session.scalars(select(Reading).order_by(Reading.date))]


# ---------------------------------------------------------------- every command


def test_group_help_says_the_cli_acts_as_local_admin() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "local administrator" in result.output
    assert "OUTCOMES_DATABASE_URL" in result.output


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert f"Usage: cli {command}" in result.output
    assert len(result.output.splitlines()) > 4


def test_init_twice_is_harmless(database: Engine, tmp_path: Path) -> None:
    first = run("init")
    _with_example(tmp_path)

    second = run("init")

    assert first.exit_code == second.exit_code == 0
    assert f"empty -> {head_revision()}" in first.output
    assert f"already at {head_revision()}" in second.output
    assert _readings(database) == [(dt.date(2026, 10, 5), 2.1)]


def test_demo_loads_once(database: Engine) -> None:
    first = run("demo", "--today", DEMO_TODAY.isoformat())
    second = run("demo", "--today", DEMO_TODAY.isoformat())

    assert first.exit_code == 0, first.output
    assert "current: PI" in first.output
    assert second.exit_code == 1
    assert len(_readings(database)) > 1000


# ---------------------------------------------------------------- accounts


def test_create_user_reads_one_line_of_stdin_as_the_password(database: Engine) -> None:
    result = run(
        "create-user", "ana", "--role", "admin", "--password-stdin", input=f"{PASSWORD}\nmore\n"
    )

    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    with write_session(database) as session:
        signed_in = authenticate(session, username="ana", password=PASSWORD, now=dt.datetime.now())
    assert signed_in.ok and signed_in.actor is not None and signed_in.actor.role == "admin"


def test_create_user_asks_for_the_password_twice(database: Engine, tmp_path: Path) -> None:
    _with_example(tmp_path)

    result = run(
        "create-user",
        "ben",
        "--role",
        "editor",
        "--team",
        "CHK",
        "--display-name",
        "Ben",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    with write_session(database) as session:
        assert authenticate(session, username="ben", password=PASSWORD, now=dt.datetime.now()).ok


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--role", "admin", "--password-stdin"), "password"),
        (("--role", "editor", "--team", "NOPE", "--password-stdin"), "team"),
        (("--role", "viewer", "--no-password"), "--email"),
    ],
)
def test_bad_account_exits_1_naming_the_field(
    database: Engine, args: tuple[str, ...], says: str
) -> None:
    run("init")
    result = run("create-user", "ana", *args, input="short\n")

    assert result.exit_code == 1
    assert says in result.stderr
    assert "Nothing was written." in result.stderr
    with read_session(database) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


def test_wrong_role_is_a_usage_error() -> None:
    assert run("create-user", "ana", "--role", "owner").exit_code == 2


# ---------------------------------------------------------------- workspace


def test_workspace_round_trips_through_files(
    database: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_example(tmp_path)
    first = tmp_path / "first.json"
    assert run("export-workspace", str(first)).exit_code == 0
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", f"sqlite:///{tmp_path / 'second.db'}")

    imported = run("import-workspace", str(first))
    second = tmp_path / "second.json"
    exported = run("export-workspace", str(second))

    assert imported.exit_code == exported.exit_code == 0
    assert "created 1 trains" in imported.output
    assert second.read_bytes() == first.read_bytes()
    assert json.loads(first.read_text("utf-8")) == EXAMPLE


def test_export_workspace_to_stdout(database: Engine, tmp_path: Path) -> None:
    _with_example(tmp_path)
    result = run("export-workspace", "-")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == EXAMPLE


def test_bad_workspace_exits_1_naming_each_record(database: Engine, tmp_path: Path) -> None:
    document = copy.deepcopy(EXAMPLE)
    document["outcomes"][0]["planned_bv"] = 12
    document["readings"][0]["value"] = "n/a"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document), "utf-8")

    result = run("import-workspace", str(path))

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "outcomes[0] (PI 26.4/CHK-1).planned_bv: must be between 1 and 10",
        "readings[0] (Checkout/Checkout conversion/2026-10-05).value: must be a number",
        "Nothing was written.",
    ]
    assert run("export-workspace", "-").stdout.count('"name"') == 0


def test_file_that_is_not_json_exits_1(database: Engine, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("team,metric\n", "utf-8")
    result = run("import-workspace", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith("FILE: is not a JSON document")


def test_json_nested_past_the_parser_is_refused_not_a_crash(
    database: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"format": "outcome-board/1", "teams": ' + "[" * 5000 + "]" * 5000 + "}")
    result = run("import-workspace", str(path))
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "FILE: is nested too deeply to be a workspace"


# ---------------------------------------------------------------- readings


def test_record_one_reading_and_replace_it_only_when_asked(
    database: Engine, tmp_path: Path
) -> None:
    _with_example(tmp_path)
    day = ("--team", "CHK", "--metric", METRIC, "--date", "2026-10-12")

    added = run("record", *day, "--value", "2.3", "--note", "after v2.3")
    same = run("record", *day, "--value", "2.3")
    different = run("record", *day, "--value", "2.4")
    replaced = run("record", *day, "--value", "2,4", "--replace")

    assert [r.exit_code for r in (added, same, different, replaced)] == [0, 0, 1, 0]
    assert "row 1" in different.stderr
    assert _readings(database) == [(dt.date(2026, 10, 5), 2.1), (dt.date(2026, 10, 12), 2.4)]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--team", "CHK", "--metric", "Speed", "--value", "1"), "Speed"),
        (("--team", "NOPE", "--metric", METRIC, "--value", "1"), "NOPE"),
        (("--team", "CHK", "--metric", METRIC, "--value", "inf"), "--value"),
    ],
)
def test_record_refusals_name_what_is_wrong(
    database: Engine, tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    _with_example(tmp_path)
    result = run("record", *args)
    assert result.exit_code == 1
    assert says in result.stderr
    assert len(_readings(database)) == 1


def test_import_readings_with_bad_rows_lists_them_and_writes_nothing(
    database: Engine, tmp_path: Path
) -> None:
    _with_example(tmp_path)
    path = tmp_path / "readings.csv"
    path.write_text(
        "team,metric,date,value\n"
        f"CHK,{METRIC},2026-10-12,2.2\n"
        f"CHK,{METRIC},2026-10-19,lots\n"
        f"CHK,Speed,2026-10-19,3\n",
        "utf-8",
    )

    result = run("import-readings", str(path))

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("row 3: ") and lines[1].startswith("row 4: ")
    assert lines[-1] == "Nothing was written."
    assert len(_readings(database)) == 1


def test_import_readings_dry_run_then_for_real_then_again(database: Engine, tmp_path: Path) -> None:
    _with_example(tmp_path)
    path = tmp_path / "readings.csv"
    path.write_text(f"team;metric;date;value;note\nCHK;{METRIC};12.10.2026;2,2;ok\n", "utf-8")

    dry = run("import-readings", str(path), "--dry-run")
    after_dry = len(_readings(database))
    real = run("import-readings", str(path))
    again = run("import-readings", str(path))

    assert (dry.exit_code, real.exit_code, again.exit_code) == (0, 0, 0)
    assert "Would add 1" in dry.output and after_dry == 1
    assert "Added 1" in real.output and "skipped 1" in again.output
    assert _readings(database)[-1] == (dt.date(2026, 10, 12), 2.2)


def test_export_readings_writes_the_import_columns(database: Engine, tmp_path: Path) -> None:
    _with_example(tmp_path)
    csv_path, xlsx_path = tmp_path / "out.csv", tmp_path / "out.xlsx"

    as_csv = run("export-readings", "--format", "csv", "--out", str(csv_path), "--team", "CHK")
    as_xlsx = run("export-readings", "--format", "xlsx", "--out", str(xlsx_path))
    unknown = run("export-readings", "--format", "csv", "--out", "-", "--team", "NOPE")

    assert (as_csv.exit_code, as_xlsx.exit_code, unknown.exit_code) == (0, 0, 1)
    assert csv_path.read_text("utf-8-sig").splitlines() == [
        "team,metric,date,value,note",
        f"Checkout,{METRIC},2026-10-05,2.1,",
    ]
    assert xlsx_path.read_bytes().startswith(b"PK")


# ---------------------------------------------------------------- backup and restore


def test_backup_and_restore(database: Engine, tmp_path: Path) -> None:
    _with_example(tmp_path)
    saved = tmp_path / "saved.db"
    backed_up = run("backup", str(saved))
    run("record", "--team", "CHK", "--metric", METRIC, "--value", "9", "--date", "2026-10-12")

    restored = run("restore", str(saved))

    assert backed_up.exit_code == restored.exit_code == 0
    assert "The replaced database was kept at" in restored.output
    assert _readings(database) == [(dt.date(2026, 10, 5), 2.1)]


def test_restore_of_a_damaged_file_exits_1_and_changes_nothing(
    database: Engine, tmp_path: Path
) -> None:
    _with_example(tmp_path)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"SQLite format 3\x00" + os.urandom(8000))

    result = run("restore", str(junk))

    assert result.exit_code == 1
    assert result.stderr.startswith("file: ")
    assert _readings(database) == [(dt.date(2026, 10, 5), 2.1)]


# ---------------------------------------------------------------- unexpected errors


def test_unexpected_error_exits_2_with_one_line(
    database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(session: object) -> None:
        raise RuntimeError("disk on fire\n  at line 3")

    monkeypatch.setattr("db.workspace.export_workspace", broken)

    result = run("export-workspace", "-")

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "Error: RuntimeError: disk on fire at line 3",
        "Nothing was written.",
    ]


# ---------------------------------------------------------------- two processes

WRITER = """
import datetime as dt, sys, time
from pathlib import Path
from core.access import Actor
from core.reading_files import ReadingRow
from db.engine import make_engine, write_session
from db.readings import import_readings

url, go, first, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
engine = make_engine(url)
Path(f"{go}.ready{first}").touch()  # imports done: wait for the other process
while not go.exists():
    time.sleep(0.005)
for i in range(first, 2 * count, 2):  # one process the even days, the other the odd
    row = ReadingRow(row=1, team="CHK", metric="Checkout conversion",
                     date=dt.date(2020, 1, 1) + dt.timedelta(days=i), value=float(i))
    with write_session(engine) as session:
        import_readings(session, actor=Actor.system("p"), rows=[row], source="cli")
"""


@pytest.mark.slow
def test_two_processes_writing_readings_at_once_lose_nothing(
    database: Engine, tmp_path: Path
) -> None:
    _with_example(tmp_path)
    go, count = tmp_path / "go", 100
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(database.url), str(go), str(first), str(count)],
            cwd=PROJECT_ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for first in (0, 1)
    ]
    deadline = time.monotonic() + 120
    while not all(Path(f"{go}.ready{first}").exists() for first in (0, 1)):
        assert time.monotonic() < deadline and all(w.poll() is None for w in writers)
        time.sleep(0.01)
    go.touch()  # both are loaded: now they race
    errors = [writer.communicate(timeout=300)[1] for writer in writers]

    assert [w.returncode for w in writers] == [0, 0], errors
    stored = {day for day, _ in _readings(database)}
    expected = {dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(2 * count)}
    assert expected <= stored
    assert len(stored) == 2 * count + 1  # plus the example's own reading
