"""The HTTP API's readings body, checked as pure data: every bad row by index and field.

Body: `{"readings": [{"team": "CHK", "metric": "...", "date": "YYYY-MM-DD", "value": 2.4,
"note": ""}], "replace": false}`. `team` is the team's key or name, `metric` its name
within the team (both matched as the import matches them), `date` an ISO date, `value` a
finite JSON number (a string is refused: a pipeline that sends "2,4" has a bug to see),
`note` optional text. Rows are numbered by their index in `readings`, from 0. The
import's own problems (unknown metric, a different stored value without replace) name
"row N" with the same N, and `api_problem` turns both kinds into one JSON shape."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any

from core.errors import Problem
from core.reading_files import ReadingRow, is_storable, problem_row
from core.validate import unstorable

MAX_ROWS = 100_000
NOTE_LENGTH = 2_000
FIELDS = ("team", "metric", "date", "value", "note")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WHERE = re.compile(r"^row (\d+)$")


@dataclass(frozen=True)
class ReadingsPayload:
    rows: list[ReadingRow]
    replace: bool
    problems: list[Problem]
    # (index, team as written) of every row that names a team, good or bad: a row for
    # another team is refused (403) whatever else is wrong with it.
    teams: list[tuple[int, str]] = field(default_factory=list)


def _text(row: dict[str, Any], name: str, index: int, problems: list[Problem]) -> str:
    value = row.get(name)
    if not isinstance(value, str) or not value.strip():
        problems.append(Problem(f"row {index}", f"{name}: is required (a non-empty string)"))
        return ""
    why = unstorable(value)
    if why:
        problems.append(Problem(f"row {index}", f"{name}: {why}"))
        return ""
    return value.strip()


def parse_readings_payload(body: Any) -> ReadingsPayload:
    """The rows of a readings body, or every problem found in it."""
    problems: list[Problem] = []
    if not isinstance(body, dict):
        return ReadingsPayload([], False, [Problem("body", "must be a JSON object")])
    readings = body.get("readings")
    replace = body.get("replace", False)
    if not isinstance(replace, bool):
        problems.append(Problem("replace", "must be true or false"))
        replace = False
    unknown = sorted(set(body) - {"readings", "replace"})
    if unknown:
        problems.append(Problem("body", f"unknown field(s): {', '.join(unknown)}"))
    if not isinstance(readings, list) or not readings:
        problems.append(Problem("readings", "must be a non-empty list of readings"))
        return ReadingsPayload([], replace, problems)
    if len(readings) > MAX_ROWS:
        problems.append(Problem("readings", f"at most {MAX_ROWS:,} readings per request"))
        return ReadingsPayload([], replace, problems)
    rows: list[ReadingRow] = []
    teams: list[tuple[int, str]] = []
    for index, row in enumerate(readings):
        if not isinstance(row, dict):
            problems.append(Problem(f"row {index}", "must be an object"))
            continue
        before = len(problems)
        extra = sorted(set(row) - set(FIELDS))
        if extra:
            problems.append(Problem(f"row {index}", f"unknown field(s): {', '.join(extra)}"))
        team = _text(row, "team", index, problems)
        if team:
            teams.append((index, team))
        metric = _text(row, "metric", index, problems)
        date = _date(row.get("date"), index, problems)
        value = _value(row.get("value"), index, problems)
        note = row.get("note", "")
        if note is None:
            note = ""
        if not isinstance(note, str):
            problems.append(Problem(f"row {index}", "note: must be a string"))
            note = ""
        elif unstorable(note) or len(note) > NOTE_LENGTH:
            problems.append(
                Problem(f"row {index}", f"note: at most {NOTE_LENGTH} printable characters")
            )
        if len(problems) == before and date is not None and value is not None:
            rows.append(ReadingRow(index, team, metric, date, value, note.strip()))
    return ReadingsPayload(rows, replace, problems, teams)


def _date(value: Any, index: int, problems: list[Problem]) -> dt.date | None:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        problems.append(Problem(f"row {index}", "date: must be a date as YYYY-MM-DD"))
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        problems.append(Problem(f"row {index}", f"date: '{value}' is not a calendar date"))
        return None
    return day


def _value(value: Any, index: int, problems: list[Problem]) -> float | None:
    # bool is an int in Python; JSON true is not a reading.
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(Problem(f"row {index}", "value: must be a number"))
        return None
    number = float(value)
    if math.isnan(number) or not is_storable(number):
        problems.append(Problem(f"row {index}", "value: must be a finite number"))
        return None
    return number


# The import's messages do not name a field; these words tell which one they are about.
_FIELD_WORDS = (
    ("unknown team", "team"),
    ("has no metric", "metric"),
    ("is archived", "metric"),
    ("finite number", "value"),
    ("same metric and date", "date"),
    ("is stored for", "value"),
)


def api_problem(problem: Problem) -> dict[str, Any]:
    """One problem as the API returns it: `{"index": 3, "field": "value", "message": ...}`
    for a row, `{"index": null, "field": "readings", ...}` for the body."""
    index = problem_row(problem)
    if index is None:
        return {"index": None, "field": problem.where, "message": problem.message}
    field, sep, rest = problem.message.partition(": ")
    if sep and field in FIELDS:
        return {"index": index, "field": field, "message": rest}
    for words, name in _FIELD_WORDS:
        if words in problem.message:
            return {"index": index, "field": name, "message": problem.message}
    return {"index": index, "field": None, "message": problem.message}
