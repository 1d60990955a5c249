"""The metric-source fixtures (tests/sources/fixtures.py) for `manage.py sync`'s tests."""

from tests.sources.fixtures import (  # noqa: F401 (pytest finds fixtures by name)
    http_server,
    secrets,
    sqlite_warehouse,
)
