"""The one formatter for each kind of value people read: a metric value, a signed effect,
a percent, a day. The pages, the reasons the rules give and the report all use these,
so a value reads the same everywhere. "—" stands for a value that is not known; "–"
joins the ends of a range ("2 Nov – 4 Dec", "2.0–2.5%")."""

from __future__ import annotations

import datetime as dt
import math

NO_VALUE = "—"


def _known(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def format_value(value: float | None, unit: str = "", decimals: int = 1) -> str:
    """A metric value with the metric's unit and decimals: "2.4%", "1,250 users", "3.2 s";
    "—" when unknown."""
    if value is None or not _known(value):
        return NO_VALUE
    text = f"{value:,.{max(decimals, 0)}f}"
    if not unit:
        return text
    # A percent sign sits on the number; other units are words after a space.
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}"


def format_signed(value: float | None, unit: str = "", decimals: int = 1) -> str:
    """An effect with its sign always shown: "+0.4", "-1.2 s"; "—" when unknown."""
    if value is None or not _known(value):
        return NO_VALUE
    return ("+" if value >= 0 else "-") + format_value(abs(value), unit, decimals)


def format_percent(fraction: float | None, decimals: int = 0) -> str:
    """A fraction (progress, a share of time) as a percent: 0.456 -> "46%"; "—" when
    unknown."""
    if fraction is None or not _known(fraction):
        return NO_VALUE
    return f"{fraction * 100:.{decimals}f}%"


def day_text(day: dt.date | None, *, year: bool = True) -> str:
    """ "2 Nov 2026" (or "2 Nov"); "—" when unknown."""
    if day is None:
        return NO_VALUE
    return f"{day.day} {day:%b %Y}" if year else f"{day.day} {day:%b}"


def short_day_text(day: dt.date, reference: dt.date | None = None) -> str:
    """ "2 Mar", with the year when it differs from the reference date's year."""
    return day_text(day, year=reference is not None and day.year != reference.year)
