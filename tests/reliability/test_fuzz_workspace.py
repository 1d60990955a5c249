"""Fuzzing the workspace importer (issue 7, reliability 5): a valid exported document,
mutated (keys dropped, wrong types, huge, negative and non-finite numbers, bad dates,
unicode, repeated records and keys, dangling references, deeply nested junk), and fully
random JSON. Every document is either imported whole (one "import" audit event, the
tables changed exactly as the summary counts, the result exportable and importable again
with no change) or refused with a ValidationError whose every problem names a place in
the document, and then every table, the audit log included, is exactly as it was."""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core.access import Actor
from core.errors import PermissionDenied, ValidationError
from db.engine import read_session, write_session
from db.workspace import FIELDS, FORMAT, SECTIONS, export_workspace, import_workspace
from tests.reliability.test_fuzz_writes import (
    FUZZ,
    Seed,
    Snapshot,
    assert_still_importable,
    changed_rows,
    fingerprint,
    restore,
    seeded,  # noqa: F401 (the module-scoped fixture: one seeded database per backend)
)

pytestmark = pytest.mark.slow

ADMIN = Actor("ada", "admin")
KIND_TABLES = {
    "trains": "trains",
    "teams": "teams",
    "pis": "pis",
    "metrics": "metrics",
    "releases": "releases",
    "outcomes": "outcomes",
    "targets": "targets",
    "hypotheses": "hypotheses",
    "readings": "readings",
    "checkins": "checkins",
    "iterations": "iterations",
    "iteration_goals": "iteration_goals",
}


# --- the document, and what importing it must do ----------------------------------------


def base_document(seed: Seed) -> dict[str, Any]:
    """The seeded workspace as exported: a valid document naming every kind of record."""
    with read_session(seed.engine) as session:
        return export_workspace(session)


@dataclass(frozen=True)
class DuplicateKeys:
    """An object written with a key twice in the JSON text (`json.loads` keeps the last)."""

    pairs: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Nested:
    """A value nested `depth` lists deep, put in after parsing (writing it as text would
    recurse as deep; hypothesis would print it whole)."""

    depth: int

    def build(self) -> Any:
        value: Any = "2026-10-05"
        for _ in range(self.depth):
            value = [value]
        return value


NESTED = re.compile(r"^\x00nested:(\d+)$")


def to_json(value: Any) -> str:
    """JSON text as a file would hold it: NaN and Infinity as Python's json writes them,
    lone surrogates as \\u escapes, DuplicateKeys with a key twice, Nested as a marker."""
    if isinstance(value, Nested):
        return json.dumps(f"\x00nested:{value.depth}")
    if isinstance(value, DuplicateKeys):
        return "{" + ", ".join(f"{json.dumps(k)}: {to_json(v)}" for k, v in value.pairs) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(to_json(v) for v in value) + "]"
    return json.dumps(value)


def load(document: Any) -> Any:
    """The document as the command line and the admin page read it (`json.loads` of the
    file's text), with the Nested markers built."""

    def build(value: Any) -> Any:
        if isinstance(value, str) and (match := NESTED.match(value)):
            return Nested(int(match.group(1))).build()
        if isinstance(value, dict):
            return {k: build(v) for k, v in value.items()}
        if isinstance(value, list):
            return [build(v) for v in value]
        return value

    return build(json.loads(to_json(document)))


def names_a_place(where: str, document: Any) -> bool:
    """A problem names the document, its format, a section, or a record in a section
    (`outcomes[3] (PI 26.4/CHK-1).targets[0].baseline`); never nothing."""
    if not where.strip():
        return False
    if where in ("document", "format"):
        return True
    if not isinstance(document, dict):
        return False
    if any(where in (key, json.dumps(key)) for key in document):  # an unknown section
        return True
    match = re.match(r"([a-z_]+)\[(\d+)\]", where)
    if match is None or match.group(1) not in SECTIONS:
        return False
    records = document.get(match.group(1))
    return isinstance(records, list) and int(match.group(2)) < len(records)


def import_into(seed: Seed, document: Any, actor: Actor = ADMIN) -> Exception | None:
    """Import the document; a refusal must leave every table as it was, an import must
    change exactly what its summary counts, with one audit event."""
    engine = seed.engine
    after: Snapshot | None = None
    error: Exception | None = None
    summary = None
    try:
        try:
            with write_session(engine) as session:
                summary = import_workspace(session, actor=actor, document=document)
        except (ValidationError, PermissionDenied) as caught:
            error = caught
        after = fingerprint(engine)
        if error is None:
            assert_still_importable(engine)
            assert_reimport_changes_nothing(seed)
    finally:
        if after != seed.snapshot:
            restore(engine, seed.snapshot, after)
    if isinstance(error, PermissionDenied):
        assert actor.role != "admin"
    if error is not None:
        assert after == seed.snapshot, f"{type(error).__name__} but something was written"
    if isinstance(error, ValidationError):
        assert error.problems
        for problem in error.problems:
            assert names_a_place(problem.where, document), f"names no place: {problem!r}"
            assert not problem.message.startswith("the database refused"), problem
    if error is None:
        assert summary is not None and after is not None
        assert_counted(seed.snapshot, after, summary.created, summary.updated, summary.archived)
    return error


def assert_counted(
    before: Snapshot,
    after: Snapshot,
    created: Mapping[str, int],
    updated: Mapping[str, int],
    archived: Mapping[str, int],
) -> None:
    changed = changed_rows(before, after)
    events = [after["audit_events"][pk] for pk in changed.pop("audit_events")]
    assert [(e["action"], e["entity"]) for e in events] == [("import", "workspace")]
    for kind, table in KIND_TABLES.items():
        rows = changed.pop(table)
        added = rows - before[table].keys()
        assert not rows - after[table].keys(), f"an import deleted {table}"
        assert len(added) == created.get(kind, 0), (kind, added, created)
        assert len(rows - added) == updated.get(kind, 0) + archived.get(kind, 0), kind
    assert not any(changed.values()), f"changed beyond the document: {changed}"


def assert_reimport_changes_nothing(seed: Seed) -> None:
    """Export, import the export: nothing created, updated or archived."""
    with write_session(seed.engine) as session:
        document = json.loads(json.dumps(export_workspace(session)))
        summary = import_workspace(session, actor=ADMIN, document=document)
        session.rollback()
    assert not summary.created and not summary.updated and not summary.archived, summary


def test_the_seeded_export_imports_as_unchanged(seeded: Seed) -> None:  # noqa: F811
    document = base_document(seeded)
    assert all(document[section] for section in SECTIONS), "the base names every kind"
    with write_session(seeded.engine) as session:
        summary = import_workspace(session, actor=ADMIN, document=document)
        session.rollback()
    assert not summary.created and not summary.updated and not summary.archived


# --- mutations of the valid document ----------------------------------------------------

JSON_HOSTILE = (
    None,
    True,
    False,
    0,
    -1,
    1.5,
    -0.0,
    2**31,
    2**63,
    2**64,
    10**400,
    -(10**400),
    math.nan,
    math.inf,
    -math.inf,
    1e308,
    1.7976931348623157e308,
    5e-324,
    "",
    " ",
    "\t\n",
    "\x00",
    "a\x00b",
    "\ud800",
    "ok\udcff",
    "x" * 10_000,
    " " * 5_000 + "x",
    "名前",
    "👍🏽" * 100,
    "\u202eevil",
    "2026-02-30",
    "2026-13-01",
    "0001-01-01",
    "9999-12-31",
    "2026-10-05T00:00",
    "05.10.2026",
    "٢٠٢٦-١٠-٠٥",  # Arabic-Indic digits match \d
    "2026-10-05\n",
    "20261005",
    "increase ",
    "MAINTAIN",
    [],
    {},
    [1, 2],
    ["2026-10-05"],
    {"name": "Payments"},
    Nested(50),
    Nested(900),  # json.loads still reads this deep
)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
HOSTILE = st.one_of(st.sampled_from(JSON_HOSTILE), JSON_SCALARS, JSON_VALUES)

# A step of a path: a key name, or a number that picks a key or an element (modulo).
STEPS = st.lists(st.integers(0, 50), min_size=1, max_size=5)
OPERATIONS = ("drop", "set", "set", "set", "repeat", "add", "duplicate_key", "rename")


def walk(document: Any, steps: list[Any]) -> tuple[Any, Any, Any]:
    """The container, key or index, and value the steps lead to (stopping at a leaf);
    the container is None for the document itself."""
    container, key, node = None, None, document
    for step in steps:
        if isinstance(node, dict) and node:
            keys = sorted(node)
            key = step if isinstance(step, str) and step in node else keys[int(step) % len(keys)]
        elif isinstance(node, list) and node:
            key = int(step) % len(node) if not isinstance(step, str) else 0
        else:
            break
        container, node = node, node[key]
    return container, key, node


def mutate(document: dict[str, Any], operations: list[tuple[str, list[Any], Any]]) -> Any:
    doc = copy.deepcopy(document)
    for operation, steps, value in operations:
        container, key, node = walk(doc, steps)
        if operation == "add" and isinstance(node, dict):
            node[str(value)[:30]] = value  # an unknown field or section
        elif container is None:
            continue
        elif operation == "drop":
            del container[key]
        elif operation == "set":
            container[key] = value
        elif operation == "repeat" and isinstance(container, list):
            container.append(copy.deepcopy(node))  # a repeated natural key
        elif operation == "duplicate_key" and isinstance(node, dict) and node:
            container[key] = DuplicateKeys((*node.items(), (sorted(node)[0], value)))
        elif operation == "rename" and isinstance(node, str):
            container[key] = node + " (gone)"  # a reference to nothing
    return doc


mutations = st.lists(st.tuples(st.sampled_from(OPERATIONS), STEPS, HOSTILE), min_size=1, max_size=3)


@FUZZ
@given(operations=mutations)
@example(operations=[("set", ["readings", 0, "value"], 10**400)])  # OverflowError: isfinite
@example(operations=[("set", ["metrics", 0, "decimals"], math.nan)])  # ValueError: int(nan)
@example(operations=[("set", ["outcomes", 1, "planned_bv"], math.inf)])  # OverflowError
@example(operations=[("set", ["trains", 0, "name"], "\ud800")])  # both drivers refused it
@example(operations=[("set", ["trains", 0, "name"], "a\x00b")])  # PostgreSQL refused it
@example(operations=[("set", ["readings", 0, "note"], "a\x00b")])  # the fast path let it by
@example(operations=[("set", ["releases", 0, "date"], Nested(900))])  # json.loads reads it
@example(operations=[("add", [], "")])  # a section named "" was named by ""
@example(operations=[("duplicate_key", ["teams", 0], "Checkout 2")])  # the last one counts
def test_a_mutated_export_imports_whole_or_names_each_problem(
    seeded: Seed,  # noqa: F811
    operations: list[tuple[str, list[Any], Any]],
) -> None:
    import_into(seeded, load(mutate(base_document(seeded), operations)))


# --- random JSON ----------------------------------------------------------------------


def records(kind: str) -> st.SearchStrategy[Any]:
    """Records of a kind with its own field names, holding anything."""
    fields = st.sampled_from(FIELDS[kind])
    return st.dictionaries(fields, st.one_of(HOSTILE, st.sampled_from(("Payments", "Checkout"))))


random_documents = st.one_of(
    JSON_VALUES,
    st.fixed_dictionaries(
        {"format": st.sampled_from((FORMAT, FORMAT, "outcome-board/2", None, 1))},
        optional={
            section: st.one_of(st.lists(records(section), max_size=3), HOSTILE)
            for section in SECTIONS
        },
    ),
)


@FUZZ
@given(document=random_documents)
@example(document={"format": FORMAT, "": []})
@example(document={"format": FORMAT, "teams": [{"name": "X", "key": "X", "train": Nested(900)}]})
@example(document=Nested(900))
@example(document={"format": FORMAT, "readings": [{"value": 10**400}]})
def test_random_json_imports_whole_or_names_each_problem(
    seeded: Seed,  # noqa: F811
    document: Any,
) -> None:
    import_into(seeded, load(document))


def test_only_an_admin_imports(seeded: Seed) -> None:  # noqa: F811
    editor = Actor("edna", "editor", frozenset(seeded.ids.values()))
    for document in (base_document(seeded), {"format": FORMAT, "trains": [{"name": "New"}]}):
        assert isinstance(import_into(seeded, load(document), actor=editor), PermissionDenied)
