"""The README states the reading-file and URL limits the code enforces (issue 15)."""

from __future__ import annotations

from pathlib import Path

from core import reading_files
from db import sign_in
from ui.present import PRESENT_DEFAULT_INTERVAL, PRESENT_MAX_INTERVAL, PRESENT_MIN_INTERVAL

README = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")


def test_reading_file_limits_are_documented() -> None:
    assert f"at most {reading_files.MAX_FILE_BYTES // 1024 // 1024} MB per file" in README
    assert f"at most {reading_files.MAX_ROWS:,} rows" in README
    assert f"first {reading_files.MAX_COLUMNS} columns" in README
    unpacked = reading_files.MAX_XLSX_UNPACKED_BYTES // 1024 // 1024
    assert f"unpack to at most {unpacked} MB" in README
    assert f"more than {reading_files.MAX_XLSX_RATIO}\ntimes its packed size" in README


def test_interval_bounds_are_documented() -> None:
    low, high = PRESENT_MIN_INTERVAL, PRESENT_MAX_INTERVAL
    assert f"held\nto {low}..{high} (default {PRESENT_DEFAULT_INTERVAL})" in README


def test_sign_in_throttling_is_documented() -> None:
    assert f"{sign_in.PAIR_MAX_FAILURES} failed sign-ins of one name" in README
    assert f"up to {sign_in.PAIR_MAX_LOCK_SECONDS // 60} min" in README
    assert f"{sign_in.CLIENT_MAX_FAILURES} failures from one address" in README
    assert f"above {sign_in.GLOBAL_MAX_FAILURES} failures" in README
