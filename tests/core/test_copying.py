"""The copy rules: the next free outcome key, and dates named in a title."""

from __future__ import annotations

import pytest

from core.copying import MAX_KEY_LENGTH, date_in_title, next_free_key


@pytest.mark.parametrize(
    ("key", "taken", "expected"),
    [
        ("CHK-2", set(), "CHK-2"),
        ("CHK-2", {"CHK-2"}, "CHK-3"),
        ("CHK-2", {"CHK-2", "CHK-3", "CHK-4"}, "CHK-5"),
        ("CHK-2", {"CHK-1", "CHK-2"}, "CHK-3"),  # counts on, never back
        ("PAY", {"PAY"}, "PAY-2"),
        ("PAY", {"PAY", "PAY-2"}, "PAY-3"),
        ("chk-9", {"chk-9"}, "chk-10"),
        ("CHK-2", {"chk-2"}, "CHK-2"),  # keys compare as stored
        ("A" * 29 + "9", {"A" * 29 + "9"}, "A" * 28 + "10"),  # stays within the column
    ],
)
def test_next_free_key(key: str, taken: set[str], expected: str) -> None:
    assert next_free_key(key, taken) == expected
    assert len(next_free_key(key, taken)) <= MAX_KEY_LENGTH


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Raise conversion to 3% by 1 Jan", "1 Jan"),
        ("Cut refunds by 18th of December 2026", "18th of December 2026"),
        ("Faster search by Dec 18", "Dec 18"),
        ("Faster search by 2026-12-18", "2026-12-18"),
        ("Halve errors before 18.12.2026", "18.12.2026"),
        ("Double sign-ups by March", "by March"),
        ("Reach 2000 users until 2027", "until 2027"),
        ("Lower churn in Q4", "Q4"),
        ("Ready by PI end", "by PI end"),
        ("Raise checkout conversion", None),
        ("Buyers may pay in one click", None),  # "may" the verb is no month
        ("Serve 2000 users a day", None),  # a number is no year
        ("", None),
    ],
)
def test_date_in_title(title: str, expected: str | None) -> None:
    assert date_in_title(title) == expected
