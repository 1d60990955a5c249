"""Every way a reading enters the database follows the one rule of db/readings.py: the
same cases through the Record grid's save, `manage.py record`, `manage.py
import-readings`, the file import and the workspace import give the same outcome and
leave the same readings, on both databases."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

import manage
from core.access import Actor
from core.errors import PermissionDenied, ValidationError
from core.reading_files import parse_reading_file
from db.engine import read_session, write_session
from db.models import Metric, Reading, Team
from db.readings import (
    ImportResult,
    ReadingEntry,
    ReplaceNeeded,
    import_reading_file,
    record_readings,
)
from db.workspace import import_workspace

OCT_5 = dt.date(2026, 10, 5)  # the stored reading's date
OCT_6 = dt.date(2026, 10, 6)
ADMIN = Actor.system("tester")
OTHER_EDITOR = "other-editor"  # edits Search only, and every row names Checkout


@dataclass(frozen=True)
class Row:
    metric: str
    date: dt.date
    value: float
    note: str = ""


@dataclass(frozen=True)
class Outcome:
    status: str  # ok, invalid (nothing written, rows named), refused (permission)
    added: int = 0
    replaced: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class Case:
    rows: tuple[Row, ...]
    replace: bool
    outcome: Outcome
    readings: tuple[tuple[str, dt.date, float, str], ...]  # stored afterwards
    actor: str = "admin"
    # A workspace document describes the workspace: it always replaces, and it restores
    # archived metrics with their readings. Its outcome where that makes it differ.
    workspace: Outcome | None = None
    workspace_readings: tuple[tuple[str, dt.date, float, str], ...] | None = None


STORED = ("Conversion", OCT_5, 2.0, "first")  # stored before every case

CASES = {
    "new": Case(
        (Row("Conversion", OCT_6, 3.0, "second"),),
        False,
        Outcome("ok", added=1),
        (STORED, ("Conversion", OCT_6, 3.0, "second")),
    ),
    "identical without a note": Case(
        (Row("Conversion", OCT_5, 2.0),),
        False,
        Outcome("ok", skipped=1),
        (STORED,),
    ),
    "identical with the same note": Case(
        (Row("Conversion", OCT_5, 2.0, "first"),),
        False,
        Outcome("ok", skipped=1),
        (STORED,),
    ),
    "different value without replace": Case(
        (Row("Conversion", OCT_5, 2.5),),
        False,
        Outcome("invalid"),
        (STORED,),
        workspace=Outcome("ok", replaced=1),
        workspace_readings=(("Conversion", OCT_5, 2.5, "first"),),
    ),
    "different value with replace keeps the stored note": Case(
        (Row("Conversion", OCT_5, 2.5),),
        True,
        Outcome("ok", replaced=1),
        (("Conversion", OCT_5, 2.5, "first"),),
    ),
    "different value and note with replace": Case(
        (Row("Conversion", OCT_5, 2.5, "recount"),),
        True,
        Outcome("ok", replaced=1),
        (("Conversion", OCT_5, 2.5, "recount"),),
    ),
    "note-only change without replace": Case(
        (Row("Conversion", OCT_5, 2.0, "recount"),),
        False,
        Outcome("invalid"),
        (STORED,),
        workspace=Outcome("ok", replaced=1),
        workspace_readings=(("Conversion", OCT_5, 2.0, "recount"),),
    ),
    "note-only change with replace": Case(
        (Row("Conversion", OCT_5, 2.0, "recount"),),
        True,
        Outcome("ok", replaced=1),
        (("Conversion", OCT_5, 2.0, "recount"),),
    ),
    "bad row among good ones": Case(
        (Row("Conversion", OCT_6, 3.0), Row("No such metric", OCT_6, 1.0)),
        False,
        Outcome("invalid"),
        (STORED,),
    ),
    "archived metric": Case(
        (Row("Old funnel", OCT_6, 1.0),),
        False,
        Outcome("invalid"),
        (STORED,),
        workspace=Outcome("ok", added=1),
        workspace_readings=(STORED, ("Old funnel", OCT_6, 1.0, "")),
    ),
    "no permission": Case(
        (Row("Conversion", OCT_6, 3.0),),
        False,
        Outcome("refused"),
        (STORED,),
        actor=OTHER_EDITOR,
    ),
    "duplicate date in the input": Case(
        (Row("Conversion", OCT_6, 3.0), Row("Conversion", OCT_6, 3.5)),
        False,
        Outcome("invalid"),
        (STORED,),
    ),
}


@dataclass(frozen=True)
class Setup:
    engine: Engine
    database_url: str
    metric_ids: dict[str, int]
    search_id: int

    def actor(self, kind: str) -> Actor:
        if kind == OTHER_EDITOR:
            return Actor("edna", "editor", frozenset({self.search_id}))
        return ADMIN


@pytest.fixture
def setup(engine: Engine, database_url: str) -> Setup:
    with write_session(engine) as session:
        checkout, search = Team(name="Checkout", key="CHK"), Team(name="Search", key="SRC")
        session.add_all([checkout, search])
        session.flush()
        metrics = [
            Metric(team_id=checkout.id, name="Conversion", unit="%"),
            Metric(team_id=checkout.id, name="Old funnel", archived=True),
        ]
        session.add_all(metrics)
        session.flush()
        _, day, value, note = STORED
        session.add(
            Reading(
                metric_id=metrics[0].id,
                date=day,
                value=value,
                note=note,
                source="form",
                entered_by="seed",
                entered_at=dt.datetime(2026, 10, 5, 12),
            )
        )
        ids = {m.name: m.id for m in metrics}
        return Setup(engine, database_url, ids, search.id)


def stored(engine: Engine) -> tuple[tuple[str, dt.date, float, str], ...]:
    with read_session(engine) as session:
        query = (
            select(Metric.name, Reading.date, Reading.value, Reading.note)
            .join(Metric, Metric.id == Reading.metric_id)
            .order_by(Metric.name, Reading.date)
        )
        return tuple((m, d, v, n or "") for m, d, v, n in session.execute(query))


def _from_result(result: ImportResult) -> Outcome:
    return Outcome("ok", result.added, result.replaced, result.skipped)


def _guarded(write: Callable[[], ImportResult]) -> Outcome:
    try:
        return _from_result(write())
    except PermissionDenied:
        return Outcome("refused")
    except ValidationError:
        return Outcome("invalid")


# ---------------------------------------------------------------------------- entry points


def through_grid(setup: Setup, rows: Sequence[Row], replace: bool, actor: Actor) -> Outcome:
    entries = [
        ReadingEntry(setup.metric_ids.get(r.metric, 2**31 - 1), r.date, r.value, r.note)
        for r in rows
    ]

    def write() -> ImportResult:
        with write_session(setup.engine) as session:
            return record_readings(
                session, actor=actor, entries=entries, replace=replace, source="bulk"
            )

    return _guarded(write)


def _csv(rows: Sequence[Row]) -> bytes:
    lines = ["team,metric,date,value,note"]
    lines += [f"Checkout,{r.metric},{r.date.isoformat()},{r.value!r},{r.note}" for r in rows]
    return ("\n".join(lines) + "\n").encode()


def through_file_import(setup: Setup, rows: Sequence[Row], replace: bool, actor: Actor) -> Outcome:
    def write() -> ImportResult:
        with write_session(setup.engine) as session:
            return import_reading_file(
                session, actor=actor, data=_csv(rows), filename="r.csv", replace=replace
            )

    return _guarded(write)


def through_workspace_import(
    setup: Setup, rows: Sequence[Row], replace: bool, actor: Actor
) -> Outcome:
    document = {
        "format": "outcome-board/1",
        "readings": [
            {
                "team": "Checkout",
                "metric": r.metric,
                "date": r.date.isoformat(),
                "value": r.value,
                "note": r.note,
            }
            for r in rows
        ],
    }
    try:
        with write_session(setup.engine) as session:
            summary = import_workspace(session, actor=actor, document=document)
    except PermissionDenied:
        return Outcome("refused")
    except ValidationError:
        return Outcome("invalid")
    return Outcome(
        "ok",
        summary.created.get("readings", 0),
        summary.updated.get("readings", 0),
        summary.unchanged.get("readings", 0),
    )


def _cli(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, actor: Actor, args: list[str], stdin: str = ""
) -> tuple[int, str]:
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", setup.database_url)
    # The command line acts as a local administrator; acting as another user here shows
    # that the permission check lives in the write path, under the command.
    monkeypatch.setattr(manage, "_actor", lambda: actor)
    result = CliRunner().invoke(manage.cli, args, input=stdin, catch_exceptions=False)
    return result.exit_code, result.output


def _cli_outcome(code: int, output: str, counts: Outcome) -> Outcome:
    if code == 0:
        return counts
    return Outcome("refused") if output.startswith("Refused:") else Outcome("invalid")


def through_cli_record(
    setup: Setup,
    rows: Sequence[Row],
    replace: bool,
    actor: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> Outcome:
    (r,) = rows
    args = ["record", "--team", "CHK", "--metric", r.metric, "--value", repr(r.value)]
    args += ["--date", r.date.isoformat(), "--note", r.note] + (["--replace"] if replace else [])
    code, output = _cli(setup, monkeypatch, actor, args)
    if output.startswith("Recorded"):
        counts = Outcome("ok", added=1)
    elif output.startswith("Replaced"):
        counts = Outcome("ok", replaced=1)
    else:
        counts = Outcome("ok", skipped=1)
    return _cli_outcome(code, output, counts)


def through_cli_import(
    setup: Setup,
    rows: Sequence[Row],
    replace: bool,
    actor: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> Outcome:
    args = ["import-readings", "-"] + (["--replace"] if replace else [])
    code, output = _cli(setup, monkeypatch, actor, args, stdin=_csv(rows).decode())
    found = re.search(r"Added (\d+), replaced (\d+), skipped (\d+)", output)
    counts = Outcome("ok", *(int(n) for n in found.groups())) if found else Outcome("ok")
    return _cli_outcome(code, output, counts)


ENTRY_POINTS = ["grid", "cli record", "cli import-readings", "file import", "workspace import"]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("name", list(CASES))
def test_every_entry_point_follows_one_rule(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, name: str, entry: str
) -> None:
    case = CASES[name]
    if entry == "cli record" and len(case.rows) != 1:
        pytest.skip("`record` takes one reading")
    if entry == "workspace import" and case.actor == OTHER_EDITOR:
        expected, readings = Outcome("refused"), case.readings  # admins only, whatever the team
    elif entry == "workspace import":
        expected = case.workspace or case.outcome
        readings = case.workspace_readings or case.readings
    else:
        expected, readings = case.outcome, case.readings
    actor = setup.actor(case.actor)

    if entry == "grid":
        outcome = through_grid(setup, case.rows, case.replace, actor)
    elif entry == "cli record":
        outcome = through_cli_record(setup, case.rows, case.replace, actor, monkeypatch)
    elif entry == "cli import-readings":
        outcome = through_cli_import(setup, case.rows, case.replace, actor, monkeypatch)
    elif entry == "file import":
        outcome = through_file_import(setup, case.rows, case.replace, actor)
    else:
        outcome = through_workspace_import(setup, case.rows, case.replace, actor)

    assert outcome == expected
    assert stored(setup.engine) == readings


def test_grid_refuses_a_note_only_change_until_replace_is_confirmed(setup: Setup) -> None:
    # Was: the grid overwrote the note silently while `record` refused the same change.
    entry = ReadingEntry(setup.metric_ids["Conversion"], OCT_5, 2.0, "recount")

    with pytest.raises(ReplaceNeeded) as needed, write_session(setup.engine) as session:
        record_readings(session, actor=ADMIN, entries=[entry])
    (conflict,) = needed.value.conflicts
    assert (conflict.stored_note, conflict.new_note) == ("first", "recount")
    assert stored(setup.engine) == (STORED,)


def test_csv_of_cases_is_what_the_file_import_reads() -> None:
    # The helper the file and CLI entry points share must write a file the parser reads
    # back row for row, or those entry points would test the parser instead of the rule.

    rows = (Row("Conversion", OCT_6, 3.5, "a note"),)
    parsed = parse_reading_file(_csv(rows), "r.csv")
    assert not parsed.problems
    assert [(p.metric, p.date, p.value, p.note) for p in parsed.rows] == [
        ("Conversion", OCT_6, 3.5, "a note")
    ]
