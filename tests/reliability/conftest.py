"""Fixtures shared by the reliability suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, not even Alembic's: what a first start finds."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'outcomes.db'}"
        return
    with postgres_database("outcomes_empty") as url:
        yield url
