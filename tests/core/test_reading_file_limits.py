"""Issue 15: hostile reading files (a declared dimension, a zip bomb, too many rows,
unstorable text) are refused or read within a memory bound, never taking the server down."""

from __future__ import annotations

import io
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest

import core.reading_files as reading_files
from core.reading_files import parse_reading_file
from tests.core import hostile_xlsx

ROOT = Path(__file__).resolve().parents[2]


def messages(data: bytes, filename: str = "readings.csv") -> list[str]:
    return [str(problem) for problem in parse_reading_file(data, filename).problems]


def test_declared_dimension_is_not_padded_to_its_width() -> None:
    # Setup: 2 real cells, a declaration of 300 rows x 16,384 columns (5M cells padded).
    data = hostile_xlsx.declared_dimension_file(last_row=300)
    # Exercise
    tracemalloc.start()
    try:
        parsed = parse_reading_file(data, "hostile.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Verify: read as its two cells, well under the 40 MB the padding took.
    assert peak < 5 * 1024 * 1024, f"peak {peak:,} B"
    assert parsed.problems[0].message.startswith("missing column")


def test_whole_sheet_declaration_parses_in_a_memory_limited_process() -> None:
    # The 1.6 KB file of issue 15 (A1:XFD1048576), parsed under a 1.5 GB address space.
    code = (
        "import resource, sys, tracemalloc\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024**2, 1536 * 1024**2))\n"
        "from tests.core import hostile_xlsx\n"
        "from core.reading_files import parse_reading_file\n"
        "data = hostile_xlsx.declared_dimension_file()\n"
        "assert len(data) < 2000, len(data)\n"
        "tracemalloc.start()\n"
        "parsed = parse_reading_file(data, 'hostile.xlsx')\n"
        "peak = tracemalloc.get_traced_memory()[1]\n"
        "print(peak, parsed.problems[0])\n"
        "assert peak < 8 * 1024**2, peak\n"
        "assert 'missing column' in parsed.problems[0].message, parsed.problems\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_random_xlsx_declarations_stay_within_a_memory_bound() -> None:
    # Property: any dimension and any few cells (up to XFD1048576) parse under
    # hostile_xlsx.PEAK_LIMIT (tracemalloc), in a subprocess limited to 2 GB.
    result = subprocess.run(
        [sys.executable, "-m", "tests.core.hostile_xlsx", "25", str(2 * 1024**3)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "worst peak" in result.stdout


def test_xlsx_zip_bomb_is_refused_before_parsing() -> None:
    sheet = hostile_xlsx.sheet_xml("A1:D1", {(1, 1): "team"})
    padding = b" " * (8 * 1024 * 1024)  # packs about 1000x
    data = hostile_xlsx.xlsx(sheet, extra={"xl/padding.xml": padding})
    found = messages(data, "bomb.xlsx")
    assert len(found) == 1
    assert "unpacks to" in found[0] and "times its size" in found[0]


def test_xlsx_unpacking_to_too_much_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading_files, "MAX_XLSX_UNPACKED_BYTES", 1000)
    data = hostile_xlsx.xlsx(hostile_xlsx.sheet_xml("A1:A1", {(1, 1): "team"}))
    assert "the workbook unpacks to" in messages(data, "big.xlsx")[0]


def test_file_over_the_size_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading_files, "MAX_FILE_BYTES", 100)
    data = ("team,metric,date,value\n" + "A,m,2026-01-01,1\n" * 10).encode()
    assert messages(data)[0].startswith("file: the file is")
    assert "split it" in messages(data)[0]


def test_rows_past_the_cap_refuse_the_whole_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading_files, "MAX_ROWS", 4)
    lines = [f"A,m,2026-01-{day:02},1" for day in range(1, 6)]
    data = ("team,metric,date,value\n" + "\n".join(lines)).encode()
    parsed = parse_reading_file(data, "readings.csv")
    assert parsed.rows == []
    assert "more than 4 rows" in str(parsed.problems[0])


def test_blank_rows_past_the_cap_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading_files, "MAX_ROWS", 3)
    data = b"team,metric,date,value\nA,m,2026-01-01,1\n,,,\n,,,\n,,,\n"
    assert parse_reading_file(data, "readings.csv").ok


def test_columns_past_the_cap_are_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading_files, "MAX_COLUMNS", 5)
    data = b"team,metric,date,value,x,note\nA,m,2026-01-01,1,y,hello\n"
    parsed = parse_reading_file(data, "readings.csv")
    assert parsed.ok
    assert parsed.rows[0].note == ""  # the note is column 6: past the cap


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("A,m,2026-01-01,1,bad\x00note", "row 2: note must not contain NUL characters"),
        ("A\x00,m,2026-01-01,1,", "row 2: team must not contain NUL characters"),
        ("A,m\x00,2026-01-01,1,", "row 2: metric must not contain NUL characters"),
    ],
)
def test_unstorable_text_is_a_bad_row(line: str, message: str) -> None:
    data = ("team,metric,date,value,note\n" + line + "\n").encode()
    assert messages(data) == [message]


def test_damaged_zip_directory_is_a_file_problem() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("x", "y")
    data = out.getvalue()[:-10]
    assert messages(data, "broken.xlsx")[0].startswith("file: the file is not a readable .xlsx")
