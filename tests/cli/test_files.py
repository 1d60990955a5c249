"""Issue 15: files the command line and the app create are private (0600 in 0700
folders), and every file-system error is one clean line naming the path."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import Engine

from db.backup import backup
from db.engine import make_engine, write_session
from db.migrate import upgrade
from db.models import Team
from tests.cli.test_manage import _with_example, cheap_hashes, database, run  # noqa: F401


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> None:
    """The usual umask 022, under which files were created 0644 before the fix."""
    import os

    old = os.umask(0o022)
    yield
    os.umask(old)


def test_new_database_its_wal_and_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "outcomes.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with write_session(engine) as session:
        session.add(Team(name="Checkout", key="CHK"))
    assert mode(path.parent) == 0o700
    assert mode(path) == 0o600
    wal = path.with_name(path.name + "-wal")
    assert wal.exists() and mode(wal) == 0o600
    engine.dispose()


@pytest.mark.parametrize("name", ["backup.db", "backup.json"])
def test_backups_are_private(tmp_path: Path, name: str) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'live.db'}")
    upgrade(engine)
    result = backup(engine, tmp_path / "new-folder" / name)
    assert mode(result.path) == 0o600
    assert mode(result.path.parent) == 0o700
    engine.dispose()


def test_export_is_private(database: Engine, tmp_path: Path) -> None:  # noqa: F811
    _with_example(tmp_path)
    out = tmp_path / "out.csv"
    assert run("export-readings", "--format", "csv", "--out", str(out)).exit_code == 0
    assert mode(out) == 0o600


def test_export_into_a_missing_folder_says_so(database: Engine, tmp_path: Path) -> None:  # noqa: F811
    _with_example(tmp_path)
    result = run(
        "export-readings", "--format", "csv", "--out", str(tmp_path / "missing" / "dir" / "x.csv")
    )
    assert result.exit_code == 2
    assert "FileNotFoundError" not in result.output
    assert f"the folder “{tmp_path / 'missing' / 'dir'}” does not exist" in result.output
    assert result.output.strip().endswith("Nothing was written.")


def test_export_into_a_folder_path_says_so(database: Engine, tmp_path: Path) -> None:  # noqa: F811
    _with_example(tmp_path)
    result = run("export-readings", "--format", "csv", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "it is a folder, not a file" in result.output
