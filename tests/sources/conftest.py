"""The metric-source fixtures (tests/sources/fixtures.py), for this folder's tests."""

from tests.sources.fixtures import (  # noqa: F401 (pytest finds fixtures by name)
    http_server,
    postgres_warehouse,
    prometheus,
    secrets,
    sqlite_warehouse,
    workspace,
)
