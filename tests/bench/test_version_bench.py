"""The data version benchmark (bench/version.py) on both databases, tiny: it measures the
real check, refuses a database without one, and reaches `python -m bench`'s table."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine

from bench.__main__ import FIGURES, version_figures
from bench.version import main, measure_version_check
from db.engine import make_engine


def test_measures_the_check_against_a_round_trip(engine: Engine) -> None:
    times = measure_version_check(engine, repeat=5)
    assert times.repeat == 5 and times.check > 0 and times.floor > 0


def test_refuses_a_database_without_a_data_version(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(ValueError, match="migrate it"):
        measure_version_check(engine, repeat=1)
    engine.dispose()


def test_is_a_figure_of_the_bench_run(database_url: str) -> None:
    assert "version" in FIGURES
    workspace = SimpleNamespace(url=database_url)  # only its database is used
    args = argparse.Namespace(quick=True, postgres_url=None)
    (figure,) = version_figures(workspace, args)  # type: ignore[arg-type]
    dialect = "SQLite" if database_url.startswith("sqlite") else "PostgreSQL"
    assert figure.name == f"data version check per page run, {dialect} (vs SELECT 1)"
    assert figure.floor is not None and figure.ours > 0


def test_command_line_prints_the_figure(database_url: str, capsys) -> None:
    assert main(["--url", database_url, "--repeat", "3"]) == 0
    assert "data version check per page run:" in capsys.readouterr().out
