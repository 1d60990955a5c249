"""Issue 15: rows that reach the import without the file parser (API, sync) are held to
the same storability check: the preview names the row, and nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from core.access import Actor
from core.errors import ValidationError
from db.engine import read_session
from db.readings import BAD, check_readings
from tests.db.test_readings_io import make_workspace, row, run_import, stored

ADMIN = Actor.system("test-admin")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"note": "a\x00b"}, "row 2: note must not contain NUL characters"),
        ({"note": "\ud800"}, "row 2: note contains characters that are not valid text"),
        ({"metric": "Conversion\x00"}, "row 2: metric must not contain NUL characters"),
    ],
)
def test_unstorable_row_is_bad_in_the_preview_and_the_import_writes_nothing(
    engine: Engine, fields: dict[str, str], message: str
) -> None:
    make_workspace(engine)
    rows = [row(2, **fields)]  # type: ignore[arg-type]
    with read_session(engine) as session:
        plan = check_readings(session, rows=rows, replace=False)
    assert [r.status for r in plan.readings if r.row == 2] in ([BAD], [])
    assert any(str(p).startswith(message) for p in plan.problems), plan.problems

    with pytest.raises(ValidationError):
        run_import(engine, rows, ADMIN)
    assert stored(engine) == []
