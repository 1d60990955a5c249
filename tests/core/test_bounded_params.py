"""URL parameters parsed with bounds and never raising (issue 15)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.validate import bounded_int


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, 15),
        ("", 15),
        ("  ", 15),
        ("20", 20),
        ("2", 3),
        ("-5", 3),
        ("7.9", 7),
        ("3000000", 3600),
        ("inf", 3600),
        ("Infinity", 3600),
        ("1e400", 3600),
        ("-1e400", 3),
        ("nan", 15),
        ("x", 15),
        ("1" * 400, 15),  # not parsed at all: no time spent on a huge number
    ],
)
def test_bounded_int(raw: str | None, expected: int) -> None:
    assert bounded_int(raw, default=15, low=3, high=3600) == expected


@given(st.text(max_size=60))
def test_bounded_int_never_raises_and_stays_in_bounds(raw: str) -> None:
    assert 3 <= bounded_int(raw, default=15, low=3, high=3600) <= 3600
