"""Metric sources, the pure part: a source's spec (what the database and the workspace JSON
keep), its validation, and the rules every fetched point passes before it becomes a reading.

A spec names where values come from, never a secret (PRODUCT.md "Metric source"):
- `sql`: `connection` (a name) and `query` returning `date, value` rows, or one row with
  `value` alone (the value for today);
- `prometheus`: `connection` (a server name) and `query` (PromQL, one series);
- `http_json`: `url` (or a `connection` whose `url` is used), `points` (a JMESPath
  expression giving the list of points; `@` when the document is the list), `date` and
  `value` (JMESPath expressions inside each point); `connection` may add headers;
- `csv_url`: `url` (or `connection`) of a CSV with `date, value` columns, read by the
  reading-file parser (same dates, decimal comma, row numbers).

Point rules (Sync, PRODUCT.md): a value must be a finite number ("n/a" is a bad row), a
date may not be in the future, one point per date; every bad point is named ("row 3",
"point 2", a date) and any bad point refuses the whole metric. At most MAX_POINTS points
are read from a source: a source returning more is cut there and refused with a message
(narrow the query), never half-written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jmespath
from jmespath.exceptions import JMESPathError

from core.errors import Problem, ValidationError
from core.reading_files import DELIMITERS, parse_reading_file, parse_value

KINDS = ("sql", "prometheus", "http_json", "csv_url")
KIND_LABELS = {
    "sql": "SQL query",
    "prometheus": "Prometheus (PromQL)",
    "http_json": "HTTP JSON",
    "csv_url": "CSV at a URL",
}
OK, FAILED, NOTHING_NEW = "ok", "failed", "nothing_new"  # a sync's outcome per source
OUTCOMES = (OK, FAILED, NOTHING_NEW)
MAX_POINTS = 50_000  # per source and sync; documented in the README
TIMEOUT_SECONDS = 30.0  # per source (PRODUCT.md "Sync")
FAILING_DAYS = 3  # a source failing this long shows on the overview
MAX_QUERY_LENGTH = 20_000
MAX_NAME_LENGTH = 100
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,99}$")

# The spec fields of each kind: (required, optional).
_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sql": (("connection", "query"), ()),
    "prometheus": (("connection", "query"), ()),
    "http_json": (("points", "date", "value"), ("url", "connection")),
    "csv_url": ((), ("url", "connection")),
}
_DEFAULTS = {"points": "@", "date": "date", "value": "value"}


class SourceError(RuntimeError):
    """A source could not be read (unreachable, timeout, HTTP error, bad document, a
    missing secret). The message is safe to show and store: it carries no secret."""


@dataclass(frozen=True)
class SourceSpec:
    """A metric's source as stored: kind and the fields of that kind, all text."""

    kind: str
    connection: str = ""
    query: str = ""
    url: str = ""
    points: str = ""
    date: str = ""
    value: str = ""

    def to_json(self) -> dict[str, str]:
        """The workspace JSON's `source_spec`: kind and the fields that are set."""
        required, optional = _FIELDS[self.kind]
        document = {"kind": self.kind}
        for name in (*required, *optional):
            text = getattr(self, name)
            if text:
                document[name] = text
        return document

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)


@dataclass(frozen=True, slots=True)
class RawPoint:
    """One point as a source gave it: `where` names it in messages ("row 3")."""

    where: str
    date: Any
    value: Any


@dataclass(frozen=True, slots=True)
class Point:
    """A checked point: ready to become a reading of the source's own metric."""

    number: int  # 1-based position, the row number of the reading import
    where: str
    date: dt.date
    value: float


@dataclass(frozen=True)
class CheckedPoints:
    points: list[Point]
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# ---------------------------------------------------------------------------- specs


def parse_spec(document: Mapping[str, Any] | None, where: str = "source_spec") -> SourceSpec:
    """A SourceSpec from its JSON form (form fields or the workspace's `source_spec`), or
    ValidationError naming each bad field. Unknown fields are refused, so a secret pasted
    into a spec under some other name is never stored."""
    if not isinstance(document, Mapping):
        raise ValidationError(Problem(where, "must be an object with a kind"))
    problems: list[Problem] = []
    kind = document.get("kind")
    if kind not in KINDS:
        raise ValidationError(Problem(f"{where}.kind", f"must be one of {', '.join(KINDS)}"))
    required, optional = _FIELDS[kind]
    values: dict[str, str] = {}
    for name, raw in document.items():
        if name == "kind":
            continue
        if name not in required and name not in optional:
            problems.append(Problem(f"{where}.{name}", f"is not a field of a {kind} source"))
            continue
        if raw is None:
            continue
        if not isinstance(raw, str):
            problems.append(Problem(f"{where}.{name}", "must be text"))
            continue
        if "\x00" in raw:
            problems.append(Problem(f"{where}.{name}", "must not contain NUL characters"))
            continue
        values[name] = raw.strip()
    for name in required:
        if not values.get(name):
            if name in _DEFAULTS:
                values[name] = _DEFAULTS[name]
            else:
                problems.append(Problem(f"{where}.{name}", f"is required for a {kind} source"))
    connection = values.get("connection", "")
    if connection and not NAME_PATTERN.match(connection):
        problems.append(
            Problem(
                f"{where}.connection",
                "must be a connection name (letters, digits, _ or -, starting with a letter), "
                "never a URL: put the URL in .streamlit/secrets.toml under that name",
            )
        )
    if len(values.get("query", "")) > MAX_QUERY_LENGTH:
        problems.append(Problem(f"{where}.query", f"is longer than {MAX_QUERY_LENGTH} characters"))
    if kind in ("http_json", "csv_url"):
        url = values.get("url", "")
        if not url and not connection:
            problems.append(Problem(f"{where}.url", "give a URL or a connection name"))
        if url:
            problems.extend(_url_problems(url, f"{where}.url"))
    if kind == "http_json":
        for name in ("points", "date", "value"):
            try:
                jmespath.compile(values[name])
            except (JMESPathError, KeyError) as error:
                problems.append(
                    Problem(f"{where}.{name}", f"is not a JMESPath expression ({error})")
                )
    if problems:
        raise ValidationError(problems)
    return SourceSpec(kind=kind, **values)


def _url_problems(url: str, where: str) -> list[Problem]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return [Problem(where, "is not a URL")]
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return [Problem(where, "must be an http:// or https:// URL")]
    if parts.password:
        # The database keeps no secret: credentials belong to a named connection.
        return [
            Problem(
                where,
                "must not contain a password: name a connection in .streamlit/secrets.toml "
                "that holds the URL or its headers instead",
            )
        ]
    return []


def spec_from_json(text: str) -> SourceSpec:
    """The stored spec (db column) back as a SourceSpec."""
    return parse_spec(json.loads(text))


# ---------------------------------------------------------------------------- points


def _point_date(raw: Any) -> tuple[dt.date | None, str | None]:
    if isinstance(raw, dt.datetime):
        return raw.date(), None
    if isinstance(raw, dt.date):
        return raw, None
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None, "missing date"
        try:
            # ISO dates, and ISO timestamps (the date part counts).
            return dt.date.fromisoformat(text[:10]), None
        except ValueError:
            return None, f"date '{text}' is not a date (use YYYY-MM-DD)"
    if raw is None:
        return None, "missing date"
    return None, f"date '{raw}' is not a date (use YYYY-MM-DD)"


def check_points(
    raw_points: Iterable[RawPoint], *, today: dt.date, since: dt.date | None = None
) -> CheckedPoints:
    """Check every point; points dated before `since` are left out (not problems).

    A value must be a finite number, a date not after `today`, and one point per date:
    each bad point is a problem naming it. The caller writes nothing when any is found."""
    problems: list[Problem] = []
    good: list[Point] = []
    for number, raw in enumerate(raw_points, start=1):
        date, date_problem = _point_date(raw.date)
        value, value_problem = parse_value(raw.value)
        bad = [why for why in (date_problem, value_problem) if why]
        if date is not None and date > today:
            bad.append(f"date {date.isoformat()} is in the future (today is {today.isoformat()})")
        if bad:
            problems.extend(Problem(raw.where, why) for why in bad)
            continue
        assert date is not None and value is not None
        if since is not None and date < since:
            continue
        good.append(Point(number, raw.where, date, value))
    by_date: dict[dt.date, list[Point]] = defaultdict(list)
    for point in good:
        by_date[point.date].append(point)
    duplicated: set[int] = set()
    for date, points in by_date.items():
        if len(points) < 2:
            continue
        for point in points:
            duplicated.add(point.number)
            others = [other.where for other in points if other is not point]
            problems.append(
                Problem(
                    point.where,
                    f"date {date.isoformat()} appears again in {', '.join(others)}: "
                    "one value per date",
                )
            )
    return CheckedPoints([p for p in good if p.number not in duplicated], problems)


def points_from_json(document: Any, spec: SourceSpec) -> list[RawPoint]:
    """The points of an http_json document, found with the spec's JMESPath expressions."""
    found = jmespath.search(spec.points or "@", document)
    if not isinstance(found, list):
        raise SourceError(
            f"the path '{spec.points}' does not lead to a list of points in the document"
        )
    points = []
    for index, item in enumerate(found, start=1):
        date = jmespath.search(spec.date, item) if isinstance(item, dict | list) else None
        value = jmespath.search(spec.value, item) if isinstance(item, dict | list) else None
        points.append(RawPoint(f"point {index}", date, value))
    return points


def points_from_prometheus(payload: Any) -> list[RawPoint]:
    """The points of a Prometheus query_range answer evaluated at each day's end (UTC
    midnight after it): the sample at midnight D+1 is the value of day D."""
    if not isinstance(payload, Mapping) or payload.get("status") != "success":
        error = payload.get("error") if isinstance(payload, Mapping) else None
        raise SourceError(f"Prometheus refused the query: {error or 'no success status'}")
    data = payload.get("data") or {}
    series = data.get("result") or []
    if data.get("resultType") != "matrix":
        raise SourceError("Prometheus did not answer with a range of values (a matrix)")
    if len(series) > 1:
        raise SourceError(
            f"the PromQL expression gives {len(series)} series: aggregate it to one "
            "(e.g. sum(...) or a label filter)"
        )
    points = []
    for values in series[:1]:
        for stamp, text in values.get("values", []):
            day = dt.datetime.fromtimestamp(float(stamp), dt.UTC).date() - dt.timedelta(days=1)
            # "NaN" and "+Inf" stay text: check_points refuses them as not finite.
            points.append(RawPoint(day.isoformat(), day, text))
    return points


def points_from_rows(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], today: dt.date
) -> list[RawPoint]:
    """The points of a SQL result: `date, value` columns (any case), or one row with a
    `value` column alone, which is today's value."""
    names = [str(column).strip().lower() for column in columns]
    if "value" not in names:
        raise SourceError(
            "the query must return the columns date, value (or one row with a column value); "
            f"it returned {', '.join(map(str, columns)) or 'no columns'}"
        )
    value_at = names.index("value")
    if "date" not in names:
        if len(rows) != 1:
            raise SourceError(
                f"the query returned {len(rows)} rows without a date column: return date, "
                "value rows, or one row with value (today's value)"
            )
        return [RawPoint("row 1", today, rows[0][value_at])]
    date_at = names.index("date")
    return [RawPoint(f"row {n}", row[date_at], row[value_at]) for n, row in enumerate(rows, 1)]


def points_from_csv(data: bytes) -> tuple[list[RawPoint], list[Problem]]:
    """The points of a `date, value` CSV, read by the reading-file parser (its dates,
    decimal comma and row numbers): the file gets the team and metric columns the parser
    needs, filled with placeholders, in the file's own delimiter."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [Problem("file", "the CSV is not UTF-8 text")]
    lines = text.splitlines()
    header_at = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_at is None:
        return [], [Problem("file", "the CSV is empty")]
    header = lines[header_at]
    delimiter = max(DELIMITERS, key=lambda d: (header.count(d), d == ","))
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    first = next(i for i, record in enumerate(records) if any(cell.strip() for cell in record))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    for index, record in enumerate(records):
        if index == first:
            writer.writerow(["team", "metric", *record])
        elif any(cell.strip() for cell in record):
            writer.writerow(["-", "-", *record])
        else:
            writer.writerow([])  # keeps the file's row numbers
    parsed = parse_reading_file(out.getvalue().encode("utf-8"), "source.csv")
    problems = [
        Problem(p.where, p.message.replace("team, metric, date, value", "date, value"))
        for p in parsed.problems
    ]
    points = [RawPoint(f"row {row.row}", row.date, row.value) for row in parsed.rows]
    return points, problems


def too_many(limit: int) -> str:
    return (
        f"the source returned more than {limit:,} points, the limit of one sync: "
        "narrow it (a date filter in the query, or --since)"
    )


# ---------------------------------------------------------------------------- secrets


def redact_url(url: str) -> str:
    """A URL safe to show: the password (and a user's token in its place) as ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, ""))


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (URLs, passwords, header values) replaced by ***: error
    messages from drivers and servers may quote what they were given."""
    for secret in sorted((s for s in secrets if s and len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, redact_url(secret) if "://" in secret else "***")
    # Any URL with a password that was not a known secret (a driver's own message).
    return re.sub(r"(\w+://[^\s:/@]*:)[^\s@/]+@", r"\1***@", text)


def preview_rows(points: Sequence[Point], limit: int = 10) -> list[dict[str, Any]]:
    """The first rows a sync would write, for the Test button."""
    return [{"date": p.date, "value": p.value} for p in points[:limit]]


def problems_text(problems: Sequence[Problem], shown: int = 10) -> str:
    """Problems in one message (stored as the source's error): the first few, and a count."""
    lines = [str(problem) for problem in problems[:shown]]
    if len(problems) > shown:
        lines.append(f"and {len(problems) - shown} more")
    return "; ".join(lines)
