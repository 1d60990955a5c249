"""The page tests' workspaces: the demo (as of DEMO_TODAY, built once per run and copied
for each test) for the dashboards and access tests; the small workspace of
`tests/pages/update_workspace.py` on a fresh database of each backend, on a fixed day, for
the update pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from db.engine import make_engine
from db.migrate import upgrade
from seed.demo import load_demo
from tests.conftest import DEMO_TODAY
from tests.pages.update_workspace import Workspace, open_workspace
from tests.sources.fixtures import (  # noqa: F401 (pytest finds fixtures by name)
    http_server,
    secrets,
)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace on DEMO_TODAY in a SQLite file, built once and copied for each
    test that opens it."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    load_demo(engine, today=DEMO_TODAY)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def ws(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    yield from open_workspace(database_url, monkeypatch)
