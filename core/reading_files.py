"""Reading files: parse CSV/XLSX files of metric readings into checked rows, and write
readings back out in the same columns, safe against spreadsheet formula injection.

File rules (PRODUCT.md "Reading files"):
- columns `team, metric, date, value` and optional `note`, matched case-insensitively after
  trimming spaces; other columns are ignored. The header is the first non-blank row; row
  numbers are the file's own (header = row 1, first data row = row 2), blank rows skipped.
- CSV: UTF-8 with or without BOM (UTF-16 with a BOM is read too, as Excel's "Unicode text"
  writes it), comma, semicolon or tab separated (chosen from the header line).
  XLSX: the first sheet; date cells and number cells are taken as they are.
- dates: ISO `YYYY-MM-DD` (a time part is ignored), `DD.MM.YYYY`, and slashed dates decided
  per file: `MM/DD/YYYY` or `DD/MM/YYYY` when some date in the file reads only one way
  (13/02/2026) and none contradicts it; a slashed date that reads both ways with nothing
  in the file to settle it is a bad row, never a guess.
- values: finite numbers with a decimal point; a decimal comma when the file is not comma
  separated (and in XLSX text cells). Thousands separators are refused with the number
  written without them, never guessed.
- text cells (team, metric, note) are trimmed; a text starting with one or more quotes
  followed by `=`, `+`, `-`, `@`, tab or CR loses its first quote: that quote is the one our
  export adds so a spreadsheet shows the cell as text, so a note "=1+1" is exported as
  "'=1+1" and read back as "=1+1" (and a note "'=x" is exported as "''=x").
- a blank note means "no note given".
- XLSX number cells hold 16 significant digits, so values are compared with `same_value`.
- text cells must be storable (no NUL character, no lone surrogate): such a row is bad.

Limits (README "Reading files"), checked before and while parsing, so a small hostile file
cannot take the server's memory: at most `MAX_FILE_BYTES` per file; at most `MAX_ROWS`
rows (row numbers as a spreadsheet counts them, so the header and blank rows count); only
the first `MAX_COLUMNS` columns are read (later columns are ignored like any unknown
column). XLSX: the unpacked parts together at most `MAX_XLSX_UNPACKED_BYTES`, and no part
that unpacks to more than `MAX_XLSX_RATIO` times its packed size (a zip bomb). Rows are
streamed: an XLSX sheet that declares `A1:XFD1048576` but holds two cells is read as two
cells, never padded to its declaration.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import math
import re
import zipfile
from collections import defaultdict
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import openpyxl
import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.utils.exceptions import InvalidFileException

from core.errors import Problem, ValidationError
from core.validate import unstorable

COLUMNS = ("team", "metric", "date", "value", "note")
REQUIRED_COLUMNS = ("team", "metric", "date", "value")
DELIMITERS = (",", ";", "\t")
MAX_VALUE = 1.0e308  # the bound of the readings table's value CHECK
FILE = "file"  # `where` of a problem that belongs to the whole file, not one row

# A spreadsheet evaluates a cell starting with one of these as a formula (CR and tab too,
# as OWASP's CSV injection advice lists them).
FORMULA_TRIGGERS = "=+-@\t\r"
_NEEDS_QUOTE = re.compile(f"'*[{re.escape(FORMULA_TRIGGERS)}]")  # export adds a quote
_QUOTED = re.compile(f"'+[{re.escape(FORMULA_TRIGGERS)}]")  # import drops one

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_SLASHED_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_GROUPED_DIGITS = re.compile(r"\d[ \u00a0\u202f'_]\d")  # 1 234, 1'234, 1_234
_NOT_FINITE = {"inf", "infinity", "nan"}
_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_DATE_HINT = "use YYYY-MM-DD"
_SHOWN_ROWS = 5

MAX_FILE_BYTES = 50 * 1024 * 1024  # the upload limit (.streamlit/config.toml maxUploadSize)
MAX_ROWS = 200_001  # a header and 200,000 readings
MAX_COLUMNS = 64
MAX_XLSX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_XLSX_RATIO = 100  # real sheets pack 5-20x; a zip bomb packs 1000x and more
_RATIO_FLOOR = 1024 * 1024  # tiny parts pack at odd ratios and cannot hurt anyway


@dataclass(frozen=True, slots=True)
class ReadingRow:
    """One good row of a reading file: team name or key and metric name as written."""

    row: int
    team: str
    metric: str
    date: dt.date
    value: float
    note: str = ""


@dataclass(frozen=True)
class ParsedReadings:
    """The good rows of a file and a problem for every bad row (or the whole file)."""

    rows: list[ReadingRow]
    problems: list[Problem]
    data_rows: int = 0  # non-blank rows under the header, good or bad

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bad_rows(self) -> set[int]:
        return {row for row in map(problem_row, self.problems) if row is not None}


def problem_row(problem: Problem) -> int | None:
    """The row number a problem names, or None for a whole-file problem."""
    if problem.where.startswith("row "):
        try:
            return int(problem.where[4:])
        except ValueError:
            return None
    return None


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Whole-file problems first, then by row number (stable within a row)."""

    def key(problem: Problem) -> tuple[int, int]:
        row = problem_row(problem)
        return (0, 0) if row is None else (1, row)

    return sorted(problems, key=key)


def rows_text(rows: Sequence[int]) -> str:
    """Rows named in a message: "row 3", "rows 3 and 7", "rows 3, 7, 9, 12, 15 and 4 more"."""
    rows = sorted(rows)
    if len(rows) == 1:
        return f"row {rows[0]}"
    if len(rows) <= _SHOWN_ROWS:
        return "rows " + ", ".join(map(str, rows[:-1])) + f" and {rows[-1]}"
    shown = ", ".join(map(str, rows[:_SHOWN_ROWS]))
    return f"rows {shown} and {len(rows) - _SHOWN_ROWS} more"


def is_storable(value: float) -> bool:
    """Finite and inside the range the database's CHECK accepts (models.FINITE)."""
    return -MAX_VALUE <= value <= MAX_VALUE  # False for NaN and the infinities too


def same_value(a: float, b: float) -> bool:
    """Equal as a reading: to the 16 significant digits an XLSX number cell holds, so a
    value exported to a workbook and imported back is the same reading."""
    return a == b or math.isclose(a, b, rel_tol=1e-15, abs_tol=0.0)


def exact_text(value: float) -> str:
    """A reading value as text that reads back as the same float: 3 (not 3.0), 2.5, 1e-07."""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


# ---------------------------------------------------------------------------- parsing


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around bulk work on a file's rows.

    A 100k-row file keeps ~10 objects per row alive, none in a reference cycle, and the
    collector re-scans them over and over as more are allocated: measured at half of the
    parse time and half of the import check. Counting frees everything as usual meanwhile;
    the previous state is restored (the collector is process-wide, so a nested or
    concurrent pause never leaves it off)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_reading_file(data: bytes, filename: str) -> ParsedReadings:
    """Parse a CSV or XLSX reading file. Never raises on bad content: every issue is a
    Problem naming its row ("row N") or the whole file ("file")."""
    with gc_paused():
        return _parse_file(data, filename)


class _TableError(Exception):
    """A problem found while streaming a file's rows: it stops the parse with that problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


Table = Generator[tuple[int, Sequence[Any]], None, None]


def _no_rows() -> Table:
    yield from ()


def _parse_file(data: bytes, filename: str) -> ParsedReadings:
    if not data or not data.strip():
        return ParsedReadings([], [Problem(FILE, "the file is empty")])
    if len(data) > MAX_FILE_BYTES:
        return ParsedReadings([], [Problem(FILE, _too_large(len(data)))])
    name = filename.lower()
    if data.startswith(_XLS_MAGIC) or name.endswith(".xls"):
        return ParsedReadings(
            [], [Problem(FILE, "old Excel .xls files are not read: save it as .xlsx or CSV")]
        )
    if data.startswith(_XLSX_MAGIC) or name.endswith((".xlsx", ".xlsm")):
        table, problem = _xlsx_rows(data)
        decimal_comma = True
    else:
        table, problem, delimiter = _csv_rows(data)
        decimal_comma = delimiter != ","
    if problem is not None:
        return ParsedReadings([], [problem])
    try:
        return _parse_table(_capped(table), decimal_comma=decimal_comma)
    except _TableError as error:
        return ParsedReadings([], [error.problem])
    finally:
        table.close()


def _too_large(size: int) -> str:
    return (
        f"the file is {size / 1024 / 1024:.1f} MB, more than the "
        f"{MAX_FILE_BYTES // 1024 // 1024} MB a reading file may have: split it"
    )


def _capped(table: Table) -> Table:
    """The rows up to MAX_ROWS, each cut to MAX_COLUMNS; a non-blank row past the cap
    refuses the whole file (a partial import would look like a complete one)."""
    for number, record in table:
        if number > MAX_ROWS:
            if _is_blank(record):
                continue
            raise _TableError(
                Problem(
                    FILE,
                    f"the file has more than {MAX_ROWS:,} rows (row {number:,} is not blank): "
                    f"import at most {MAX_ROWS - 1:,} readings per file",
                )
            )
        yield number, record[:MAX_COLUMNS] if len(record) > MAX_COLUMNS else record


def parse_or_raise(data: bytes, filename: str) -> list[ReadingRow]:
    """The good rows of a file, or ValidationError listing every problem."""
    parsed = parse_reading_file(data, filename)
    if parsed.problems:
        raise ValidationError(parsed.problems)
    return parsed.rows


def _decode(data: bytes) -> tuple[str | None, Problem | None]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            return None, Problem(FILE, "the file is not valid UTF-16 text")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return None, Problem(
            FILE,
            f"the file is not UTF-8 text (first bad byte on line {line}): "
            "save it as 'CSV UTF-8' or as .xlsx",
        )


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the header line into the most known column names (then
    into the most fields); a comma when nothing tells."""
    header = next((line for line in io.StringIO(text) if line.strip()), "")
    best, best_score = ",", (0, 1)
    for delimiter in DELIMITERS:
        try:
            fields = next(csv.reader([header], delimiter=delimiter), [])
        except csv.Error:  # e.g. a NUL byte: the full read below reports it by row
            continue
        known = sum(1 for field in fields if _column_name(field) in COLUMNS)
        score = (known, len(fields))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_rows(data: bytes) -> tuple[Table, Problem | None, str]:
    text, problem = _decode(data)
    if text is None:
        return _no_rows(), problem, ","
    delimiter = _sniff_delimiter(text)
    return _csv_records(text, delimiter), None, delimiter


def _csv_records(text: str, delimiter: str) -> Table:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        # Numbered by record, as a spreadsheet opening the file numbers its rows (a quoted
        # line break inside a note does not start a new row).
        for number, record in enumerate(reader, start=1):
            yield number, record
    except csv.Error as error:
        problem = Problem(f"row {number + 1}", f"the CSV cannot be read: {error}")
        raise _TableError(problem) from error


def _xlsx_rows(data: bytes) -> tuple[Table, Problem | None]:
    problem = _zip_problem(data)
    if problem is not None:
        return _no_rows(), problem
    try:
        # data_only: a formula cell gives the value Excel last computed, never the formula.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        return _no_rows(), Problem(FILE, f"the file is not a readable .xlsx workbook ({error})")
    except Exception as error:  # a damaged part openpyxl did not foresee: never raise
        return _no_rows(), Problem(FILE, f"the file is not a readable .xlsx workbook ({error})")
    if not workbook.worksheets:
        workbook.close()
        return _no_rows(), Problem(FILE, "the workbook has no sheet")
    return _xlsx_records(workbook), None


def _zip_problem(data: bytes) -> Problem | None:
    """Refuse a workbook that would unpack to too much, before openpyxl opens it (the zip
    directory's sizes are what the unpacking is held to: zipfile stops at the declared size)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        return Problem(FILE, f"the file is not a readable .xlsx workbook ({error})")
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        return Problem(
            FILE,
            f"the workbook unpacks to {unpacked / 1024 / 1024:,.0f} MB, more than "
            f"{MAX_XLSX_UNPACKED_BYTES // 1024 // 1024} MB: save it as CSV or split it",
        )
    for member in members:
        if member.file_size > _RATIO_FLOOR and member.file_size > MAX_XLSX_RATIO * max(
            member.compress_size, 1
        ):
            return Problem(
                FILE,
                f"the workbook part {member.filename!r} unpacks to "
                f"{member.file_size // max(member.compress_size, 1):,} times its size "
                f"(at most {MAX_XLSX_RATIO}): it is not an ordinary spreadsheet",
            )
    return None


def _xlsx_records(workbook: Any) -> Table:
    """The first sheet's rows, streamed and never wider than MAX_COLUMNS. The sheet's own
    dimension is not trusted: openpyxl pads every row to the declared width and yields
    the declared rows, so explicit bounds replace it."""
    try:
        sheet = workbook.worksheets[0]
        # Read-only sheets yield missing rows as empty ones from row 1, so the position is
        # the row number.
        rows = sheet.iter_rows(
            min_row=1, max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS, values_only=True
        )
        blank: Sequence[Any] | None = None
        for number, values in enumerate(rows, start=1):
            # openpyxl yields one shared tuple for every missing row: skip those at once.
            if values is blank:
                continue
            if all(value is None for value in values):
                blank = values
                continue
            yield number, values
    except _TableError:
        raise
    except GeneratorExit:
        raise
    except Exception as error:  # a damaged sheet: report it, as promised, never raise
        raise _TableError(Problem(FILE, f"the first sheet cannot be read ({error})")) from error
    finally:
        workbook.close()


def _column_name(header: Any) -> str:
    return _text(header).replace("\ufeff", "").strip().lower()


def _text(cell: Any) -> str:
    """A cell as text: numbers without a spurious ".0", dates in ISO."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime) and cell.time() == dt.time():
        return cell.date().isoformat()
    if isinstance(cell, dt.date | dt.datetime):
        return cell.isoformat()
    return str(cell)


def _is_blank(record: Sequence[Any]) -> bool:
    try:
        return not "".join(record).strip()  # a CSV record: all text
    except TypeError:
        pass
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in record)


def _unquote(text: str) -> str:
    """Drop the quote our export puts before a formula-like text (see the module doc)."""
    return text[1:] if _QUOTED.match(text) else text


def _clean_text(cell: Any) -> str:
    text = cell.strip() if isinstance(cell, str) else _text(cell).strip()
    return _unquote(text) if text[:1] == "'" else text


def _header_columns(number: int, record: Sequence[Any]) -> tuple[dict[str, int], list[Problem]]:
    where = f"row {number}"
    positions: dict[str, list[int]] = defaultdict(list)
    for index, cell in enumerate(record):
        name = _column_name(cell)
        if name in COLUMNS:
            positions[name].append(index)
    problems = [
        Problem(
            where,
            f"column '{name}' appears {len(found)} times (columns "
            + ", ".join(str(i + 1) for i in found)
            + "): keep one",
        )
        for name, found in positions.items()
        if len(found) > 1
    ]
    problems += [
        Problem(
            where,
            f"missing column '{name}' (the header needs team, metric, date, value "
            "and optionally note)",
        )
        for name in REQUIRED_COLUMNS
        if name not in positions
    ]
    return {name: found[0] for name, found in positions.items()}, problems


@dataclass
class _Pending:
    """A row whose cells are good except, perhaps, a slashed date still to be ordered."""

    row: int
    team: str
    metric: str
    value: float
    note: str
    date: dt.date | None = None
    slashed: tuple[int, int, int, str] | None = None  # first, second, year, as written


def _parse_table(table: Table, *, decimal_comma: bool) -> ParsedReadings:
    records: Iterator[tuple[int, Sequence[Any]]] = (
        (number, record) for number, record in table if not _is_blank(record)
    )
    header = next(records, None)
    if header is None:
        return ParsedReadings([], [Problem(FILE, "the file is empty")])
    columns, problems = _header_columns(*header)
    if problems:
        return ParsedReadings([], problems)

    team_at, metric_at, date_at, value_at = (columns[name] for name in REQUIRED_COLUMNS)
    note_at = columns.get("note")
    width = max(columns.values()) + 1
    parsed: list[ReadingRow | _Pending] = []
    data_rows = 0
    for number, record in records:
        data_rows += 1
        if len(record) < width:
            record = [*record, *([None] * (width - len(record)))]
        row_problems, result = _parse_record(
            number,
            record[team_at],
            record[metric_at],
            record[date_at],
            record[value_at],
            None if note_at is None else record[note_at],
            decimal_comma,
        )
        if row_problems:
            problems += row_problems
        else:
            parsed.append(result)  # type: ignore[arg-type]
    if data_rows == 0:
        return ParsedReadings([], [Problem(FILE, "the file has a header but no data rows")])

    pending = [p for p in parsed if isinstance(p, _Pending)]
    if pending:
        problems += _order_slashed_dates(pending)
        parsed = [
            ReadingRow(p.row, p.team, p.metric, p.date, p.value, p.note)
            if isinstance(p, _Pending)
            else p
            for p in parsed
            if not isinstance(p, _Pending) or p.date is not None
        ]
    rows: list[ReadingRow] = parsed  # type: ignore[assignment]
    duplicate_problems = _duplicates(rows)
    if duplicate_problems:
        duplicated = {problem_row(problem) for problem in duplicate_problems}
        rows = [row for row in rows if row.row not in duplicated]
        problems += duplicate_problems
    return ParsedReadings(rows, sort_problems(problems), data_rows)


def _parse_record(
    number: int,
    team_cell: Any,
    metric_cell: Any,
    date_cell: Any,
    value_cell: Any,
    note_cell: Any,
    decimal_comma: bool,
) -> tuple[list[Problem], ReadingRow | _Pending | None]:
    """A good row (a _Pending one while its slashed date waits for the file's order), or
    every problem of a bad one."""
    where = f"row {number}"
    problems: list[Problem] = []
    team = _clean_text(team_cell)
    metric = _clean_text(metric_cell)
    note = _clean_text(note_cell)
    if not team:
        problems.append(Problem(where, "missing team"))
    if not metric:
        problems.append(Problem(where, "missing metric"))
    for field, text in (("team", team), ("metric", metric), ("note", note)):
        why = unstorable(text)
        if why:
            problems.append(Problem(where, f"{field} {why}"))

    value, value_problem = parse_value(value_cell, decimal_comma)
    if value_problem:
        problems.append(Problem(where, value_problem))

    date: dt.date | None = None
    slashed = None
    if isinstance(date_cell, dt.datetime):
        date = date_cell.date()
    elif isinstance(date_cell, dt.date):
        date = date_cell
    else:
        date_text = _text(date_cell).strip()
        date = _plain_iso_date(date_text)
        match = _SLASHED_DATE.fullmatch(date_text) if date is None else None
        if match:
            first, second, year = (int(part) for part in match.groups())
            slashed = (first, second, year, date_text)
        elif date is None:
            date, date_problem = _parse_date_text(date_text)
            if date_problem:
                problems.append(Problem(where, date_problem))

    if problems:
        return problems, None
    assert value is not None
    if slashed is not None:
        return [], _Pending(number, team, metric, value, note, None, slashed)
    return [], ReadingRow(number, team, metric, date, value, note)  # type: ignore[arg-type]


def parse_value(cell: Any, decimal_comma: bool = False) -> tuple[float | None, str | None]:
    """A reading value from a cell: (value, None) or (None, why it is refused)."""
    if isinstance(cell, str):
        text = cell.strip()
        if _NUMBER.fullmatch(text):  # the common case, first
            value = float(text)
            if is_storable(value):
                return value, None
            return None, f"value '{text}' is not a finite number (too large)"
    if isinstance(cell, bool):
        return None, f"value '{_text(cell)}' is not a number"
    if isinstance(cell, int | float):
        try:
            value = float(cell)
        except OverflowError:
            value = math.inf
        if not is_storable(value):
            return None, f"value '{cell}' is not a finite number"
        return value, None
    if isinstance(cell, dt.date | dt.datetime):
        return None, f"value '{_text(cell)}' is a date, not a number"
    text = _text(cell).strip()
    if not text:
        return None, "missing value"
    if text.lower().lstrip("+-") in _NOT_FINITE:
        return None, f"value '{text}' is not a finite number"
    if _GROUPED_DIGITS.search(text):
        return None, _thousands(text)
    number = text
    if "," in text:
        if not decimal_comma:
            return None, (
                f"value '{text}' has a comma: in a comma-separated file write decimals with a "
                "point and no thousands separators"
            )
        if text.count(",") > 1 or "." in text:
            return None, _thousands(text)
        number = text.replace(",", ".")
    elif text.count(".") > 1:
        return None, _thousands(text)
    if not _NUMBER.fullmatch(number):
        return None, f"value '{text}' is not a number"
    value = float(number)
    if not is_storable(value):
        return None, f"value '{text}' is not a finite number (too large)"
    return value, None


def _thousands(text: str) -> str:
    """Refuse a thousands separator, suggesting the number without it when it is clear:
    with both '.' and ',' the last is the decimal mark; one mark repeated is a separator."""
    digits = re.sub(r"(?<=\d)[ \u00a0\u202f'_](?=\d)", "", text)
    marks = {char for char in digits if char in ".,"}
    if len(marks) == 2:
        decimal = max(".,", key=digits.rfind)
        separator = "," if decimal == "." else "."
        suggestion = digits.replace(separator, "").replace(decimal, ".")
    elif marks and digits.count(next(iter(marks))) > 1:
        suggestion = digits.replace(".", "").replace(",", "")
    else:
        suggestion = digits.replace(",", ".")
    hint = f": write {suggestion}" if _NUMBER.fullmatch(suggestion) else ""
    return f"value '{text}' has a thousands separator, which is not accepted{hint}"


def _valid_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _plain_iso_date(text: str) -> dt.date | None:
    """The common case, YYYY-MM-DD, parsed in C; None leaves it to the patterns."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None
    return None


def _parse_date_text(text: str) -> tuple[dt.date | None, str | None]:
    if not text:
        return None, "missing date"
    match = _ISO_DATE.fullmatch(text)
    if match:
        year, month, day = (int(part) for part in match.groups())
    else:
        match = _DOTTED_DATE.fullmatch(text)
        if not match:
            return None, f"date '{text}' is not a date ({_DATE_HINT})"
        day, month, year = (int(part) for part in match.groups())
    date = _valid_date(year, month, day)
    if date is None:
        return None, f"date '{text}' does not exist in the calendar"
    return date, None


_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _order_slashed_dates(pending: list[_Pending]) -> list[Problem]:
    """Decide MM/DD/YYYY or DD/MM/YYYY for the whole file, set each slashed date, and name
    every row whose date is impossible or whose order the file cannot settle."""
    problems: list[Problem] = []
    month_first: list[_Pending] = []  # rows that read only as MM/DD
    day_first: list[_Pending] = []  # rows that read only as DD/MM
    ambiguous: list[_Pending] = []
    for p in pending:
        if p.slashed is None:
            continue
        first, second, year, text = p.slashed
        as_mdy = _valid_date(year, first, second)
        as_dmy = _valid_date(year, second, first)
        if as_mdy is None and as_dmy is None:
            problems.append(
                Problem(f"row {p.row}", f"date '{text}' does not exist in the calendar")
            )
        elif as_dmy is None:
            p.date = as_mdy
            month_first.append(p)
        elif as_mdy is None:
            p.date = as_dmy
            day_first.append(p)
        elif first == second:
            p.date = as_mdy
        else:
            ambiguous.append(p)

    if month_first and day_first:
        # Rows that contradict each other: no slashed date of the file can be trusted.
        for own, reads, others, other_reads in (
            (month_first, "MM/DD/YYYY", day_first, "DD/MM/YYYY"),
            (day_first, "DD/MM/YYYY", month_first, "MM/DD/YYYY"),
        ):
            verb = "reads" if len(others) == 1 else "read"
            others_text = rows_text([o.row for o in others])
            for p in own:
                p.date = None
                problems.append(
                    Problem(
                        f"row {p.row}",
                        f"date '{p.slashed[3]}' reads only as {reads}, but {others_text} "  # type: ignore[index]
                        f"{verb} only as {other_reads}: use one order in the file, or "
                        "YYYY-MM-DD",
                    )
                )
        problems += [
            Problem(
                f"row {p.row}",
                f"date '{p.slashed[3]}' could be MM/DD or DD/MM and the file uses both "  # type: ignore[index]
                f"orders ({_DATE_HINT})",
            )
            for p in ambiguous
        ]
        return problems

    for p in ambiguous:
        first, second, year, text = p.slashed  # type: ignore[misc]
        if month_first:
            p.date = dt.date(year, first, second)
        elif day_first:
            p.date = dt.date(year, second, first)
        else:
            problems.append(
                Problem(
                    f"row {p.row}",
                    f"date '{text}' is ambiguous: {_MONTHS[first - 1]} {second} (MM/DD) or "
                    f"{first} {_MONTHS[second - 1]} (DD/MM), and no other date in the file "
                    f"settles the order ({_DATE_HINT})",
                )
            )
    return problems


def _duplicates(rows: list[ReadingRow]) -> list[Problem]:
    """A problem on every row that shares team, metric and date with another row."""
    seen: dict[tuple[str, str, dt.date], list[int]] = defaultdict(list)
    for row in rows:
        seen[(row.team.casefold(), row.metric.casefold(), row.date)].append(row.row)
    problems = []
    for numbers in seen.values():
        if len(numbers) < 2:
            continue
        for number in numbers:
            others = [other for other in numbers if other != number]
            problems.append(
                Problem(
                    f"row {number}",
                    f"same team, metric and date as {rows_text(others)}: keep one reading "
                    "per metric and date",
                )
            )
    return problems


# ---------------------------------------------------------------------------- export


def escape_formula(text: str) -> str:
    """A text a spreadsheet shows as text: a quote before anything formula-like (see the
    module doc; `_unquote` undoes it on import)."""
    return "'" + text if _NEEDS_QUOTE.match(text) else text


def _export_records(df: pd.DataFrame) -> Iterator[tuple[str, str, dt.date, float, str]]:
    missing = [column for column in COLUMNS if column not in df.columns]
    if missing:
        raise ValueError(f"readings frame lacks columns {missing}")
    for team, metric, date, value, note in df[list(COLUMNS)].itertuples(index=False):
        if isinstance(date, pd.Timestamp | dt.datetime):
            date = date.date()
        if isinstance(note, float) and math.isnan(note):
            note = ""
        yield str(team), str(metric), date, float(value), "" if note is None else str(note)


def readings_to_csv(df: pd.DataFrame) -> bytes:
    """Readings as a UTF-8 CSV with a BOM (so Excel reads accents right), in the import's
    columns, ISO dates, formula-like text quoted."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for team, metric, date, value, note in _export_records(df):
        writer.writerow(
            [
                escape_formula(team),
                escape_formula(metric),
                date.isoformat(),
                exact_text(value),
                escape_formula(note),
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def _xlsx_text(sheet: Any, text: str) -> Any:
    # Characters a workbook cannot hold are dropped rather than failing the export.
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if _NEEDS_QUOTE.match(text):
        # Excel's quote prefix shows the cell as text without a quote in its value. A text
        # that already starts with quotes gets one more, and one starting with a tab or CR
        # gets one too (the import trims whitespace before it drops the quote), so the
        # import's one-quote rule gives each back unchanged.
        value = "'" + text if _QUOTED.match(text) or text[0] in "\t\r" else text
    elif text in ERROR_CODES:
        value = text
    else:
        return text
    # A string cell, never a formula ("=...") or an error code ("#N/A") as openpyxl infers.
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def readings_to_xlsx(df: pd.DataFrame) -> bytes:
    """Readings as a one-sheet workbook in the import's columns: real date cells shown as
    YYYY-MM-DD, number cells, formula-like text as quote-prefixed string cells."""
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("readings")
    sheet.append(list(COLUMNS))
    for team, metric, date, value, note in _export_records(df):
        date_cell = WriteOnlyCell(sheet, value=date)
        date_cell.number_format = "yyyy-mm-dd"
        sheet.append(
            [
                _xlsx_text(sheet, team),
                _xlsx_text(sheet, metric),
                date_cell,
                value,
                _xlsx_text(sheet, note),
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
