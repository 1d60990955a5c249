"""The `prometheus` adapter: one value per day from the HTTP API's `query_range`, step
one day, evaluated at each day's end (the UTC midnight after it). Only finished days are
read, so a value never changes after it was written and a second sync writes nothing."""

from __future__ import annotations

import datetime as dt

from core.sources import RawPoint, SourceError, SourceSpec, points_from_prometheus, too_many
from sources.connections import Connection
from sources.http import get_bytes, parse_json

DAY_SECONDS = 86_400
DEFAULT_DAYS = 90  # how far back a sync without --since looks


def query_window(today: dt.date, since: dt.date | None) -> tuple[dt.date, dt.date]:
    """The first and last day to read: from `since` (default 90 days back) to yesterday."""
    first = since or today - dt.timedelta(days=DEFAULT_DAYS)
    return first, today - dt.timedelta(days=1)


def _midnight(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time(), dt.UTC).timestamp()


def fetch_prometheus(
    spec: SourceSpec,
    connection: Connection,
    *,
    today: dt.date,
    since: dt.date | None,
    timeout: float,
    limit: int,
) -> list[RawPoint]:
    first, last = query_window(today, since)
    if last < first:
        return []
    days = (last - first).days + 1
    if days > limit:
        raise SourceError(too_many(limit))
    # The value of day D is the one at midnight D+1 (UTC): its end.
    start = _midnight(first + dt.timedelta(days=1))
    end = _midnight(last + dt.timedelta(days=1))
    base = connection.url.rstrip("/")
    data = get_bytes(
        f"{base}/api/v1/query_range",
        params={"query": spec.query, "start": f"{start:.0f}", "end": f"{end:.0f}", "step": "1d"},
        headers=dict(connection.headers),
        timeout=timeout,
        secrets=connection.secrets(),
        accept_error_body=True,
    )
    payload = parse_json(data)
    if not isinstance(payload, dict):
        raise SourceError("Prometheus answered with something that is not its JSON")
    return points_from_prometheus(payload)
