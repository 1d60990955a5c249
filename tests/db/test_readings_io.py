"""Reading imports write every row or none, name every bad row, skip what is already
stored, replace only when asked (auditing the old value), refuse teams the actor may not
edit; exports read back as the same readings, on both databases."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, event, func, select

from core.access import Actor
from core.errors import PermissionDenied, ValidationError
from core.reading_files import (
    ReadingRow,
    parse_or_raise,
    readings_to_csv,
    readings_to_xlsx,
    same_value,
)
from db.engine import read_session, write_session
from db.models import AuditEvent, Metric, Reading, Team
from db.readings import (
    BAD,
    IDENTICAL,
    NEW,
    REPLACE,
    check_readings,
    export_readings,
    import_reading_file,
    import_readings,
)

OCT_5 = dt.date(2026, 10, 5)
OCT_6 = dt.date(2026, 10, 6)


@dataclass(frozen=True)
class Workspace:
    checkout: int
    search: int
    conversion: int  # Checkout's
    latency: int  # Checkout's
    search_conversion: int  # Search has a metric of the same name
    archived: int  # Checkout's "Old funnel"


def make_workspace(engine: Engine) -> Workspace:
    with write_session(engine) as session:
        checkout = Team(name="Checkout", key="CHK")
        search = Team(name="Search", key="SRC")
        session.add_all([checkout, search])
        session.flush()
        metrics = [
            Metric(team_id=checkout.id, name="Conversion", unit="%"),
            Metric(team_id=checkout.id, name="Latency", unit="ms"),
            Metric(team_id=search.id, name="Conversion", unit="%"),
            Metric(team_id=checkout.id, name="Old funnel", archived=True),
        ]
        session.add_all(metrics)
        session.flush()
        return Workspace(checkout.id, search.id, *(metric.id for metric in metrics))


@pytest.fixture
def workspace(engine: Engine) -> Workspace:
    return make_workspace(engine)


def row(
    number: int,
    metric: str = "Conversion",
    date: dt.date = OCT_5,
    value: float = 2.5,
    note: str = "",
    team: str = "Checkout",
) -> ReadingRow:
    return ReadingRow(number, team, metric, date, value, note)


def stored(engine: Engine) -> list[tuple[int, dt.date, float, str, str]]:
    with read_session(engine) as session:
        query = select(
            Reading.metric_id, Reading.date, Reading.value, Reading.note, Reading.source
        ).order_by(Reading.metric_id, Reading.date)
        return [tuple(r) for r in session.execute(query)]  # type: ignore[misc]


def audit_events(engine: Engine) -> list[AuditEvent]:
    with read_session(engine) as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def run_import(engine: Engine, rows: list[ReadingRow], actor: Actor, **options: object):  # type: ignore[no-untyped-def]
    with write_session(engine) as session:
        return import_readings(session, actor=actor, rows=rows, **options)  # type: ignore[arg-type]


def editor_of(*team_ids: int) -> Actor:
    return Actor(username="edna", role="editor", team_ids=frozenset(team_ids))


# ---------------------------------------------------------------------------- checking


def test_team_resolves_by_name_or_key_and_metric_by_name_case_insensitively(
    engine: Engine, workspace: Workspace
) -> None:
    rows = [
        row(2, team="checkout", metric="CONVERSION"),
        row(3, team="chk", metric="latency"),
        row(4, team="SRC", metric="Conversion"),
    ]

    with read_session(engine) as session:
        plan = check_readings(session, rows=rows, replace=False)

    assert plan.problems == []
    assert [(r.team, r.metric, r.metric_id, r.status) for r in plan.readings] == [
        ("Checkout", "Conversion", workspace.conversion, NEW),
        ("Checkout", "Latency", workspace.latency, NEW),
        ("Search", "Conversion", workspace.search_conversion, NEW),
    ]
    assert plan.team_names == {workspace.checkout: "Checkout", workspace.search: "Search"}


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (row(3, team="Billing"), "unknown team 'Billing' (no team has this name or key)"),
        (row(3, metric="Revenue"), "team 'Checkout' has no metric 'Revenue'"),
        (row(3, team="SRC", metric="Latency"), "team 'Search' has no metric 'Latency'"),
        (row(3, metric="old FUNNEL"), "metric 'Old funnel' of team 'Checkout' is archived"),
        (row(3, date=OCT_6, value=float("inf")), "value 'inf' is not a finite number"),
        (row(3, team="CHK"), "same metric and date as row 2: keep one"),
    ],
)
def test_bad_rows_are_named(
    engine: Engine, workspace: Workspace, bad_row: ReadingRow, message: str
) -> None:
    with read_session(engine) as session:
        plan = check_readings(session, rows=[row(2), bad_row], replace=False)

    assert str(plan.problems[-1]) == f"row 3: {message}"
    assert plan.readings[1].status == BAD


def test_rows_are_classified_against_stored_readings(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    run_import(engine, [row(2, value=2.5, note="baseline"), row(3, "Latency", value=120)], admin)
    rows = [
        row(2, value=2.5),  # same value, no note given
        row(3, "Latency", value=130),  # different value
        row(4, "Latency", OCT_6, value=125),  # nothing stored
        row(5, "Conversion", OCT_6, value=2.0),
    ]

    with read_session(engine) as session:
        plan = check_readings(session, rows=rows, replace=True)

    assert [r.status for r in plan.readings] == [IDENTICAL, REPLACE, NEW, NEW]
    assert (plan.readings[1].old_value, plan.readings[1].reading_id is not None) == (120.0, True)
    assert plan.problems == []


def test_different_value_is_a_bad_row_unless_replacing(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    run_import(engine, [row(2, value=3)], admin)

    with read_session(engine) as session:
        plan = check_readings(session, rows=[row(7, value=4)], replace=False)

    assert [str(p) for p in plan.problems] == [
        "row 7: a different value 3 is stored for Conversion on 2026-10-05; use replace"
    ]


def test_different_note_with_the_same_value_needs_replace_but_a_blank_note_does_not(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    run_import(engine, [row(2, note="after v2.3")], admin)

    with read_session(engine) as session:
        changed = check_readings(session, rows=[row(2, note="after v2.4")], replace=False)
        blank = check_readings(session, rows=[row(2, note="")], replace=False)

    assert [str(p) for p in changed.problems] == [
        "row 2: a different note is stored for Conversion on 2026-10-05; use replace"
    ]
    assert [r.status for r in blank.readings] == [IDENTICAL]


def test_lookups_take_a_fixed_number_of_queries(engine: Engine, workspace: Workspace) -> None:
    rows = [row(i + 2, date=OCT_5 + dt.timedelta(days=i)) for i in range(300)]
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        with read_session(engine) as session:
            check_readings(session, rows=rows, replace=False)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3  # teams, their metrics, the stored readings


# ---------------------------------------------------------------------------- importing


def test_import_writes_every_row_with_one_audit_event(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    rows = [row(2, note="=1+1"), row(3, "Latency", value=120), row(4, team="SRC")]

    result = run_import(engine, rows, admin)

    assert (result.added, result.replaced, result.skipped, result.problems) == (3, 0, 0, [])
    assert stored(engine) == [
        (workspace.conversion, OCT_5, 2.5, "=1+1", "import"),
        (workspace.latency, OCT_5, 120.0, "", "import"),
        (workspace.search_conversion, OCT_5, 2.5, "", "import"),
    ]
    [event] = audit_events(engine)
    assert (event.action, event.actor, event.entity) == ("import", admin.username, "reading")
    assert json.loads(event.after)["added"] == 3  # type: ignore[arg-type]


def test_imported_readings_carry_who_and_when(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    run_import(engine, [row(2)], admin, source="cli")

    with read_session(engine) as session:
        reading = session.scalars(select(Reading)).one()

    assert (reading.source, reading.entered_by) == ("cli", admin.username)
    assert isinstance(reading.entered_at, dt.datetime)


def test_any_bad_row_writes_nothing_and_lists_every_problem(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    rows = [row(2), row(3, metric="Revenue"), row(4, "Latency"), row(5, team="Billing")]

    with pytest.raises(ValidationError) as raised:
        run_import(engine, rows, admin)

    assert raised.value.fields() == {"row 3", "row 5"}
    assert stored(engine) == []
    assert audit_events(engine) == []


def test_reimporting_the_same_rows_adds_nothing(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    rows = [row(2, note="n"), row(3, "Latency", value=120)]
    run_import(engine, rows, admin)
    before = stored(engine)

    result = run_import(engine, rows, admin)

    assert (result.added, result.replaced, result.skipped) == (0, 0, 2)
    assert stored(engine) == before
    assert len(audit_events(engine)) == 1  # nothing written, nothing audited


def test_replace_without_the_flag_writes_nothing(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    run_import(engine, [row(2, value=3)], admin)

    with pytest.raises(ValidationError, match="a different value 3 is stored"):
        run_import(engine, [row(2, value=4), row(3, "Latency")], admin)

    assert [r[2] for r in stored(engine)] == [3.0]


def test_replace_writes_the_new_value_and_audits_the_old_one(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    run_import(engine, [row(2, value=3, note="first")], admin)

    result = run_import(engine, [row(2, value=4, note="corrected")], admin, replace=True)

    assert (result.added, result.replaced, result.skipped) == (0, 1, 0)
    assert stored(engine) == [(workspace.conversion, OCT_5, 4.0, "corrected", "import")]
    event = audit_events(engine)[-1]
    assert event.action == "import"
    old = {"team": "Checkout", "metric": "Conversion", "date": "2026-10-05"}
    assert json.loads(event.before)["replaced"] == [{**old, "value": 3.0, "note": "first"}]  # type: ignore[arg-type]
    assert json.loads(event.after)["replaced"] == [{**old, "value": 4.0, "note": "corrected"}]  # type: ignore[arg-type]


def test_permission_refused_names_the_team_and_writes_nothing(
    engine: Engine, workspace: Workspace
) -> None:
    rows = [row(2), row(3, team="Search")]

    with pytest.raises(PermissionDenied, match="'Search'"):
        run_import(engine, rows, editor_of(workspace.checkout))

    assert stored(engine) == []
    assert audit_events(engine) == []


@pytest.mark.parametrize("role", ["viewer", "anonymous"])
def test_readers_may_not_import(engine: Engine, workspace: Workspace, role: str) -> None:
    actor = Actor(username="vic", role=role, team_ids=frozenset({workspace.checkout}))

    with pytest.raises(PermissionDenied):
        run_import(engine, [row(2)], actor)

    assert stored(engine) == []


def test_editor_imports_into_own_team(engine: Engine, workspace: Workspace) -> None:
    result = run_import(engine, [row(2), row(3, "Latency")], editor_of(workspace.checkout))

    assert result.added == 2


def test_dry_run_counts_and_lists_problems_but_writes_nothing(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    run_import(engine, [row(2, value=3)], admin)

    result = run_import(
        engine, [row(2, value=3), row(3, "Latency"), row(4, metric="Revenue")], admin, dry_run=True
    )

    assert (result.added, result.replaced, result.skipped, result.dry_run) == (1, 0, 1, True)
    assert [str(p) for p in result.problems] == ["row 4: team 'Checkout' has no metric 'Revenue'"]
    assert len(stored(engine)) == 1


def test_progress_reports_every_chunk_up_to_the_total(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    rows = [row(i + 2, date=OCT_5 + dt.timedelta(days=i)) for i in range(12_000)]
    calls: list[tuple[int, int]] = []

    run_import(engine, rows, admin, progress=lambda done, total: calls.append((done, total)))

    assert calls == [(0, 12_000), (5_000, 12_000), (10_000, 12_000), (12_000, 12_000)]
    assert len(stored(engine)) == 12_000


def test_large_import_across_many_metrics_with_replacements(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    with write_session(engine) as session:
        metrics = [Metric(team_id=workspace.search, name=f"M{i:03}") for i in range(250)]
        session.add_all(metrics)
    rows = [
        ReadingRow(2 + i * 30 + d, "SRC", f"m{i:03}", OCT_5 + dt.timedelta(days=d), float(d), "")
        for i in range(250)
        for d in range(30)
    ]
    run_import(engine, rows, admin)
    changed = [ReadingRow(r.row, r.team, r.metric, r.date, r.value + 1, "") for r in rows[::7]]

    result = run_import(engine, rows[1::7] + changed, admin, replace=True)

    assert (result.added, result.replaced, result.skipped) == (0, len(changed), len(rows[1::7]))
    with read_session(engine) as session:
        total = session.scalar(select(func.sum(Reading.value)))
    assert total == sum(r.value for r in rows) + len(changed)


def test_unknown_reading_source_is_refused(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    with pytest.raises(ValueError, match="unknown reading source"):
        run_import(engine, [row(2)], admin, source="spreadsheet")


# ---------------------------------------------------------------------------- files


def test_file_import_lists_file_and_database_problems_together(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    data = (
        b"team;metric;date;value\n"
        b"CHK;Conversion;2026-10-05;2,5\n"
        b"CHK;Revenue;2026-10-05;1\n"
        b"CHK;Latency;2026-02-30;1\n"
    )

    with pytest.raises(ValidationError) as raised, write_session(engine) as session:
        import_reading_file(session, actor=admin, data=data, filename="r.csv")

    assert [str(p) for p in raised.value.problems] == [
        "row 3: team 'Checkout' has no metric 'Revenue'",
        "row 4: date '2026-02-30' does not exist in the calendar",
    ]
    assert stored(engine) == []


def test_reimporting_the_same_file_succeeds_and_adds_nothing(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    data = b"team,metric,date,value,note\nCHK,Conversion,2026-10-05,2.5,a\nSRC,conversion,05.10.2026,1,\n"
    with write_session(engine) as session:
        first = import_reading_file(session, actor=admin, data=data, filename="r.csv")

    with write_session(engine) as session:
        second = import_reading_file(session, actor=admin, data=data, filename="r.csv")

    assert (first.added, second.added, second.skipped) == (2, 0, 2)
    assert len(stored(engine)) == 2


# ---------------------------------------------------------------------------- export


def test_export_has_the_import_columns_team_names_and_order(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    run_import(
        engine,
        [row(2, team="SRC"), row(3, "Latency", OCT_6, 7), row(4, "Latency", OCT_5, 6), row(5)],
        admin,
    )

    with read_session(engine) as session:
        frame = export_readings(session)

    assert list(frame.columns) == ["team", "metric", "date", "value", "note"]
    assert frame.values.tolist() == [
        ["Checkout", "Conversion", OCT_5, 2.5, ""],
        ["Checkout", "Latency", OCT_5, 6.0, ""],
        ["Checkout", "Latency", OCT_6, 7.0, ""],
        ["Search", "Conversion", OCT_5, 2.5, ""],
    ]


def test_export_filters_by_team_key_and_metric(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    run_import(engine, [row(2, team="SRC"), row(3, "Latency"), row(4)], admin)

    with read_session(engine) as session:
        by_team = export_readings(session, team_key="src")
        by_metric = export_readings(session, metric_ids=[workspace.latency])
        with pytest.raises(ValidationError, match="no team has the key 'XYZ'"):
            export_readings(session, team_key="XYZ")

    assert by_team[["team", "metric"]].values.tolist() == [["Search", "Conversion"]]
    assert by_metric[["team", "metric"]].values.tolist() == [["Checkout", "Latency"]]


def test_export_of_an_empty_workspace_has_the_columns(engine: Engine, workspace: Workspace) -> None:
    with read_session(engine) as session:
        frame = export_readings(session)

    assert frame.empty
    assert list(frame.columns) == ["team", "metric", "date", "value", "note"]


def test_export_leaves_out_archived_metrics(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    with write_session(engine) as session:
        session.add(Reading(metric_id=workspace.archived, date=OCT_5, value=1.0))
    run_import(engine, [row(2)], admin)

    with read_session(engine) as session:
        frame = export_readings(session)

    assert frame["metric"].tolist() == ["Conversion"]


@pytest.mark.parametrize(
    ("to_bytes", "filename"), [(readings_to_csv, "r.csv"), (readings_to_xlsx, "r.xlsx")]
)
def test_export_then_import_gives_the_same_readings(
    engine: Engine,
    workspace: Workspace,
    admin: Actor,
    to_bytes,
    filename: str,  # type: ignore[no-untyped-def]
) -> None:
    notes = ['=HYPERLINK("http://x")', "+1", "-1", "@me", "plain", "", "'=quoted"]
    rows = [
        row(i + 2, metric, OCT_5 + dt.timedelta(days=i), 0.1 * i - 3, notes[i % len(notes)], team)
        for i, (team, metric) in enumerate(
            [("CHK", "Conversion"), ("CHK", "Latency"), ("SRC", "Conversion")] * 7
        )
    ]
    run_import(engine, rows, admin)
    with read_session(engine) as session:
        before = export_readings(session)
    exported = stored(engine)
    data = to_bytes(before)
    with write_session(engine) as session:
        session.execute(delete(Reading))

    with write_session(engine) as session:
        result = import_reading_file(session, actor=admin, data=data, filename=filename)

    assert result.added == len(rows)
    after = stored(engine)
    assert [(m, d, n, s) for m, d, _, n, s in after] == [(m, d, n, s) for m, d, _, n, s in exported]
    # A workbook's number cells hold 16 significant digits: the same reading, by same_value.
    assert all(same_value(a[2], b[2]) for a, b in zip(after, exported, strict=True))
    with write_session(engine) as session:
        again = import_reading_file(session, actor=admin, data=data, filename=filename)
    assert (again.added, again.skipped) == (0, len(rows))


def test_formula_note_round_trips_and_the_csv_cell_is_not_a_formula(
    engine: Engine, workspace: Workspace, admin: Actor
) -> None:
    note = '=HYPERLINK("http://evil.example","click")'
    run_import(engine, [row(2, note=note)], admin)
    with read_session(engine) as session:
        data = readings_to_csv(export_readings(session))
    with write_session(engine) as session:
        session.execute(delete(Reading))

    cell = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))[1][4]
    run_import(engine, parse_or_raise(data, "r.csv"), admin)

    assert not cell.startswith("=")
    assert stored(engine)[0][3] == note


# ---------------------------------------------------------------------------- property

# Kinds of row a generated file mixes: good ones, bad ones the parser finds, bad ones only
# the database can tell, and a different value for a stored reading (bad unless replacing).
ROW_KINDS = [
    "good",
    "good",
    "not a number",
    "impossible date",
    "unknown team",
    "unknown metric",
    "archived metric",
    "different value",
]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kinds=st.lists(st.sampled_from(ROW_KINDS), min_size=1, max_size=20),
    delimiter=st.sampled_from([",", ";", "\t"]),
    replace=st.booleans(),
)
def test_file_import_writes_every_row_or_none_and_names_every_bad_row(
    engine: Engine,
    workspace: Workspace,
    admin: Actor,
    kinds: list[str],
    delimiter: str,
    replace: bool,
) -> None:
    with write_session(engine) as session:
        session.execute(delete(Reading))
        session.execute(delete(AuditEvent))
        # One stored reading per metric on Oct 5, for "different value" rows to collide with.
        for metric_id in (workspace.conversion, workspace.latency):
            session.add(Reading(metric_id=metric_id, date=OCT_5, value=1.0))
    lines = [delimiter.join(["team", "metric", "date", "value"])]
    expected: dict[tuple[str, dt.date], float] = {}
    bad: set[int] = set()
    collided: set[str] = set()
    for index, kind in enumerate(kinds):
        number = index + 2
        team, metric = "CHK", ("Conversion", "Latency")[index % 2]
        date, value = (OCT_6 + dt.timedelta(days=index)).isoformat(), str(index)
        if kind == "not a number":
            value = "many"
        elif kind == "impossible date":
            date = "2026-02-30"
        elif kind == "unknown team":
            team = "Nobody"
        elif kind == "unknown metric":
            metric = "Revenue"
        elif kind == "archived metric":
            metric = "Old funnel"
        elif kind == "different value" and metric not in collided:
            collided.add(metric)  # once per metric, or rows would duplicate each other
            date, value = OCT_5.isoformat(), "2"
        if kind == "good" or (kind == "different value" and (replace or date != "2026-10-05")):
            expected[(metric, dt.date.fromisoformat(date))] = float(value)
        else:
            bad.add(number)
        lines.append(delimiter.join([team, metric, date, value]))
    data = ("\n".join(lines) + "\n").encode()
    before = stored(engine)

    try:
        with write_session(engine) as session:
            result = import_reading_file(
                session, actor=admin, data=data, filename="r.csv", replace=replace
            )
    except ValidationError as error:
        assert bad
        assert error.fields() == {f"row {n}" for n in bad}
        assert stored(engine) == before
    else:
        assert not bad
        assert result.added + result.replaced == len(kinds)
        names = {workspace.conversion: "Conversion", workspace.latency: "Latency"}
        after = {(names[m], d): v for m, d, v, _, _ in stored(engine)}
        assert after == {("Conversion", OCT_5): 1.0, ("Latency", OCT_5): 1.0} | expected
