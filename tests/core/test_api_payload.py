"""The HTTP API's readings body: every bad row by index and field, before any database."""

from __future__ import annotations

import datetime as dt

import pytest

from core.api_payload import api_problem, parse_readings_payload
from core.errors import Problem

GOOD = {"team": "CHK", "metric": "Conversion", "date": "2026-11-02", "value": 2.4}


def test_good_rows_parse_with_their_index_as_row() -> None:
    payload = parse_readings_payload({"readings": [GOOD, {**GOOD, "note": " n "}]})
    assert payload.problems == []
    assert [(r.row, r.date, r.value, r.note) for r in payload.rows] == [
        (0, dt.date(2026, 11, 2), 2.4, ""),
        (1, dt.date(2026, 11, 2), 2.4, "n"),
    ]


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({**GOOD, "team": ""}, "team"),
        ({**GOOD, "metric": 3}, "metric"),
        ({**GOOD, "date": "02.11.2026"}, "date"),
        ({**GOOD, "date": "2026-02-30"}, "date"),
        ({**GOOD, "value": "2.4"}, "value"),
        ({**GOOD, "value": True}, "value"),
        ({**GOOD, "value": 1e309}, "value"),
        ({**GOOD, "note": 5}, "note"),
        ({**GOOD, "team": "C\x00K"}, "team"),
    ],
)
def test_a_bad_field_is_named_with_the_row_index(row: dict, field: str) -> None:
    payload = parse_readings_payload({"readings": [GOOD, row]})
    (problem,) = payload.problems
    assert (api_problem(problem)["index"], api_problem(problem)["field"]) == (1, field)
    assert [r.row for r in payload.rows] == [0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({}, "readings"),
        ({"readings": []}, "readings"),
        ({"readings": [GOOD], "replace": "yes"}, "replace"),
        ({"readings": [GOOD], "extra": 1}, "body"),
    ],
)
def test_a_bad_body_is_named(body: object, field: str) -> None:
    problems = parse_readings_payload(body).problems
    assert field in [api_problem(p)["field"] for p in problems]


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ("unknown team 'X' (no team has this name or key)", "team"),
        ("team 'Checkout' has no metric 'Y'", "metric"),
        ("a different value 2.7 is stored for Conversion on 2026-12-01; use replace", "value"),
    ],
)
def test_the_imports_problems_get_a_field(message: str, field: str) -> None:
    assert api_problem(Problem("row 4", message))["field"] == field
    assert api_problem(Problem("row 4", message))["index"] == 4
