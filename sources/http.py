"""HTTP for the adapters, and the `http_json` and `csv_url` adapters: a GET with a time
limit on the whole answer (not only per read) and a size limit, so a server that never
answers or sends forever stops at the limit."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import requests

from core.errors import Problem
from core.sources import (
    RawPoint,
    SourceError,
    SourceSpec,
    points_from_csv,
    points_from_json,
    redact,
    redact_url,
)
from sources.connections import Connection

MAX_BYTES = 50 * 1024 * 1024  # about 1 million CSV rows: well past MAX_POINTS
CHUNK = 64 * 1024


def get_bytes(
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float,
    secrets: Sequence[str] = (),
    accept_error_body: bool = False,
) -> bytes:
    """The body of a GET. Raises SourceError (without secrets) when the server cannot be
    reached, does not finish within `timeout` seconds, answers an HTTP error, or sends
    more than MAX_BYTES. With `accept_error_body` a 4xx answer's body is returned (an
    API such as Prometheus explains a bad query in it)."""
    shown = redact(redact_url(url), secrets)
    deadline = time.monotonic() + timeout
    try:
        with requests.get(
            url,
            params=params,
            headers=dict(headers or {}),
            timeout=(min(timeout, 10.0), timeout),
            stream=True,
        ) as response:
            if response.status_code >= 400 and not (
                accept_error_body and response.status_code < 500
            ):
                raise SourceError(f"{shown} answered HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_content(CHUNK):
                body += chunk
                if len(body) > MAX_BYTES:
                    raise SourceError(
                        f"{shown} sent more than {MAX_BYTES // (1024 * 1024)} MB: "
                        "the source is cut there and nothing was written"
                    )
                if time.monotonic() > deadline:
                    raise requests.Timeout()
            return bytes(body)
    except requests.Timeout:
        raise SourceError(f"{shown} did not answer within {timeout:g} s") from None
    except requests.ConnectionError:
        raise SourceError(
            f"{shown} cannot be reached (connection refused or no such host)"
        ) from None
    except requests.RequestException as error:
        raise SourceError(redact(f"{shown}: {type(error).__name__}", secrets)) from None


def parse_json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise SourceError(f"the answer is not valid JSON ({error})") from None


def _target(
    spec: SourceSpec, connection: Connection | None
) -> tuple[str, dict[str, str], list[str]]:
    url = spec.url or (connection.url if connection else "")
    headers = dict(connection.headers) if connection else {}
    secrets = connection.secrets() if connection else []
    return url, headers, secrets


def fetch_http_json(
    spec: SourceSpec, connection: Connection | None, *, timeout: float, limit: int
) -> list[RawPoint]:
    url, headers, secrets = _target(spec, connection)
    document = parse_json(get_bytes(url, headers=headers, timeout=timeout, secrets=secrets))
    return points_from_json(document, spec)


def fetch_csv_url(
    spec: SourceSpec, connection: Connection | None, *, timeout: float, limit: int
) -> tuple[list[RawPoint], list[Problem]]:
    url, headers, secrets = _target(spec, connection)
    return points_from_csv(get_bytes(url, headers=headers, timeout=timeout, secrets=secrets))
