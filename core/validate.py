"""Field validation shared by every write path: each check returns the problems it found,
naming the field, so a form, the command line and an import report the same words."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from urllib.parse import urlparse

from core.errors import Problem, ValidationError

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$")
OUTCOME_KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,29}$")
LARGEST_NUMBER = 1e308  # the FINITE check of the numeric columns (db/models.py)
LARGEST_ID = 2**31 - 1  # id columns are INTEGER: 32 bits on PostgreSQL, which refuses more


def unstorable(value: str) -> str | None:
    """Why a text cannot be stored, or None: PostgreSQL refuses NUL characters, and no
    UTF-8 encoder takes a lone surrogate (a CLI argument with a stray byte, a JSON
    "\\ud800" escape)."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains characters that are not valid text (lone surrogates)"
    return None


def bounded_int(raw: str | None, *, default: int, low: int, high: int) -> int:
    """A whole number from a URL parameter, clamped to low..high; `default` for a blank,
    malformed or not finite one. Never raises: a shared link is anyone's input
    ("inf", "1e400", "nan", "3000000", a 10,000-digit number)."""
    if raw is None or not raw.strip() or len(raw) > 40:
        return default
    try:
        number = float(raw)
    except ValueError:
        return default
    if not math.isfinite(number):  # float("1e400") is inf
        return default if math.isnan(number) else (high if number > 0 else low)
    return min(max(int(number), low), high)


def is_record_id(value: object) -> bool:
    return type(value) is int and 0 < value <= LARGEST_ID


class Checker:
    """Collects problems; `raise_if_any` raises one ValidationError listing them all."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.problems: list[Problem] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(Problem(f"{self.prefix}{where}", message))

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def text(
        self, where: str, value: object, *, required: bool = True, max_length: int = 300
    ) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.add(where, "must be text")
            return ""
        value = value.strip()
        why = unstorable(value)
        if required and not value:
            self.add(where, "is required")
        elif why:
            self.add(where, why)
            return ""  # not even a lookup may send it to the database
        elif len(value) > max_length:
            self.add(where, f"is too long ({len(value)} characters, at most {max_length})")
        return value

    def number(self, where: str, value: object, *, required: bool = True) -> float | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(where, "is required")
            return None
        if isinstance(value, bool):
            self.add(where, "must be a number")
            return None
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            self.add(where, f"“{value}” is not a number"[:200])
            return None
        if not math.isfinite(number) or abs(number) > LARGEST_NUMBER:
            self.add(where, "must be a finite number")
            return None
        return number

    def integer(
        self, where: str, value: object, *, low: int, high: int, required: bool = True
    ) -> int | None:
        number = self.number(where, value, required=required)
        if number is None:
            return None
        if number != int(number):
            self.add(where, "must be a whole number")
            return None
        if not low <= number <= high:
            self.add(where, f"must be between {low} and {high}")
            return None
        return int(number)

    def date(self, where: str, value: object, *, required: bool = True) -> dt.date | None:
        if value is None or value == "":
            if required:
                self.add(where, "is required")
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                self.add(where, f"“{value}” is not a date (use YYYY-MM-DD)")
                return None
        self.add(where, "must be a date")
        return None

    def choice(
        self, where: str, value: object, choices: Iterable[str], *, required: bool = True
    ) -> str | None:
        options = tuple(choices)
        if value is None or value == "":
            if required:
                self.add(where, f"is required (one of {', '.join(options)})")
            return None
        if value not in options:
            self.add(where, f"“{value}” is not one of {', '.join(options)}")
            return None
        return str(value)

    def link(self, where: str, value: object) -> str:
        text = self.text(where, value, required=False, max_length=500)
        if text and not (urlparse(text).scheme in ("http", "https") and "://" in text):
            self.add(where, "must start with http:// or https://")
            return ""
        return text

    def record_id(self, where: str, value: object, *, required: bool = True) -> int | None:
        """The id of a record another one refers to; whether it exists is the caller's
        question (a database lookup)."""
        if value is None:
            if required:
                self.add(where, "is required")
            return None
        if not is_record_id(value):
            self.add(where, "does not exist" if type(value) is int else "must be a record id")
            return None
        return value  # type: ignore[return-value]

    def flag(self, where: str, value: object, *, default: bool = False) -> bool:
        """A yes/no field: True or False (None means `default`). Anything else, the text
        "false" included, would be truthy to `bool()`, so it is refused."""
        if value is None:
            return default
        # numpy's bool_ (a cell of a pandas-backed editor) is not a subclass of bool.
        if isinstance(value, bool) or type(value).__name__ == "bool_":
            return bool(value)
        self.add(where, "must be true or false")
        return default

    def raise_if_any(self) -> None:
        if self.problems:
            raise ValidationError(self.problems)


def infer_target_kind(kind: str | None, baseline: float | None, target: float | None) -> str | None:
    """`increase`/`decrease` follow from baseline vs target when both are known."""
    if kind:
        return kind
    if baseline is None or target is None or baseline == target:
        return None
    return "increase" if target > baseline else "decrease"


def target_problems(
    *,
    kind: str | None,
    baseline: float | None,
    target: float | None,
    band_low: float | None,
    band_high: float | None,
    baseline_date: dt.date | None,
    target_date: dt.date | None,
) -> list[Problem]:
    """The cross-field rules of a target (PRODUCT.md "Target")."""
    problems: list[Problem] = []
    if kind == "maintain":
        if band_low is None:
            problems.append(Problem("band_low", "is required for a maintain target"))
        if band_high is None:
            problems.append(Problem("band_high", "is required for a maintain target"))
        if band_low is not None and band_high is not None and band_low > band_high:
            problems.append(Problem("band_high", "must not be below band_low"))
    elif kind in ("increase", "decrease"):
        if target is None:
            problems.append(Problem("target", "is required"))
        elif baseline is not None:
            if baseline == target:
                problems.append(Problem("target", "must differ from the baseline"))
            elif kind == "increase" and target < baseline:
                problems.append(Problem("kind", "is increase but the target is below the baseline"))
            elif kind == "decrease" and target > baseline:
                problems.append(Problem("kind", "is decrease but the target is above the baseline"))
    elif kind is None:
        problems.append(Problem("kind", "is required when baseline or target is unknown"))
    else:
        problems.append(Problem("kind", f"“{kind}” is not one of increase, decrease, maintain"))
    if baseline_date and target_date and target_date <= baseline_date:
        problems.append(Problem("target_date", "must be after the baseline date"))
    return problems
