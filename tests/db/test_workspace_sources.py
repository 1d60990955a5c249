"""The workspace JSON carries a metric's source as `source_spec` (names only, never a
secret): export, import into an empty database, export again gives the same document."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import Engine

from core.errors import ValidationError
from tests.db.test_workspace import EXAMPLE, _export, _import

SPEC = {"kind": "sql", "connection": "warehouse", "query": "SELECT day AS date, n AS value FROM t"}


def _with_spec(spec: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(EXAMPLE)
    document["metrics"][0]["source_spec"] = spec
    return document


def test_source_spec_round_trips(engine: Engine) -> None:
    _import(engine, _with_spec(SPEC))
    assert _export(engine) == _with_spec(SPEC)


def test_document_without_source_spec_keeps_a_stored_source(engine: Engine) -> None:
    _import(engine, _with_spec(SPEC))
    _import(engine, copy.deepcopy(EXAMPLE))
    assert _export(engine)["metrics"][0]["source_spec"] == SPEC


def test_changed_source_spec_replaces_the_stored_one(engine: Engine) -> None:
    _import(engine, _with_spec(SPEC))
    other = {"kind": "csv_url", "url": "https://sheets.example.com/export.csv"}
    _import(engine, _with_spec(other))
    assert _export(engine)["metrics"][0]["source_spec"] == other


@pytest.mark.parametrize(
    ("spec", "where"),
    [
        ({"kind": "ftp"}, "source_spec.kind"),
        ({"kind": "sql", "connection": "warehouse"}, "source_spec.query"),
        (
            {"kind": "sql", "connection": "postgresql://u:pw@db/x", "query": "SELECT 1"},
            "source_spec.connection",
        ),
        (
            {"kind": "sql", "connection": "w", "query": "SELECT 1", "password": "pw"},
            "source_spec.password",
        ),
        ({"kind": "csv_url", "url": "https://u:pw@example.com/x.csv"}, "source_spec.url"),
    ],
    ids=["unknown-kind", "no-query", "url-as-connection", "secret-field", "password-in-url"],
)
def test_bad_source_spec_is_named_and_nothing_is_written(
    engine: Engine, spec: dict[str, Any], where: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        _import(engine, _with_spec(spec))
    assert any(p.where.endswith(where) for p in raised.value.problems), raised.value.problems
    assert _export(engine)["metrics"] == []
