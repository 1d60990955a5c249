"""Hostile XLSX files built by hand (a declared dimension, cells at chosen positions, a zip
bomb), and a fuzz run of the reading-file parser over random declarations that measures
its memory with tracemalloc. Run as a module in a subprocess under an address-space limit
(tests/core/test_reading_file_limits.py), so a parser that pads to the declaration fails
with a number instead of taking the test machine down."""

from __future__ import annotations

import io
import sys
import tracemalloc
import zipfile

from openpyxl.utils import get_column_letter

MAX_COLUMN = 16_384  # XFD
MAX_ROW = 1_048_576
PEAK_LIMIT = 64 * 1024 * 1024  # what a parse of a few cells may use, with a wide margin

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="readings" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def cell_ref(row: int, column: int) -> str:
    return f"{get_column_letter(column)}{row}"


def sheet_xml(dimension: str | None, cells: dict[tuple[int, int], str]) -> str:
    """A worksheet with inline-string cells at (row, column) and the given dimension."""
    rows: dict[int, list[tuple[int, str]]] = {}
    for (row, column), text in sorted(cells.items()):
        rows.setdefault(row, []).append((column, text))
    body = "".join(
        f'<row r="{row}">'
        + "".join(
            f'<c r="{cell_ref(row, column)}" t="inlineStr"><is><t>{text}</t></is></c>'
            for column, text in row_cells
        )
        + "</row>"
        for row, row_cells in rows.items()
    )
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{dim}<sheetData>{body}</sheetData></worksheet>"
    )


def xlsx(sheet: str, extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def declared_dimension_file(last_row: int = MAX_ROW, last_column: int = MAX_COLUMN) -> bytes:
    """The attack of issue 15: a declaration of the whole sheet holding two cells, the
    first and the last (openpyxl pads every row in between to the declared width)."""
    cells = {(1, 1): "team", (last_row, last_column): "x"}
    return xlsx(sheet_xml(f"A1:{cell_ref(last_row, last_column)}", cells))


def fuzz(max_examples: int) -> int:
    """Parse random declarations; print and return the largest tracemalloc peak."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from core.reading_files import parse_reading_file

    rows = st.integers(1, MAX_ROW)
    columns = st.integers(1, MAX_COLUMN)
    header = {(1, 1): "team", (1, 2): "metric", (1, 3): "date", (1, 4): "value"}
    worst = [0]

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        first=st.tuples(rows, columns),
        last=st.tuples(rows, columns),
        cells=st.dictionaries(
            st.tuples(rows, columns), st.sampled_from(["x", "1", ""]), max_size=6
        ),
        with_header=st.booleans(),
    )
    def one(
        first: tuple[int, int],
        last: tuple[int, int],
        cells: dict[tuple[int, int], str],
        with_header: bool,
    ) -> None:
        dimension = f"{cell_ref(*first)}:{cell_ref(*last)}"
        data = xlsx(sheet_xml(dimension, {**(header if with_header else {}), **cells}))
        tracemalloc.reset_peak()
        parse_reading_file(data, "readings.xlsx")
        _, peak = tracemalloc.get_traced_memory()
        worst[0] = max(worst[0], peak)
        assert peak < PEAK_LIMIT, f"{dimension} with {len(cells)} cells peaked at {peak:,} B"

    tracemalloc.start()
    one()
    print(f"worst peak {worst[0]:,} bytes over {max_examples} declarations")
    return worst[0]


if __name__ == "__main__":
    import resource

    # A safety net under tracemalloc: a padding parser dies with MemoryError here.
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 3 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    fuzz(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
