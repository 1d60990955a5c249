"""The metric-source fixtures (tests/sources/fixtures.py) for the pages' source tests."""

from tests.sources.fixtures import (  # noqa: F401 (pytest finds fixtures by name)
    http_server,
    secrets,
)
