"""Reading files: every accepted variant gives the same readings, every bad row is named by
its row number, and an export reads back as the same readings without formula injection."""

from __future__ import annotations

import csv
import datetime as dt
import io
import math

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.errors import Problem, ValidationError
from core.reading_files import (
    COLUMNS,
    ParsedReadings,
    ReadingRow,
    parse_or_raise,
    parse_reading_file,
    parse_value,
    readings_to_csv,
    readings_to_xlsx,
)

OCT_5 = dt.date(2026, 10, 5)
GOOD = ReadingRow(2, "Checkout", "Conversion", OCT_5, 2.5, "")


def parse_csv(text: str, filename: str = "readings.csv") -> ParsedReadings:
    return parse_reading_file(text.encode("utf-8"), filename)


def xlsx_bytes(rows: list[list[object]], first_row: int = 1) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for offset, values in enumerate(rows):
        for column, value in enumerate(values, start=1):
            sheet.cell(row=first_row + offset, column=column, value=value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def messages(parsed: ParsedReadings) -> list[str]:
    return [str(problem) for problem in parsed.problems]


# ---------------------------------------------------------------------------- variants


@pytest.mark.parametrize(
    ("data", "row"),
    [
        (b"team,metric,date,value\nCheckout,Conversion,2026-10-05,2.5\n", 2),
        (b"\xef\xbb\xbfteam,metric,date,value\r\nCheckout,Conversion,2026-10-05,2.5\r\n", 2),
        (b"team;metric;date;value\nCheckout;Conversion;2026-10-05;2,5\n", 2),
        (b"team;metric;date;value\nCheckout;Conversion;2026-10-05;2.5\n", 2),
        (b"team\tmetric\tdate\tvalue\nCheckout\tConversion\t2026-10-05\t2,5\n", 2),
        (b"  TEAM , Metric ,DATE,VaLuE\nCheckout , Conversion ,2026-10-05, 2.5 \n", 2),
        (
            b"value,source,date,metric,team,owner\n2.5,warehouse,2026-10-05,Conversion,Checkout,x\n",
            2,
        ),
        (b"\n\nteam,metric,date,value\n\n,,,\nCheckout,Conversion,2026-10-05,2.5\n\n", 6),
        ("team\tmetric\tdate\tvalue\nCheckout\tConversion\t2026-10-05\t2,5\n".encode("utf-16"), 2),
        (b"team,metric,date,value,note\nCheckout,Conversion,2026-10-05,2.5,\n", 2),
    ],
    ids=[
        "comma",
        "bom-crlf",
        "semicolon-decimal-comma",
        "semicolon-decimal-point",
        "tab-decimal-comma",
        "header-case-and-spaces",
        "extra-and-reordered-columns",
        "blank-lines",
        "utf16-tab",
        "empty-note",
    ],
)
def test_file_variants_give_the_same_reading(data: bytes, row: int) -> None:
    parsed = parse_reading_file(data, "readings.csv")

    assert parsed.problems == []
    assert parsed.rows == [ReadingRow(row, "Checkout", "Conversion", OCT_5, 2.5, "")]


def test_note_is_read_and_trimmed() -> None:
    parsed = parse_csv(
        'team,metric,date,value,note\nCheckout,Conversion,2026-10-05,2.5," after v2.3 "\n'
    )

    assert parsed.rows[0].note == "after v2.3"


def test_quoted_note_may_hold_delimiters_and_line_breaks_and_rows_count_records() -> None:
    text = (
        "team,metric,date,value,note\n"
        'Checkout,Conversion,2026-10-05,2.5,"one, two\nthree"\n'
        "Checkout,Conversion,2026-10-06,abc,\n"
    )

    parsed = parse_csv(text)

    assert parsed.rows[0].note == "one, two\nthree"
    assert messages(parsed) == ["row 3: value 'abc' is not a number"]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026-10-05", OCT_5),
        ("2026-10-5", OCT_5),
        ("2026-10-05T00:00:00", OCT_5),
        ("2026-10-05 13:45", OCT_5),
        ("05.10.2026", OCT_5),
        ("5.10.2026", OCT_5),
        ("10/25/2026", dt.date(2026, 10, 25)),  # only MM/DD reads
        ("25/10/2026", dt.date(2026, 10, 25)),  # only DD/MM reads
        ("10/10/2026", dt.date(2026, 10, 10)),  # both orders agree
    ],
)
def test_date_forms(written: str, expected: dt.date) -> None:
    parsed = parse_csv(f"team,metric,date,value\nCheckout,Conversion,{written},1\n")

    assert parsed.problems == []
    assert parsed.rows[0].date == expected


@pytest.mark.parametrize(
    ("dates", "expected", "bad_rows"),
    [
        # One date that reads only one way settles the order for the whole file.
        (["03/04/2026", "03/13/2026"], [dt.date(2026, 3, 4), dt.date(2026, 3, 13)], set()),
        (["03/04/2026", "13/03/2026"], [dt.date(2026, 4, 3), dt.date(2026, 3, 13)], set()),
        # Nothing settles it: the ambiguous row is named, the others are kept.
        (["03/04/2026", "2026-05-01"], [dt.date(2026, 5, 1)], {2}),
        (["03/04/2026", "05/06/2026", "07/07/2026"], [dt.date(2026, 7, 7)], {2, 3}),
        # Contradicting rows: every contested slashed date is named.
        (
            ["03/13/2026", "13/03/2026", "03/04/2026", "2026-05-01"],
            [dt.date(2026, 5, 1)],
            {2, 3, 4},
        ),
        # Impossible in both orders.
        (["02/30/2026", "13/13/2026"], [], {2, 3}),
    ],
)
def test_slashed_dates_are_ordered_per_file(
    dates: list[str], expected: list[dt.date], bad_rows: set[int]
) -> None:
    lines = [f"Checkout,Metric {i},{date},1" for i, date in enumerate(dates)]
    parsed = parse_csv("team,metric,date,value\n" + "\n".join(lines) + "\n")

    assert [row.date for row in parsed.rows] == expected
    assert parsed.bad_rows == bad_rows


def test_ambiguous_date_message_names_both_readings() -> None:
    parsed = parse_csv("team,metric,date,value\nCheckout,Conversion,03/04/2026,1\n")

    assert messages(parsed) == [
        "row 2: date '03/04/2026' is ambiguous: March 4 (MM/DD) or 3 April (DD/MM), and no "
        "other date in the file settles the order (use YYYY-MM-DD)"
    ]


def test_contradicting_date_orders_name_the_other_rows() -> None:
    parsed = parse_csv("team,metric,date,value\nCheckout,A,03/13/2026,1\nCheckout,B,13/03/2026,1\n")

    assert messages(parsed) == [
        "row 2: date '03/13/2026' reads only as MM/DD/YYYY, but row 3 reads only as "
        "DD/MM/YYYY: use one order in the file, or YYYY-MM-DD",
        "row 3: date '13/03/2026' reads only as DD/MM/YYYY, but row 2 reads only as "
        "MM/DD/YYYY: use one order in the file, or YYYY-MM-DD",
    ]


@pytest.mark.parametrize(
    ("written", "decimal_comma", "expected"),
    [
        ("2.5", False, 2.5),
        ("2,5", True, 2.5),
        ("-0.5", False, -0.5),
        ("+3", False, 3.0),
        (".5", False, 0.5),
        ("1e3", False, 1000.0),
        ("1.5E-2", False, 0.015),
        (" 42 ", False, 42.0),
        (7, False, 7.0),
        (2.25, False, 2.25),
    ],
)
def test_values_accepted(written: object, decimal_comma: bool, expected: float) -> None:
    assert parse_value(written, decimal_comma) == (expected, None)


@pytest.mark.parametrize(
    ("written", "decimal_comma", "message"),
    [
        ("abc", False, "value 'abc' is not a number"),
        ("12%", False, "value '12%' is not a number"),
        ("", False, "missing value"),
        (None, False, "missing value"),
        ("inf", False, "value 'inf' is not a finite number"),
        ("-Infinity", False, "value '-Infinity' is not a finite number"),
        ("NaN", True, "value 'NaN' is not a finite number"),
        ("1e400", False, "value '1e400' is not a finite number (too large)"),
        ("-1.5e308", False, "value '-1.5e308' is not a finite number (too large)"),
        (float("nan"), False, "value 'nan' is not a finite number"),
        (True, False, "value 'TRUE' is not a number"),
        (dt.datetime(2026, 10, 5), False, "value '2026-10-05' is a date, not a number"),
        (
            "2,5",
            False,
            "value '2,5' has a comma: in a comma-separated file write decimals with a point "
            "and no thousands separators",
        ),
        (
            "1.234,5",
            True,
            "value '1.234,5' has a thousands separator, which is not accepted: write 1234.5",
        ),
        (
            "1,234.5",
            True,
            "value '1,234.5' has a thousands separator, which is not accepted: write 1234.5",
        ),
        (
            "1.234.567",
            False,
            "value '1.234.567' has a thousands separator, which is not accepted: write 1234567",
        ),
        (
            "1 234",
            False,
            "value '1 234' has a thousands separator, which is not accepted: write 1234",
        ),
        (
            "1 234,5",
            True,
            "value '1 234,5' has a thousands separator, which is not accepted: write 1234.5",
        ),
        (
            "1_000",
            False,
            "value '1_000' has a thousands separator, which is not accepted: write 1000",
        ),
    ],
)
def test_values_refused(written: object, decimal_comma: bool, message: str) -> None:
    assert parse_value(written, decimal_comma) == (None, message)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("Checkout,Conversion,2026-10-06,abc", "value 'abc' is not a number"),
        ("Checkout,Conversion,2026-10-06,inf", "value 'inf' is not a finite number"),
        ("Checkout,Conversion,2026-10-06,nan", "value 'nan' is not a finite number"),
        ("Checkout,Conversion,2026-10-06,", "missing value"),
        ("Checkout,Conversion,2026-02-30,1", "date '2026-02-30' does not exist in the calendar"),
        ("Checkout,Conversion,31.04.2026,1", "date '31.04.2026' does not exist in the calendar"),
        ("Checkout,Conversion,yesterday,1", "date 'yesterday' is not a date (use YYYY-MM-DD)"),
        ("Checkout,Conversion,26-10-05,1", "date '26-10-05' is not a date (use YYYY-MM-DD)"),
        ("Checkout,Conversion,,1", "missing date"),
        (",Conversion,2026-10-06,1", "missing team"),
        ("Checkout,,2026-10-06,1", "missing metric"),
        ("Checkout,Conversion", "missing value"),
    ],
)
def test_bad_row_is_named_by_row_number_and_good_rows_kept(line: str, message: str) -> None:
    text = f"team,metric,date,value\nCheckout,Conversion,2026-10-05,2.5\n{line}\n"

    parsed = parse_csv(text)

    assert parsed.rows == [GOOD]
    assert str(parsed.problems[0]) == f"row 3: {message}"
    assert parsed.bad_rows == {3}


def test_every_problem_of_a_row_is_listed() -> None:
    parsed = parse_csv("team,metric,date,value\n,Conversion,2026-02-30,abc\n")

    assert messages(parsed) == [
        "row 2: missing team",
        "row 2: value 'abc' is not a number",
        "row 2: date '2026-02-30' does not exist in the calendar",
    ]


@pytest.mark.parametrize("column", ["team", "metric", "date", "value"])
def test_missing_column_is_one_problem_naming_it(column: str) -> None:
    header = ",".join(
        name for name in ("team", "metric", "date", "value", "note") if name != column
    )

    parsed = parse_csv(f"{header}\nCheckout,Conversion,2026-10-05,2.5\n")

    assert parsed.rows == []
    assert parsed.problems == [
        Problem(
            "row 1",
            f"missing column '{column}' (the header needs team, metric, date, value and "
            "optionally note)",
        )
    ]


def test_repeated_column_is_refused() -> None:
    parsed = parse_csv("team,metric,date,value,Value\nCheckout,Conversion,2026-10-05,1,2\n")

    assert messages(parsed) == ["row 1: column 'value' appears 2 times (columns 4, 5): keep one"]


def test_duplicate_team_metric_date_names_both_rows() -> None:
    text = (
        "team,metric,date,value\n"
        "Checkout,Conversion,2026-10-05,1\n"
        "Checkout,Latency,2026-10-05,1\n"
        "checkout,CONVERSION,05.10.2026,2\n"
    )

    parsed = parse_csv(text)

    assert [row.row for row in parsed.rows] == [3]
    assert messages(parsed) == [
        "row 2: same team, metric and date as row 4: keep one reading per metric and date",
        "row 4: same team, metric and date as row 2: keep one reading per metric and date",
    ]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "readings.csv", "file: the file is empty"),
        (b"\xef\xbb\xbf\r\n\r\n", "readings.csv", "file: the file is empty"),
        (b";;;\n\n", "readings.csv", "file: the file is empty"),
        (
            b"team,metric,date,value\n\n",
            "readings.csv",
            "file: the file has a header but no data rows",
        ),
        (
            b"team,metric,date,value\nK\xf6ln,m,2026-10-05,1\n",
            "readings.csv",
            "file: the file is not UTF-8 text (first bad byte on line 2): save it as 'CSV "
            "UTF-8' or as .xlsx",
        ),
        (
            b"\xd0\xcf\x11\xe0rest",
            "readings.xls",
            "file: old Excel .xls files are not read: save it as .xlsx or CSV",
        ),
    ],
)
def test_whole_file_problems(data: bytes, filename: str, message: str) -> None:
    parsed = parse_reading_file(data, filename)

    assert parsed.rows == []
    assert messages(parsed) == [message]


def test_damaged_workbook_is_a_problem_not_an_exception() -> None:
    parsed = parse_reading_file(b"PK\x03\x04 not really a zip", "readings.xlsx")

    assert parsed.rows == []
    assert parsed.problems[0].where == "file"
    assert parsed.problems[0].message.startswith("the file is not a readable .xlsx workbook")


def test_parse_or_raise_lists_every_problem() -> None:
    text = "team,metric,date,value\nCheckout,Conversion,2026-10-05,x\nCheckout,Conversion,2026-13-01,1\n"

    with pytest.raises(ValidationError) as raised:
        parse_or_raise(text.encode(), "readings.csv")

    assert raised.value.fields() == {"row 2", "row 3"}


def test_parse_or_raise_returns_good_rows() -> None:
    rows = parse_or_raise(b"team,metric,date,value\nCheckout,Conversion,2026-10-05,2.5\n", "r.csv")

    assert rows == [GOOD]


# ---------------------------------------------------------------------------- XLSX


def test_xlsx_with_date_cells_and_number_cells() -> None:
    data = xlsx_bytes(
        [
            ["Team", "METRIC", "Date", "Value", "Note", "Comment"],
            ["Checkout", "Conversion", dt.datetime(2026, 10, 5), 2.5, None, "ignored"],
            ["Checkout", "Latency", dt.date(2026, 10, 5), 120, "after v2.3", None],
        ]
    )

    parsed = parse_reading_file(data, "readings.xlsx")

    assert parsed.problems == []
    assert parsed.rows == [
        GOOD,
        ReadingRow(3, "Checkout", "Latency", OCT_5, 120.0, "after v2.3"),
    ]


def test_xlsx_with_text_numbers_and_text_dates() -> None:
    data = xlsx_bytes(
        [
            ["team", "metric", "date", "value"],
            ["Checkout", "Conversion", "2026-10-05", "2,5"],
            ["Checkout", "Latency", "05.10.2026", " 120 "],
            ["Checkout", "Errors", "10/25/2026", "abc"],
        ]
    )

    parsed = parse_reading_file(data, "readings.xlsx")

    assert [(row.metric, row.value) for row in parsed.rows] == [
        ("Conversion", 2.5),
        ("Latency", 120.0),
    ]
    assert messages(parsed) == ["row 4: value 'abc' is not a number"]


def test_xlsx_rows_are_numbered_as_the_sheet_numbers_them() -> None:
    data = xlsx_bytes(
        [
            ["team", "metric", "date", "value"],
            ["Checkout", "Conversion", dt.datetime(2026, 10, 5), 2.5],
            [None, None, None, None],
            ["Checkout", "Conversion", dt.datetime(2026, 10, 6), "x"],
        ],
        first_row=3,
    )

    parsed = parse_reading_file(data, "readings.xlsx")

    assert [row.row for row in parsed.rows] == [4]
    assert messages(parsed) == ["row 6: value 'x' is not a number"]


@pytest.mark.parametrize(
    ("date", "value", "message"),
    [
        (dt.datetime(2026, 10, 5), True, "value 'TRUE' is not a number"),
        # A formula is never evaluated: only the value Excel saved with it counts.
        (dt.datetime(2026, 10, 5), "=A1*2", "missing value"),
        (46300, 1.0, "date '46300' is not a date (use YYYY-MM-DD)"),
        ("2026-02-30", 1.0, "date '2026-02-30' does not exist in the calendar"),
    ],
)
def test_xlsx_bad_cells(date: object, value: object, message: str) -> None:
    data = xlsx_bytes(
        [["team", "metric", "date", "value"], ["Checkout", "Conversion", date, value]]
    )

    parsed = parse_reading_file(data, "readings.xlsx")

    assert messages(parsed) == [f"row 2: {message}"]


# ---------------------------------------------------------------------------- export


def readings_frame(rows: list[tuple[str, str, dt.date, float, str]]) -> pd.DataFrame:
    return pd.DataFrame.from_records(rows, columns=list(COLUMNS))


FORMULA_NOTES = [
    "=1+1",
    "+31 20 555",
    "-5 after outage",
    "@SUM(A1)",
    "\tlead tab",
    "'=quoted",
    "''=two",
]


def test_csv_export_has_the_import_columns_and_iso_dates() -> None:
    frame = readings_frame(
        [("Checkout", "Conversion", OCT_5, 2.5, ""), ("Checkout", "Users", OCT_5, 1200.0, "n")]
    )

    data = readings_to_csv(frame)

    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").splitlines() == [
        "team,metric,date,value,note",
        "Checkout,Conversion,2026-10-05,2.5,",
        "Checkout,Users,2026-10-05,1200,n",
    ]


@pytest.mark.parametrize("note", FORMULA_NOTES)
def test_csv_export_never_starts_a_cell_with_a_formula(note: str) -> None:
    frame = readings_frame([("=cmd|'/c calc'!A0", "@metric", OCT_5, -2.5, note)])

    data = readings_to_csv(frame)

    cells = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))[1]
    assert cells[0] == "'=cmd|'/c calc'!A0"
    assert cells[1] == "'@metric"
    assert cells[3] == "-2.5"  # numbers stay numbers
    assert cells[4] == "'" + note
    assert not any(cell.startswith(tuple("=+-@\t\r")) for cell in (cells[0], cells[1], cells[4]))


@pytest.mark.parametrize("note", FORMULA_NOTES)
def test_xlsx_export_writes_formula_like_text_as_quote_prefixed_string_cells(note: str) -> None:
    frame = readings_frame([("Checkout", "Conversion", OCT_5, 2.5, note)])

    workbook = openpyxl.load_workbook(io.BytesIO(readings_to_xlsx(frame)))
    cell = workbook.active["E2"]

    assert cell.data_type == "s"
    assert cell.quotePrefix
    assert workbook.active["C2"].number_format == "yyyy-mm-dd"
    assert workbook.active["C2"].value == dt.datetime(2026, 10, 5)


@pytest.mark.parametrize(
    "to_bytes,filename", [(readings_to_csv, "r.csv"), (readings_to_xlsx, "r.xlsx")]
)
@pytest.mark.parametrize("note", [*FORMULA_NOTES, "#N/A", "plain", ""])
def test_formula_like_note_round_trips(to_bytes, filename: str, note: str) -> None:  # type: ignore[no-untyped-def]
    frame = readings_frame([("Checkout", "Conversion", OCT_5, 2.5, note)])

    parsed = parse_reading_file(to_bytes(frame), filename)

    assert parsed.problems == []
    assert parsed.rows[0].note == note


# ---------------------------------------------------------------------------- properties

names = (
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
    .map(str.strip)
    .filter(bool)
)
notes = st.one_of(
    st.just(""),
    st.sampled_from(FORMULA_NOTES),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20).map(
        str.strip
    ),
)
values = st.floats(-1e308, 1e308)  # what the readings table stores


@st.composite
def reading_frames(draw: st.DrawFn) -> list[tuple[str, str, dt.date, float, str]]:
    teams = draw(st.lists(names, min_size=1, max_size=3, unique_by=str.casefold))
    count = draw(st.integers(1, 15))
    start = draw(st.dates(dt.date(1950, 1, 1), dt.date(2090, 1, 1)))
    return [
        (
            draw(st.sampled_from(teams)),
            draw(names),
            start + dt.timedelta(days=i),
            draw(values),
            draw(notes),
        )
        for i in range(count)
    ]


@settings(max_examples=60, deadline=None)
@given(rows=reading_frames(), xlsx=st.booleans())
def test_export_then_import_gives_the_same_readings(
    rows: list[tuple[str, str, dt.date, float, str]], xlsx: bool
) -> None:
    frame = readings_frame(rows)
    data = readings_to_xlsx(frame) if xlsx else readings_to_csv(frame)

    parsed = parse_reading_file(data, "r.xlsx" if xlsx else "r.csv")

    # An XLSX number cell holds 16 significant digits (openpyxl's "%.16g").
    expected = [(*row[:3], float(f"{row[3]:.16g}") if xlsx else row[3], row[4]) for row in rows]
    assert parsed.problems == []
    assert [(r.team, r.metric, r.date, r.value, r.note) for r in parsed.rows] == expected


BAD_CELLS = {
    "not a number": ("date", "value", "twelve"),
    "not finite": ("date", "value", "inf"),
    "impossible date": ("date", "2026-02-30", "1"),
    "unknown date form": ("date", "5 Oct 2026", "1"),
    "missing team": ("team", "", "1"),
    "missing value": ("date", "value", ""),
    "duplicate": ("duplicate", "", "1"),
}


@st.composite
def mixed_files(draw: st.DrawFn) -> tuple[str, str, set[int], list[tuple[str, dt.date, float]]]:
    """A file of good rows and bad rows of every kind; returns the text, its delimiter,
    the bad row numbers and the good readings (metric, date, value)."""
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    kinds = draw(st.lists(st.sampled_from(["good", *BAD_CELLS]), min_size=1, max_size=25))
    lines = [delimiter.join(["Team", "metric", "Date", "VALUE", "note"])]
    bad: set[int] = set()
    good: list[tuple[str, dt.date, float]] = []
    for index, kind in enumerate(kinds):
        row = index + 2
        metric = f"Metric {index}"
        date = dt.date(2026, 1, 1) + dt.timedelta(days=index)
        value = draw(st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 3)))
        text_value = repr(value).replace(".", ",") if delimiter != "," else repr(value)
        cells = ["Checkout", metric, date.isoformat(), text_value, "n"]
        if kind == "good":
            good.append((metric, date, value))
        elif kind == "duplicate":
            if not good:  # nothing to duplicate yet: make it a bad value instead
                cells[3] = "x"
            else:
                metric, date, _ = good.pop()
                cells[1], cells[2] = metric, date.isoformat()
                bad.add(
                    next(
                        i for i, line in enumerate(lines, start=1) if f"{metric}{delimiter}" in line
                    )
                )
            bad.add(row)
        else:
            field, bad_date, bad_value = BAD_CELLS[kind]
            if field == "team":
                cells[0] = ""
            else:
                cells[2] = date.isoformat() if bad_date == "date" else bad_date
                cells[3] = text_value if bad_value == "value" else bad_value
            bad.add(row)
        lines.append(delimiter.join(cells))
    return "\n".join(lines) + "\n", delimiter, bad, good


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed_files())
def test_every_bad_row_is_named_and_every_good_row_kept(
    case: tuple[str, str, set[int], list[tuple[str, dt.date, float]]],
) -> None:
    text, _, bad, good = case

    parsed = parse_csv(text)

    assert parsed.bad_rows == bad
    assert all(problem.where.startswith("row ") for problem in parsed.problems)
    assert [(r.metric, r.date, r.value) for r in parsed.rows] == good


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300), xlsx=st.booleans())
@example(data=b"\r\x00", xlsx=False)  # a NUL after a line break broke the delimiter sniffing
def test_parser_never_raises_on_arbitrary_bytes(data: bytes, xlsx: bool) -> None:
    parsed = parse_reading_file(data, "r.xlsx" if xlsx else "r.csv")

    assert all(math.isfinite(row.value) for row in parsed.rows)


@settings(max_examples=100, deadline=None)
@given(
    cells=st.lists(
        st.lists(
            st.text(
                st.sampled_from("team,metric;date\tvalue 2026-10-05 1.5 /.\"'=\n"), max_size=12
            ),
            max_size=6,
        ),
        max_size=6,
    )
)
def test_parser_never_raises_on_arbitrary_text(cells: list[list[str]]) -> None:
    text = "team,metric,date,value\n" + "\n".join(",".join(row) for row in cells)

    parsed = parse_csv(text)

    assert parsed.rows or parsed.problems
