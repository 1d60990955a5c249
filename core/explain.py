"""Words and number formats for the one-sentence reasons beside every health and verdict."""

from __future__ import annotations

import datetime as dt
import math


def fmt_percent(fraction: float) -> str:
    """0.625 -> "62%": progress and time shares as whole percents."""
    return f"{fraction * 100:.0f}%"


def fmt_date(day: dt.date, reference: dt.date | None = None) -> str:
    """ "2 Mar", with the year when it differs from the reference date's year."""
    text = f"{day.day} {day:%b}"
    if reference is not None and day.year != reference.year:
        text += f" {day.year}"
    return text


def fmt_value(value: float, decimals: int = 1, unit: str = "") -> str:
    """A metric value with the metric's decimals and unit ("2.1%", "340 ms")."""
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.{max(decimals, 0)}f}"
    if not unit:
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def fmt_signed(value: float, decimals: int = 1, unit: str = "") -> str:
    """An effect with its sign always shown ("+0.4", "-1.2 s")."""
    sign = "+" if value >= 0 else "-"
    return sign + fmt_value(abs(value), decimals, unit)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
