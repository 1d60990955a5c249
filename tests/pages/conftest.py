"""The update pages' fixture: the app on a fresh database (each backend) holding the small
workspace of `tests/pages/update_workspace.py`, on a fixed day."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pages.update_workspace import Workspace, open_workspace


@pytest.fixture
def ws(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    yield from open_workspace(database_url, monkeypatch)
