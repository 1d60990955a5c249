"""One interface over the four adapters: `fetch_points(spec, ...)` gives the checked
points of a source, or raises SourceError with a message safe to show and store."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from core.errors import Problem
from core.sources import (
    MAX_POINTS,
    TIMEOUT_SECONDS,
    CheckedPoints,
    RawPoint,
    SourceError,
    SourceSpec,
    check_points,
    redact,
    too_many,
)
from sources.connections import Connection, resolve
from sources.http import fetch_csv_url, fetch_http_json
from sources.prometheus import fetch_prometheus
from sources.sql import fetch_sql


@dataclass(frozen=True)
class Fetched:
    checked: CheckedPoints
    seconds: float  # time spent fetching, for the benchmark and the Test button


def _fetch_raw(
    spec: SourceSpec,
    connection: Connection | None,
    *,
    today: dt.date,
    since: dt.date | None,
    timeout: float,
    limit: int,
) -> tuple[list[RawPoint], list[Problem]]:
    if spec.kind == "sql":
        assert connection is not None
        return fetch_sql(spec, connection, today=today, timeout=timeout, limit=limit), []
    if spec.kind == "prometheus":
        assert connection is not None
        points = fetch_prometheus(
            spec, connection, today=today, since=since, timeout=timeout, limit=limit
        )
        return points, []
    if spec.kind == "http_json":
        return fetch_http_json(spec, connection, timeout=timeout, limit=limit), []
    if spec.kind == "csv_url":
        return fetch_csv_url(spec, connection, timeout=timeout, limit=limit)
    raise SourceError(f"unknown source kind '{spec.kind}'")


def fetch_points(
    spec: SourceSpec,
    *,
    today: dt.date | None = None,
    since: dt.date | None = None,
    timeout: float = TIMEOUT_SECONDS,
    limit: int = MAX_POINTS,
) -> Fetched:
    """Fetch a source and check its points (PRODUCT.md "Sync"). Problems with single
    points come back in `checked.problems`; a source that cannot be read at all raises
    SourceError. Secrets of the named connection never appear in either."""
    today = today or dt.datetime.now(dt.UTC).date()
    started = time.perf_counter()
    connection = resolve(spec.connection) if spec.connection else None
    secrets = connection.secrets() if connection else []
    try:
        raw, problems = _fetch_raw(
            spec, connection, today=today, since=since, timeout=timeout, limit=limit
        )
    except SourceError as error:
        raise SourceError(redact(str(error), secrets)) from None
    except Exception as error:  # an adapter's library failing in a way we did not foresee
        raise SourceError(redact(f"{type(error).__name__}: {error}", secrets)[:500]) from None
    if len(raw) > limit:
        raise SourceError(too_many(limit))
    checked = check_points(raw, today=today, since=since)
    if problems:
        checked = CheckedPoints(checked.points, [*problems, *checked.problems])
    problems_safe = [Problem(p.where, redact(p.message, secrets)) for p in checked.problems]
    return Fetched(CheckedPoints(checked.points, problems_safe), time.perf_counter() - started)
