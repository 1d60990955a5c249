"""Workspace JSON: a document survives export -> import -> export unchanged on both
databases, a bad document writes nothing and names every bad record, imports merge."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from core.access import Actor
from core.errors import PermissionDenied, ValidationError
from db.backup import empty_database
from db.engine import read_session, write_session
from db.models import AuditEvent, CheckIn, Outcome, Reading, Target, Team
from db.workspace import export_workspace, import_workspace
from tests.conftest import DEMO_TODAY

# PRODUCT.md's example, verbatim: the smallest valid document, mutated by the bad cases.
EXAMPLE: dict[str, Any] = {
    "format": "outcome-board/1",
    "trains": [{"name": "Payments"}],
    "teams": [{"name": "Checkout", "key": "CHK", "train": "Payments", "active": True}],
    "pis": [{"name": "PI 26.4", "train": "Payments", "start": "2026-10-05", "end": "2026-12-18"}],
    "metrics": [
        {
            "team": "Checkout",
            "name": "Checkout conversion",
            "unit": "%",
            "description": "",
            "source": "",
            "update_interval_days": 14,
            "decimals": 1,
            "leading": True,
        }
    ],
    "releases": [
        {"team": "Checkout", "name": "v2.3", "date": "2026-10-20", "notes": "", "link": ""}
    ],
    "outcomes": [
        {
            "pi": "PI 26.4",
            "key": "CHK-1",
            "team": "Checkout",
            "title": "Raise checkout conversion",
            "why": "",
            "owner": "",
            "committed": True,
            "planned_bv": 8,
            "actual_bv": None,
            "parent": None,
            "status": "active",
            "targets": [
                {
                    "metric": "Checkout conversion",
                    "baseline": 2.1,
                    "baseline_date": "2026-10-05",
                    "target": 2.6,
                    "target_date": "2026-12-18",
                    "kind": "increase",
                    "band_low": None,
                    "band_high": None,
                }
            ],
            "hypotheses": [
                {
                    "metric": "Checkout conversion",
                    "if": "we offer one-click pay",
                    "expect": "more buyers finish checkout",
                    "because": "form length is the top drop-off",
                    "direction": "increase",
                    "min_effect": 0.2,
                    "min_effect_unit": "absolute",
                    "release": "v2.3",
                    "window_days": 28,
                    "override": None,
                    "override_reason": None,
                    "learning": "",
                    "decision": None,
                }
            ],
        }
    ],
    "readings": [
        {
            "team": "Checkout",
            "metric": "Checkout conversion",
            "date": "2026-10-05",
            "value": 2.1,
            "note": "",
            "source": "import",
        }
    ],
    "checkins": [
        {
            "pi": "PI 26.4",
            "outcome": "CHK-1",
            "date": "2026-10-30",
            "confidence": 7,
            "comment": "",
            "by": "",
        }
    ],
}


def _target(metric: str, **fields: Any) -> dict[str, Any]:
    return {
        "metric": metric,
        "baseline": None,
        "baseline_date": None,
        "target": None,
        "target_date": None,
        "kind": "increase",
        "band_low": None,
        "band_high": None,
        **fields,
    }


def _hypothesis(metric: str, text: str, **fields: Any) -> dict[str, Any]:
    return {
        "metric": metric,
        "if": text,
        "expect": "fewer abandoned carts",
        "because": "the form is long",
        "direction": "increase",
        "min_effect": 0.5,
        "min_effect_unit": "absolute",
        "release": None,
        "window_days": 28,
        "override": None,
        "override_reason": None,
        "learning": "",
        "decision": None,
        **fields,
    }


def _outcome(pi: str, key: str, team: str | None, **fields: Any) -> dict[str, Any]:
    return {
        "pi": pi,
        "key": key,
        "team": team,
        "title": f"Improve {key}",
        "why": "",
        "owner": "",
        "committed": True,
        "planned_bv": None,
        "actual_bv": None,
        "parent": None,
        "status": "draft",
        "targets": [],
        "hypotheses": [],
        **fields,
    }


# Every record kind with every field away from its default, in export order. Names are
# chosen so code-point order differs from a locale's ("Checkout" < "Legacy" < "alpha").
FULL: dict[str, Any] = {
    "format": "outcome-board/1",
    "trains": [{"name": "Payments"}, {"name": "Retired train", "archived": True}],
    "teams": [
        {"name": "Checkout", "key": "CHK", "train": "Payments", "active": True},
        {"name": "Legacy", "key": "LEG", "train": "Retired train", "active": False},
        {"name": "alpha", "key": "ALPHA", "train": None, "active": True},
    ],
    "pis": [
        {"name": "PI 26.4", "train": "Payments", "start": "2026-10-05", "end": "2026-12-18"},
        {"name": "PI 27.1", "train": "Payments", "start": "2027-01-04", "end": "2027-03-19"},
        {"name": "Solo PI", "train": None, "start": "2026-10-05", "end": "2026-12-18"},
    ],
    "metrics": [
        {
            "team": "Checkout",
            "name": "Checkout conversion",
            "unit": "%",
            "description": "Share of carts that are paid",
            "source": "warehouse.sales_daily",
            "update_interval_days": 7,
            "decimals": 2,
            "leading": True,
        },
        {
            "team": "Checkout",
            "name": "Page load",
            "unit": "s",
            "description": "p95 of the checkout page",
            "source": "RUM",
            "update_interval_days": 30,
            "decimals": 3,
            "leading": False,
            "archived": True,
        },
        {
            "team": "Checkout",
            "name": "Payment errors",
            "unit": "errors",
            "description": "",
            "source": "",
            "update_interval_days": 1,
            "decimals": 0,
            "leading": False,
        },
        {
            "team": "alpha",
            "name": "Zebra rate",
            "unit": "",
            "description": "multi\nline",
            "source": "",
            "update_interval_days": 366,
            "decimals": 6,
            "leading": True,
        },
        {
            "team": "alpha",
            "name": "apdex",
            "unit": "",
            "description": "",
            "source": "",
            "update_interval_days": 14,
            "decimals": 1,
            "leading": False,
        },
    ],
    "releases": [
        {
            "team": "Checkout",
            "name": "v2.3",
            "date": "2026-10-20",
            "notes": "One-click pay",
            "link": "https://example.com/releases/v2.3",
        },
        {
            "team": "Checkout",
            "name": "v2.4",
            "date": "2026-11-03",
            "notes": "",
            "link": "",
            "archived": True,
        },
        {"team": "alpha", "name": "r1", "date": "2026-10-12", "notes": "", "link": ""},
    ],
    "outcomes": [
        _outcome(
            "PI 26.4",
            "PAY-1",
            None,
            title="Cut payment support contacts by 15%",
            why="Support costs grow faster than payments.",
            owner="Anna Berg",
            committed=False,
            planned_bv=5,
            actual_bv=4,
            status="closed",
            targets=[
                _target(
                    "Checkout conversion",
                    team="Checkout",
                    baseline=2.1,
                    baseline_date="2026-10-05",
                    target=2.6,
                ),
                _target(
                    "apdex",
                    team="alpha",
                    kind="maintain",
                    baseline=0.9,
                    band_low=0.85,
                    band_high=0.95,
                    target_date="2026-12-01",
                ),
            ],
            hypotheses=[_hypothesis("apdex", "we cache the catalogue", team="alpha", release="r1")],
        ),
        # CHK-2 before CHK-1: the display order (position) survives, not key order.
        _outcome(
            "PI 26.4",
            "CHK-2",
            "Checkout",
            title="Fewer failed payments",
            parent="PAY-1",
            planned_bv=10,
            actual_bv=0,
            status="active",
            targets=[
                _target(
                    "Payment errors",
                    kind="decrease",
                    baseline=40.0,
                    baseline_date="2026-10-01",
                    target=10.0,
                    target_date="2026-12-18",
                ),
                _target("Checkout conversion", baseline=-1.5, target=1e-7),
            ],
            hypotheses=[
                _hypothesis(
                    "Payment errors",
                    "we retry declined cards once",
                    direction="decrease",
                    min_effect=20.0,
                    min_effect_unit="percent",
                    release="v2.3",
                    window_days=14,
                    override="supported",
                    override_reason="Confirmed by the card network's report",
                    learning="Retries help most on weekends",
                    decision="persevere",
                ),
                _hypothesis("Checkout conversion", "we drop the phone field", archived=True),
                _hypothesis("Checkout conversion", "we drop the phone field", decision="stop"),
            ],
        ),
        _outcome(
            "PI 26.4",
            "CHK-1",
            "Checkout",
            status="archived",
            targets=[
                _target("Page load", target=3.0),
                _target("Payment errors", target=5.0, kind="decrease", archived=True),
            ],
        ),
        _outcome("PI 26.4", "ALP-1", "alpha", status="closed", committed=False, planned_bv=1),
        _outcome("PI 27.1", "CHK-1", "Checkout", title="Raise conversion again", parent=None),
    ],
    "readings": [
        {
            "team": "Checkout",
            "metric": "Checkout conversion",
            "date": "2026-10-05",
            "value": 2.1,
            "note": "baseline week",
            "source": "form",
        },
        {
            "team": "Checkout",
            "metric": "Checkout conversion",
            "date": "2026-10-12",
            "value": 2.25,
            "note": "",
            "source": "cli",
        },
        {
            "team": "Checkout",
            "metric": "Checkout conversion",
            "date": "2026-10-19",
            "value": 0.1 + 0.2,
            "note": '=1+1 "quoted"',
            "source": "bulk",
        },
        {
            "team": "Checkout",
            "metric": "Page load",
            "date": "2026-09-30",
            "value": -0.0001,
            "note": "",
            "source": "import",
        },
        {
            "team": "alpha",
            "metric": "Zebra rate",
            "date": "2026-10-05",
            "value": 1.5e300,
            "note": "",
            "source": "import",
        },
        {
            "team": "alpha",
            "metric": "apdex",
            "date": "2026-10-06",
            "value": 0.91,
            "note": "ü ✓",
            "source": "form",
        },
    ],
    "checkins": [
        {
            "pi": "PI 26.4",
            "outcome": "CHK-1",
            "date": "2026-10-16",
            "confidence": 3,
            "comment": "blocked",
            "by": "Ben",
        },
        {
            "pi": "PI 26.4",
            "outcome": "CHK-1",
            "date": "2026-10-30",
            "confidence": 10,
            "comment": "",
            "by": "Ben",
        },
        {
            "pi": "PI 26.4",
            "outcome": "CHK-2",
            "date": "2026-10-30",
            "confidence": 6,
            "comment": "second of the day",
            "by": "Cleo",
        },
        {
            "pi": "PI 26.4",
            "outcome": "CHK-2",
            "date": "2026-10-30",
            "confidence": 1,
            "comment": "first of the day? no: order kept",
            "by": "Ana",
        },
        {
            "pi": "PI 27.1",
            "outcome": "CHK-1",
            "date": "2027-01-10",
            "confidence": 5,
            "comment": "",
            "by": "",
        },
    ],
}


def _import(engine: Engine, document: object, actor: Actor | None = None) -> Any:
    with write_session(engine) as session:
        return import_workspace(
            session, actor=actor or Actor.system("test-admin"), document=document
        )


def _export(engine: Engine) -> dict[str, Any]:
    with read_session(engine) as session:
        return export_workspace(session)


def _row_counts(engine: Engine) -> dict[str, int]:
    with read_session(engine) as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Team, Outcome, Target, Reading, CheckIn, AuditEvent)
        }


# ---------------------------------------------------------------- round trips


def test_product_example_round_trips_unchanged(engine: Engine) -> None:
    _import(engine, copy.deepcopy(EXAMPLE))
    assert _export(engine) == EXAMPLE


def test_every_field_of_every_record_kind_round_trips(engine: Engine) -> None:
    _import(engine, copy.deepcopy(FULL))

    exported = _export(engine)

    for section in FULL:
        assert exported[section] == FULL[section], section  # lists compare in order
    assert exported == FULL


def test_demo_export_import_export_is_identical(engine: Engine) -> None:
    from seed.demo import build_demo

    with write_session(engine) as session:
        build_demo(session, today=DEMO_TODAY)
    first = _export(engine)
    with write_session(engine) as session:
        empty_database(session)
    assert _row_counts(engine) == dict.fromkeys(_row_counts(engine), 0)

    _import(engine, first)

    assert _export(engine) == first
    assert json.dumps(_export(engine)) == json.dumps(first)


def test_absent_optional_fields_take_their_defaults(engine: Engine) -> None:
    document = {
        "format": "outcome-board/1",
        "teams": [{"name": "Checkout", "key": "chk"}],
        "pis": [{"name": "PI 1", "start": "2026-01-05", "end": "2026-03-20"}],
        "metrics": [{"team": "Checkout", "name": "Conversion"}],
        "outcomes": [
            {
                "pi": "PI 1",
                "key": "CHK-1",
                "team": "Checkout",
                "title": "Raise conversion",
                "targets": [{"metric": "Conversion", "baseline": 3.0, "target": 2.0}],
                "hypotheses": [{"metric": "Conversion", "if": "x", "expect": "y"}],
            }
        ],
        "readings": [
            {"team": "Checkout", "metric": "Conversion", "date": "2026-01-05", "value": 3}
        ],
    }

    _import(engine, document)
    exported = _export(engine)

    assert exported["trains"] == []
    assert exported["teams"] == [{"name": "Checkout", "key": "CHK", "train": None, "active": True}]
    metric = exported["metrics"][0]
    assert (
        metric["unit"],
        metric["update_interval_days"],
        metric["decimals"],
        metric["leading"],
    ) == (
        "",
        14,
        1,
        False,
    )
    outcome = exported["outcomes"][0]
    assert (outcome["committed"], outcome["status"], outcome["parent"]) == (True, "draft", None)
    assert outcome["targets"][0]["kind"] == "decrease"  # inferred from baseline vs target
    hypothesis = outcome["hypotheses"][0]
    assert hypothesis["direction"] == "decrease"  # from the target on the same metric
    assert (hypothesis["window_days"], hypothesis["min_effect_unit"]) == (28, "absolute")
    assert exported["readings"][0]["source"] == "import"
    assert exported["readings"][0]["value"] == 3.0


# ---------------------------------------------------------------- bad documents


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation that sets `a.0.b` style paths (`-` removes the field)."""

    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = document
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value == "-":
            del node[last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _append(section: str, record: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable:
    def mutate(document: dict[str, Any]) -> None:
        document[section].append(record(document))

    return mutate


OUTCOME = "outcomes[0] (PI 26.4/CHK-1)"
READING = "readings[0] (Checkout/Checkout conversion/2026-10-05)"
BAD_DOCUMENTS = [
    ("wrong format", _set("format", "outcome-board/2"), {"format"}),
    ("unknown section", _set("people", []), {"people"}),
    ("section not a list", _set("checkins", {"pi": "PI 26.4"}), {"checkins"}),
    ("team without key", _set("teams.0.key", "-"), {"teams[0] (Checkout).key"}),
    ("team key with spaces", _set("teams.0.key", "C K"), {"teams[0] (Checkout).key"}),
    ("unknown field", _set("teams.0.colour", "red"), {"teams[0] (Checkout).colour"}),
    ("team of unknown train", _set("teams.0.train", "Cargo"), {"teams[0] (Checkout).train"}),
    (
        "two teams, one name",
        _append("teams", lambda d: {"name": "Checkout", "key": "CH2"}),
        {"teams[1] (Checkout).name"},
    ),
    ("PI ends before it starts", _set("pis.0.end", "2026-10-01"), {"pis[0] (PI 26.4).end"}),
    ("PI date not ISO", _set("pis.0.start", "05.10.2026"), {"pis[0] (PI 26.4).start"}),
    (
        "overlapping PIs in a train",
        _append(
            "pis",
            lambda d: {
                "name": "PI 26.5",
                "train": "Payments",
                "start": "2026-12-18",
                "end": "2027-02-01",
            },
        ),
        {"pis[1] (PI 26.5).start"},
    ),
    (
        "metric of unknown team",
        _append("metrics", lambda d: {"team": "Cargo", "name": "Speed"}),
        {"metrics[1] (Cargo/Speed).team"},
    ),
    (
        "decimals out of range",
        _set("metrics.0.decimals", 9),
        {"metrics[0] (Checkout/Checkout conversion).decimals"},
    ),
    (
        "release date impossible",
        _set("releases.0.date", "2026-13-01"),
        {"releases[0] (Checkout/v2.3).date"},
    ),
    (
        "release link not http",
        _set("releases.0.link", "javascript:alert(1)"),
        {"releases[0] (Checkout/v2.3).link"},
    ),
    ("planned business value 11", _set("outcomes.0.planned_bv", 11), {f"{OUTCOME}.planned_bv"}),
    ("actual business value -1", _set("outcomes.0.actual_bv", -1), {f"{OUTCOME}.actual_bv"}),
    ("business value not whole", _set("outcomes.0.planned_bv", 7.5), {f"{OUTCOME}.planned_bv"}),
    ("unknown status", _set("outcomes.0.status", "done"), {f"{OUTCOME}.status"}),
    (
        "outcome of unknown PI (and its check-in)",
        _set("outcomes.0.pi", "PI 99"),
        {"outcomes[0] (PI 99/CHK-1).pi", "checkins[0] (PI 26.4/CHK-1/2026-10-30).outcome"},
    ),
    ("unknown parent", _set("outcomes.0.parent", "PAY-9"), {f"{OUTCOME}.parent"}),
    (
        "baseline equals target",
        _set("outcomes.0.targets.0.target", 2.1),
        {f"{OUTCOME}.targets[0].target"},
    ),
    (
        "baseline not a number",
        _set("outcomes.0.targets.0.baseline", "2.1"),
        {f"{OUTCOME}.targets[0].baseline"},
    ),
    (
        "maintain without a band",
        _set("outcomes.0.targets.0.kind", "maintain"),
        {f"{OUTCOME}.targets[0].band_low", f"{OUTCOME}.targets[0].band_high"},
    ),
    (
        "band upside down",
        lambda d: d["outcomes"][0]["targets"][0].update(
            kind="maintain", band_low=3.0, band_high=2.0
        ),
        {f"{OUTCOME}.targets[0].band_high"},
    ),
    (
        "target of unknown metric",
        _set("outcomes.0.targets.0.metric", "Speed"),
        {f"{OUTCOME}.targets[0].metric"},
    ),
    (
        "kind missing and not inferable",
        lambda d: d["outcomes"][0]["targets"][0].update(kind=None, baseline=None),
        {f"{OUTCOME}.targets[0].kind"},
    ),
    (
        "unknown decision",
        _set("outcomes.0.hypotheses.0.decision", "continue"),
        {f"{OUTCOME}.hypotheses[0].decision"},
    ),
    (
        "unknown verdict override",
        _set("outcomes.0.hypotheses.0.override", "great"),
        {f"{OUTCOME}.hypotheses[0].override"},
    ),
    (
        "unknown effect unit",
        _set("outcomes.0.hypotheses.0.min_effect_unit", "%"),
        {f"{OUTCOME}.hypotheses[0].min_effect_unit"},
    ),
    (
        "release of no team",
        _set("outcomes.0.hypotheses.0.release", "v9"),
        {f"{OUTCOME}.hypotheses[0].release"},
    ),
    ("blank if", _set("outcomes.0.hypotheses.0.if", "  "), {f"{OUTCOME}.hypotheses[0].if"}),
    ("reading value NaN", _set("readings.0.value", float("nan")), {f"{READING}.value"}),
    ("reading value text", _set("readings.0.value", "2,1"), {f"{READING}.value"}),
    ("reading unknown source", _set("readings.0.source", "pigeon"), {f"{READING}.source"}),
    (
        "reading of unknown metric",
        _set("readings.0.metric", "Speed"),
        {"readings[0] (Checkout/Speed/2026-10-05).metric"},
    ),
    (
        "two readings, one date",
        _append("readings", lambda d: {**d["readings"][0], "value": 9.0}),
        {"readings[1] (Checkout/Checkout conversion/2026-10-05).date"},
    ),
    (
        "confidence 11",
        _set("checkins.0.confidence", 11),
        {"checkins[0] (PI 26.4/CHK-1/2026-10-30).confidence"},
    ),
    (
        "check-in of unknown outcome",
        _set("checkins.0.outcome", "CHK-9"),
        {"checkins[0] (PI 26.4/CHK-9/2026-10-30).outcome"},
    ),
]


@pytest.mark.parametrize(
    ("mutate", "wheres"),
    [pytest.param(m, w, id=name) for name, m, w in BAD_DOCUMENTS],
)
def test_bad_document_writes_nothing_and_names_the_record(
    engine: Engine, mutate: Callable[[dict[str, Any]], None], wheres: set[str]
) -> None:
    # Validation reads the document and the stored names only, the same on both
    # databases; test_every_bad_record_is_listed_at_once runs on PostgreSQL as well.
    document = copy.deepcopy(EXAMPLE)
    mutate(document)
    before = _row_counts(engine)

    with pytest.raises(ValidationError) as raised:
        _import(engine, document)

    assert raised.value.fields() == wheres
    assert _row_counts(engine) == before


def test_every_bad_record_is_listed_at_once(engine: Engine) -> None:
    document = copy.deepcopy(EXAMPLE)
    document["teams"][0]["active"] = "yes"
    document["outcomes"][0]["targets"][0]["baseline"] = None
    document["outcomes"][0]["targets"][0]["kind"] = "sideways"
    document["readings"][0]["date"] = "yesterday"
    document["checkins"][0]["confidence"] = 0

    with pytest.raises(ValidationError) as raised:
        _import(engine, document)

    assert raised.value.fields() == {
        "teams[0] (Checkout).active",
        f"{OUTCOME}.targets[0].kind",
        "readings[0] (Checkout/Checkout conversion/yesterday).date",
        "checkins[0] (PI 26.4/CHK-1/2026-10-30).confidence",
    }
    assert _row_counts(engine)["teams"] == 0


def test_a_bad_record_does_not_cascade_into_its_references(engine: Engine) -> None:
    document = copy.deepcopy(EXAMPLE)
    document["outcomes"][0]["title"] = ""  # the check-in still refers to CHK-1

    with pytest.raises(ValidationError) as raised:
        _import(engine, document)

    assert raised.value.fields() == {f"{OUTCOME}.title"}


def test_document_must_be_an_object(engine: Engine) -> None:
    with pytest.raises(ValidationError) as raised:
        _import(engine, [EXAMPLE])
    assert raised.value.fields() == {"document"}


# ---------------------------------------------------------------- access and audit


@pytest.mark.parametrize(
    "actor",
    [
        Actor.anonymous(),
        Actor("vera", "viewer"),
        Actor("ed", "editor", frozenset({1, 2, 3})),
    ],
    ids=["anonymous", "viewer", "editor"],
)
def test_only_an_admin_may_import(engine: Engine, actor: Actor) -> None:
    with pytest.raises(PermissionDenied):
        _import(engine, copy.deepcopy(EXAMPLE), actor=actor)
    assert _row_counts(engine)["teams"] == 0


def test_import_writes_one_audit_event(engine: Engine) -> None:
    _import(engine, copy.deepcopy(FULL))

    with read_session(engine) as session:
        events = session.scalars(select(AuditEvent)).all()
    assert [(e.action, e.entity, e.actor) for e in events] == [
        ("import", "workspace", "test-admin")
    ]
    assert "6 readings" in events[0].summary


# ---------------------------------------------------------------- merging


def test_importing_twice_duplicates_nothing(engine: Engine) -> None:
    _import(engine, copy.deepcopy(FULL))
    counts = _row_counts(engine)

    summary = _import(engine, copy.deepcopy(FULL))

    assert _row_counts(engine) == {**counts, "audit_events": counts["audit_events"] + 1}
    assert not summary.created and not summary.updated and not summary.archived
    assert _export(engine) == FULL


def test_import_into_a_workspace_keeps_what_the_document_does_not_name(engine: Engine) -> None:
    _import(engine, copy.deepcopy(FULL))
    extra = {
        "format": "outcome-board/1",
        "teams": [{"name": "Wallet", "key": "WAL", "train": "Payments"}],
        "metrics": [{"team": "Wallet", "name": "Top-ups"}],
        "readings": [
            # refers to a metric stored before, not named in this document
            {"team": "Checkout", "metric": "Payment errors", "date": "2026-10-07", "value": 12}
        ],
    }

    summary = _import(engine, extra)

    exported = _export(engine)
    assert dict(summary.created) == {"teams": 1, "metrics": 1, "readings": 1}
    assert [t["name"] for t in exported["teams"]] == ["Checkout", "Legacy", "Wallet", "alpha"]
    assert exported["outcomes"] == FULL["outcomes"]
    assert len(exported["readings"]) == len(FULL["readings"]) + 1


def test_merge_updates_by_natural_key_and_audits_overwritten_readings(engine: Engine) -> None:
    _import(engine, copy.deepcopy(EXAMPLE))
    changed = copy.deepcopy(EXAMPLE)
    changed["outcomes"][0]["title"] = "Raise checkout conversion to 2.6%"
    changed["outcomes"][0]["targets"] = []
    changed["readings"][0]["value"] = 2.2

    summary = _import(engine, changed)

    assert summary.updated == {"outcomes": 1, "readings": 1}
    assert summary.archived == {"targets": 1}
    exported = _export(engine)
    assert exported["outcomes"][0]["title"] == "Raise checkout conversion to 2.6%"
    assert exported["outcomes"][0]["targets"][0]["archived"] is True  # soft, restorable
    assert exported["readings"][0]["value"] == 2.2
    with read_session(engine) as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event is not None and event.action == "import"
    assert json.loads(event.before or "{}")["readings_replaced"][0]["value"] == 2.1


def test_team_key_taken_by_another_stored_team_is_refused(engine: Engine) -> None:
    _import(engine, copy.deepcopy(EXAMPLE))
    document = {"format": "outcome-board/1", "teams": [{"name": "Cargo", "key": "CHK"}]}

    with pytest.raises(ValidationError) as raised:
        _import(engine, document)

    assert raised.value.fields() == {"teams[0] (Cargo).key"}


def test_export_names_no_database_ids(engine: Engine) -> None:
    _import(engine, copy.deepcopy(FULL))

    def keys(node: Any) -> set[str]:
        if isinstance(node, dict):
            return set(node) | {k for value in node.values() for k in keys(value)}
        if isinstance(node, list):
            return {k for value in node for k in keys(value)}
        return set()

    assert not {k for k in keys(_export(engine)) if k == "id" or k.endswith("_id")}
