"""Rules for copying unfinished outcomes into the next PI: the next free key when an
outcome's key is taken there, and whether a title names a date (which a copy makes wrong
once its target date moves to the new PI's end)."""

from __future__ import annotations

import re
from collections.abc import Collection

# Outcome keys end in a number by convention ("CHK-2"); the copy counts on from it.
_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)$")
MAX_KEY_LENGTH = 30  # core.validate.OUTCOME_KEY_PATTERN

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORDINAL = r"(?:st|nd|rd|th)?"
# Each alternative is a way people write a deadline into a title. A month or a year on
# its own counts only after a deadline word ("by March", "until 2027"), so "may" the verb
# and a number like "2000 users" are not taken for dates.
_DATE = re.compile(
    r"\b(?:"
    r"\d{4}-\d{2}-\d{2}"  # 2026-12-18
    r"|\d{1,2}[./]\d{1,2}[./]\d{2,4}"  # 18.12.2026, 12/18/26
    rf"|\d{{1,2}}{_ORDINAL}\s+(?:of\s+)?{_MONTH}\b\.?(?:\s+\d{{4}})?"  # 1 Jan, 1st of January 2027
    rf"|{_MONTH}\.?\s+\d{{1,2}}{_ORDINAL}\b(?:,?\s+\d{{4}})?"  # Jan 1, December 18th, 2026
    # (a deadline word with a day after the month, or a full date after the year, is
    # left to the alternatives above, which name the whole date)
    rf"|(?:by|until|till|before|in|end\s+of)\s+(?:the\s+end\s+of\s+)?{_MONTH}\b"
    r"(?:\s+\d{4})?(?!\s*\d)"
    r"|(?:by|until|till|before|in|end\s+of)\s+(?:19|20)\d{2}\b(?![-./]\d)"  # by 2027
    r"|q[1-4](?:\s*(?:19|20)?\d{2})?\b"  # Q4, Q1 2027
    r"|(?:by|until|before|end\s+of)\s+(?:the\s+)?(?:pi|quarter|year)\s+end\b"
    r")",
    re.IGNORECASE,
)


def next_free_key(key: str, taken: Collection[str]) -> str:
    """`key` if it is free in `taken`, else the next free key counting on from its number
    (CHK-2 taken -> CHK-3, or the first free one after it); a key without a number gets
    one ("PAY" -> "PAY-2"). Keys are compared as stored (case-sensitive), like the
    database's uniqueness per PI."""
    if key not in taken:
        return key
    match = _NUMBERED.match(key)
    if match:
        prefix, number = match["prefix"], int(match["number"]) + 1
    else:
        prefix, number = f"{key}-", 2
    while True:
        candidate = f"{prefix}{number}"
        if len(candidate) > MAX_KEY_LENGTH:
            # Keep the key within the column: shorten the prefix, never the number.
            candidate = f"{prefix[: MAX_KEY_LENGTH - len(str(number))]}{number}"
        if candidate not in taken:
            return candidate
        number += 1


def date_in_title(title: str) -> str | None:
    """The first date-like words a title names ("by 1 Jan", "2026-12-18", "Q4"), or None."""
    match = _DATE.search(title or "")
    return match.group(0) if match else None
