"""The pure rules of metric sources: specs, point checks, parsing each kind's answer,
and redaction of secrets."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import ValidationError
from core.sources import (
    RawPoint,
    SourceError,
    SourceSpec,
    check_points,
    parse_spec,
    points_from_csv,
    points_from_json,
    points_from_prometheus,
    points_from_rows,
    redact,
    redact_url,
)

TODAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"kind": "sql", "connection": "warehouse", "query": " SELECT 1 AS value "},
         SourceSpec("sql", connection="warehouse", query="SELECT 1 AS value")),
        ({"kind": "prometheus", "connection": "prom", "query": "up"},
         SourceSpec("prometheus", connection="prom", query="up")),
        ({"kind": "http_json", "url": "https://x.example/kpi"},
         SourceSpec("http_json", url="https://x.example/kpi", points="@", date="date", value="value")),
        ({"kind": "csv_url", "connection": "sheet"}, SourceSpec("csv_url", connection="sheet")),
    ],
)  # fmt: skip
def test_good_specs(document: dict[str, str], expected: SourceSpec) -> None:
    assert parse_spec(document) == expected
    assert parse_spec(expected.to_json()) == expected


@pytest.mark.parametrize(
    ("document", "where"),
    [
        (None, "source_spec"),
        ({"kind": "sql", "query": "SELECT 1"}, "source_spec.connection"),
        ({"kind": "prometheus", "connection": "p"}, "source_spec.query"),
        ({"kind": "http_json"}, "source_spec.url"),
        ({"kind": "http_json", "url": "ftp://x/y"}, "source_spec.url"),
        ({"kind": "http_json", "url": "https://x/y", "points": "data[["}, "source_spec.points"),
        ({"kind": "csv_url", "url": "https://a:b@x/y"}, "source_spec.url"),
        ({"kind": "sql", "connection": "a b", "query": "x"}, "source_spec.connection"),
        ({"kind": "sql", "connection": "w", "query": "x", "token": "t"}, "source_spec.token"),
        ({"kind": "sql", "connection": "w", "query": 3}, "source_spec.query"),
    ],
)
def test_bad_specs_name_the_field(document: object, where: str) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_spec(document)  # type: ignore[arg-type]
    assert where in raised.value.fields()


def test_check_points_names_each_bad_point() -> None:
    raw = [
        RawPoint("row 1", "2026-11-01", 1),
        RawPoint("row 2", "2026-11-02", "n/a"),
        RawPoint("row 3", "2027-01-01", 2),
        RawPoint("row 4", "2026-11-04", 3),
        RawPoint("row 5", "2026-11-04", 4),
        RawPoint("row 6", "yesterday", 5),
        RawPoint("row 7", "2026-11-07", None),
    ]
    checked = check_points(raw, today=TODAY)
    assert [p.where for p in checked.points] == ["row 1"]
    assert [str(p) for p in checked.problems] == [
        "row 2: value 'n/a' is not a number",
        "row 3: date 2027-01-01 is in the future (today is 2026-12-01)",
        "row 6: date 'yesterday' is not a date (use YYYY-MM-DD)",
        "row 7: missing value",
        "row 4: date 2026-11-04 appears again in row 5: one value per date",
        "row 5: date 2026-11-04 appears again in row 4: one value per date",
    ]


def test_check_points_leaves_out_points_before_since() -> None:
    raw = [
        RawPoint("row 1", dt.date(2026, 10, 1), 1.0),
        RawPoint("row 2", "2026-11-01T12:00:00Z", 2),
    ]
    checked = check_points(raw, today=TODAY, since=dt.date(2026, 10, 15))
    assert [(p.date, p.value) for p in checked.points] == [(dt.date(2026, 11, 1), 2.0)]


def test_points_from_json_with_jmespath() -> None:
    spec = parse_spec(
        {
            "kind": "http_json",
            "url": "https://x/y",
            "points": "data.rows[?ok]",
            "date": "d",
            "value": "v.n",
        }
    )
    document = {"data": {"rows": [{"ok": True, "d": "2026-11-01", "v": {"n": 3}}, {"ok": False}]}}
    assert points_from_json(document, spec) == [RawPoint("point 1", "2026-11-01", 3)]
    with pytest.raises(SourceError, match="does not lead to a list"):
        points_from_json({"data": {}}, spec)


def test_points_from_prometheus_take_the_value_at_each_days_end() -> None:
    midnight = dt.datetime(2026, 11, 2, tzinfo=dt.UTC).timestamp()
    payload = {"status": "success", "data": {"resultType": "matrix", "result": [
        {"metric": {}, "values": [[midnight, "7"], [midnight + 86_400, "NaN"]]}]}}  # fmt: skip
    points = points_from_prometheus(payload)
    assert points == [
        RawPoint("2026-11-01", dt.date(2026, 11, 1), "7"),
        RawPoint("2026-11-02", dt.date(2026, 11, 2), "NaN"),
    ]
    assert [str(p) for p in check_points(points, today=TODAY).problems] == [
        "2026-11-02: value 'NaN' is not a finite number"
    ]
    with pytest.raises(SourceError, match="refused the query: parse error"):
        points_from_prometheus({"status": "error", "error": "parse error"})


def test_points_from_rows() -> None:
    assert points_from_rows(["DATE", "Value"], [("2026-11-01", 1)], TODAY) == [
        RawPoint("row 1", "2026-11-01", 1)
    ]
    assert points_from_rows(["value"], [(5,)], TODAY) == [RawPoint("row 1", TODAY, 5)]
    with pytest.raises(SourceError, match="2 rows without a date column"):
        points_from_rows(["value"], [(5,), (6,)], TODAY)
    with pytest.raises(SourceError, match="must return the columns date, value"):
        points_from_rows(["day", "n"], [], TODAY)


def test_points_from_csv_use_the_reading_file_rules() -> None:
    points, problems = points_from_csv(b"\xef\xbb\xbfDate;Value\n01.11.2026;2,5\n\n02.11.2026;x\n")
    assert points == [RawPoint("row 2", dt.date(2026, 11, 1), 2.5)]
    assert [str(p) for p in problems] == ["row 4: value 'x' is not a number"]
    _, missing = points_from_csv(b"day,value\n2026-11-01,1\n")
    assert "missing column 'date'" in str(missing[0])


def test_redaction() -> None:
    url = "postgresql://reader:p%40ss@db.example:5432/wh"
    assert redact_url(url) == "postgresql://reader:***@db.example:5432/wh"
    message = f"could not connect to {url} with password p%40ss, token abc123"
    shown = redact(message, [url, "p%40ss", "abc123"])
    assert "p%40ss" not in shown and "abc123" not in shown
    assert "reader:***@db.example" in shown
    assert redact("see https://u:hidden@x.example/y", []) == "see https://u:***@x.example/y"
