"""Fuzzing every write function (issue 7, reliability 5). Fed valid-ish and hostile
inputs, each call either writes its change with one audit event per changed record, or is
refused: a ValidationError whose every problem names a field of the call, or
PermissionDenied / ConflictError / DuplicateSubmission exactly when the input asks for
them (a role that may not write, a stale version, a used submission key). A refused call
leaves every table, the audit log included, exactly as it was; what an accepted call
stores still passes the workspace importer's rules (export, then validate)."""

from __future__ import annotations

import datetime as dt
import inspect
import math
import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from sqlalchemy import Engine, delete, insert, select, update

from core.access import Actor
from core.changes import (
    Changes,
    HypothesisChanges,
    IterationChanges,
    IterationGoalChanges,
    MetricChanges,
    OutcomeChanges,
    PIChanges,
    ReleaseChanges,
    TargetChanges,
    TeamChanges,
    TrainChanges,
)
from core.errors import ConflictError, PermissionDenied, ValidationError
from core.validate import is_record_id
from db import iterations, readings, users, writes
from db import record as record_save
from db.engine import make_engine, read_session, write_session
from db.models import (
    PI,
    ROLES,
    Base,
    Hypothesis,
    Iteration,
    IterationGoal,
    Metric,
    Outcome,
    Release,
    Target,
    Team,
    Train,
)
from db.record import ReleaseDraft, record_after_release
from db.workspace import export_workspace, validate_workspace
from tests.conftest import postgres_database
from tests.workspace import Builder, checkout_and_search

pytestmark = pytest.mark.slow

# Deterministic (CI reproduces any failure) and modest: about 60 calls per function.
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

DAY = dt.date(2026, 10, 5)
PASSWORD = "correct horse battery"
USED_SUBMISSION_KEY = "form-already-saved"
NOW = dt.datetime(2026, 11, 2, 9, 0, 0)

# --- the seeded workspace, its fingerprint, and putting it back ---------------------

Snapshot = dict[str, dict[Any, dict[str, Any]]]


def fingerprint(engine: Engine) -> Snapshot:
    """Every row of every table (audit events and submission keys included), by key; not
    the data version, which every committed transaction bumps (this test's restores too)."""
    tables: Snapshot = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name == "data_version":
                continue
            key = list(table.primary_key.columns)
            rows: dict[Any, dict[str, Any]] = {}
            for row in connection.execute(select(table).order_by(*key)).mappings():
                pk = row[key[0].name] if len(key) == 1 else tuple(row[c.name] for c in key)
                rows[pk] = dict(row)
            tables[table.name] = rows
    return tables


def restore(engine: Engine, snapshot: Snapshot, current: Snapshot | None = None) -> None:
    """Put back the rows that differ from the snapshot (missing ones first, then changed
    ones, then extra ones go), so each example starts from the same workspace without a
    fresh database, which would cost seconds per example."""
    current = current if current is not None else fingerprint(engine)
    tables = [t for t in Base.metadata.sorted_tables if t.name != "data_version"]
    with write_session(engine) as session:
        for table in tables:
            missing = [
                row for pk, row in snapshot[table.name].items() if pk not in current[table.name]
            ]
            if missing:
                session.execute(insert(table), missing)
        for table in tables:
            key = list(table.primary_key.columns)
            for pk, row in snapshot[table.name].items():
                if pk in current[table.name] and current[table.name][pk] != row:
                    session.execute(
                        update(table).where(*(c == row[c.name] for c in key)).values(row)
                    )
        for table in reversed(tables):
            key = list(table.primary_key.columns)
            for pk, row in current[table.name].items():
                if pk not in snapshot[table.name]:
                    session.execute(delete(table).where(*(c == row[c.name] for c in key)))


@dataclass(frozen=True)
class Seed:
    """A small workspace: the ids of its records by role, who acts, and its fingerprint."""

    engine: Engine
    ids: Mapping[str, int]
    actors: Mapping[str, Actor]
    snapshot: Snapshot
    metric_names: frozenset[str]

    def __repr__(self) -> str:  # hypothesis prints the fixture in every failure
        return f"Seed({self.engine.url.get_backend_name()})"


def build_seed(engine: Engine) -> Seed:
    admin = Actor.system("seed")
    ids: dict[str, int] = {}
    with write_session(engine) as s:
        b = Builder(s, actor=admin)
        train, team, other = checkout_and_search(b)
        train2 = b.train("Logistics")
        pi = b.pi("PI 26.4", DAY, DAY + dt.timedelta(days=74), train=train)
        next_pi = b.pi(
            "PI 27.1", DAY + dt.timedelta(days=91), DAY + dt.timedelta(days=165), train=train
        )
        metric = b.metric(team, "Checkout conversion", unit="%", leading=True)
        metric2 = b.metric(team, "Page load", unit="s")
        other_metric = b.metric(other, "Search success")
        old_metric = b.archive_metric(b.metric(team, "Old metric"))
        release = b.release(team, "v2.3", DAY + dt.timedelta(days=15))
        other_release = b.release(other, "s1", DAY + dt.timedelta(days=20))
        train_outcome = b.outcome(pi, None, "PAY-1", "Grow revenue")
        outcome = b.outcome(
            pi,
            team,
            "CHK-1",
            "Raise checkout conversion",
            planned_bv=8,
            parent_id=train_outcome.id,
            status="active",
        )
        other_outcome = b.outcome(pi, other, "SRC-1", "Find more", planned_bv=5, status="active")
        # A goal, so the export names every kind of record (iterations come with the PI).
        pi_iterations = writes._pi_iterations(s, pi_id=pi.id)
        goal = iterations.create_iteration_goal(
            s,
            actor=admin,
            iteration_id=pi_iterations[0].id,
            team_id=team.id,
            goal="Returning buyers pay in one click",
            outcome_id=outcome.id,
            metric_id=metric.id,
        )
        target = b.target(outcome, metric, baseline=2.1, target=2.6, baseline_date=DAY)
        band_target = b.target(outcome, metric2, kind="maintain", band_low=1.0, band_high=2.0)
        hypothesis = b.hypothesis(
            outcome,
            metric,
            if_text="we offer one-click pay",
            expect_text="more buyers finish checkout",
            release=release,
        )
        open_hypothesis = b.hypothesis(
            outcome,
            metric2,
            if_text="we lazy-load images",
            expect_text="pages load faster",
            direction="decrease",
        )
        b.checkin(outcome, DAY, 7)
        later = b.outcome(next_pi, team, "CHK-9", "Keep pages fast")
        # Its baseline is after PI 26.4 ends: copying it back must not.
        b.target(later, metric2, baseline=1.5, target=1.0, baseline_date=next_pi.start_date)
        entries = [
            writes.ReadingEntry(metric.id, DAY + dt.timedelta(days=7 * week), 2.1 + week / 10)
            for week in range(4)
        ]
        entries.append(writes.ReadingEntry(other_metric.id, DAY, 40.0, "first"))
        writes.record_readings(s, actor=admin, entries=entries)
        writes.claim_submission(s, key=USED_SUBMISSION_KEY)
        for username, role, keys in (
            ("ada", "admin", ()),
            ("edna", "editor", ("CHK",)),
            ("otto", "editor", ("SRC",)),
            ("vera", "viewer", ()),
        ):
            users.create_user(
                s,
                actor=admin,
                username=username,
                role=role,
                team_keys=keys,
                password=PASSWORD,
                email=f"{username}@example.com",
            )
        reading = s.scalars(select(writes.Reading).order_by(writes.Reading.id)).first()
        assert reading is not None
        ids = {
            "train": train.id,
            "train2": train2.id,
            "team": team.id,
            "other_team": other.id,
            "pi": pi.id,
            "next_pi": next_pi.id,
            "metric": metric.id,
            "metric2": metric2.id,
            "other_metric": other_metric.id,
            "old_metric": old_metric.id,
            "release": release.id,
            "other_release": other_release.id,
            "train_outcome": train_outcome.id,
            "outcome": outcome.id,
            "other_outcome": other_outcome.id,
            "target": target.id,
            "band_target": band_target.id,
            "hypothesis": hypothesis.id,
            "open_hypothesis": open_hypothesis.id,
            "reading": reading.id,
            "iteration": pi_iterations[0].id,  # it has Checkout's goal
            "iteration2": pi_iterations[1].id,
            "next_iteration": writes._pi_iterations(s, pi_id=next_pi.id)[-1].id,
            "goal": goal.id,
        }
    with write_session(engine) as s:  # one wrong password short of a lock
        for _ in range(users.MAX_FAILED_SIGN_INS - 1):
            users.authenticate(s, username="vera", password="wrong password", now=NOW)
    actors = {
        "admin": Actor("ada", "admin", display_name="Ada"),
        "editor_own": Actor("edna", "editor", frozenset({team.id})),
        "editor_other": Actor("otto", "editor", frozenset({other.id})),
        "viewer": Actor("vera", "viewer"),
        "anonymous": Actor.anonymous(),
    }
    names = frozenset({"Checkout conversion", "Page load", "Search success", "Old metric"})
    return Seed(engine, ids, actors, fingerprint(engine), names)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    sqlite_template: Path,
    postgres_template: str,
) -> Iterator[Seed]:
    """One seeded database per backend for the whole module (seeding per test would
    cost seconds each): every example puts back what it changed, so tests share it.
    argon2 runs with tiny costs: the same code path, milliseconds instead of 0.13 s."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            path = tmp_path_factory.mktemp("fuzz") / "outcomes.db"
            shutil.copy(sqlite_template, path)
            url = f"sqlite:///{path}"
        else:
            url = stack.enter_context(
                postgres_database("outcomes_fuzz", template=postgres_template)
            )
        engine = make_engine(url)
        patch = stack.enter_context(pytest.MonkeyPatch.context())
        patch.setattr(users, "hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
        yield build_seed(engine)
        engine.dispose()


# --- values: valid-ish ones from the seed, and hostile ones --------------------------


@dataclass(frozen=True)
class Ref:
    """A seeded record by role (resolved to its id at call time), or, for VERSION, the
    stored version of the record the call changes."""

    name: str

    def __repr__(self) -> str:
        return f"Ref({self.name!r})"


VERSION = Ref("version")

HOSTILE_STRINGS = (
    "",
    " ",
    "\t\r\n ",
    "\x00",
    "a\x00b",
    "\ud800",  # a lone surrogate: Python allows it, UTF-8 encoders refuse it
    "ok\udcff",  # what a CLI argument with an invalid UTF-8 byte decodes to
    "\ufeff",
    "\u200b",
    "\u202eevil",
    "\x1b[31mred\x1b[0m",
    "\x1c\x1d\x1e\x1f",
    "x" * 10_000,
    " " * 5_000 + "x",
    "名前",
    "👍🏽" * 200,
    "<script>alert(1)</script>",
    "Robert'); DROP TABLE teams;--",
    "%s%n{0}\\",
    "NULL",
    "2026-10-05",
    "1e3",
    "nan",
)
WRONG_TYPES = (
    None,
    0,
    1,
    -1,
    1.5,
    True,
    False,
    [],
    ["a"],
    {},
    {"a": 1},
    (),
    b"bytes",
    dt.date(2026, 10, 5),
    Decimal("1"),
)
HOSTILE_NUMBERS = (
    math.nan,
    math.inf,
    -math.inf,
    -0.0,
    1e308,
    -1e308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    5e-324,
    2**53 + 1,
    2**31,
    2**63 - 1,
    2**63,
    2**64,
    -(2**63) - 1,
    10**400,
    -(10**400),
    "12",
    " 3 ",
    "1,5",
    "0x10",
    "inf",
    Decimal("NaN"),
    Decimal("sNaN"),
    Decimal("1e400"),
    Fraction(1, 3),
    complex(1, 0),
)
HOSTILE_DATES = (
    dt.date.min,
    dt.date.max,
    dt.datetime(2026, 10, 5, 23, 59),
    "2026-10-05",
    " 2026-10-05\n",
    "2026-02-30",
    "05.10.2026",
    "10/05/2026",
    "20261005",
    "2026-W41-1",
    "yesterday",
    20261005,
    [2026, 10, 5],
)

TEXTS = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.text(max_size=40),
    st.sampled_from(WRONG_TYPES),
)
NUMBERS = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS),
    st.floats(),
    st.integers(),
    st.sampled_from(WRONG_TYPES),
    st.sampled_from(HOSTILE_STRINGS),
)
DATES = st.one_of(st.sampled_from(HOSTILE_DATES), st.dates(), st.sampled_from(WRONG_TYPES), TEXTS)
IDS = st.one_of(
    st.sampled_from((0, -1, 10**6, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30)),
    st.sampled_from(("1", "abc", 1.0, 1.5, math.nan, True, False, [1], {"id": 1}, b"1")),
    st.integers(),
)
BOOLS = st.sampled_from(("false", "true", "", "0", 0, 1, 2, -1.5, math.nan, None, [], [False], {}))


@dataclass(frozen=True)
class Param:
    """One argument: values a form would send, and hostile ones; optional ones may be
    left out of a call."""

    valid: SearchStrategy[Any]
    hostile: SearchStrategy[Any]
    optional: bool = False


def text(*samples: str, optional: bool = False, blank_ok: bool = False) -> Param:
    words = st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=30
    ).filter(lambda s: blank_ok or s.strip())
    return Param(st.one_of(st.sampled_from(samples), words), TEXTS, optional)


def ref(*names: str, optional: bool = False, none: bool = False) -> Param:
    choices: list[Any] = [Ref(n) for n in names]
    if none:
        choices.append(None)
    return Param(st.sampled_from(choices), IDS, optional)


def whole(low: int, high: int, *, optional: bool = False, none: bool = False) -> Param:
    valid = st.integers(low - 1, high + 1)
    return Param(st.one_of(valid, st.none()) if none else valid, NUMBERS, optional)


def number(*, optional: bool = False, none: bool = True) -> Param:
    valid = st.one_of(
        st.floats(-1e6, 1e6, allow_nan=False), st.integers(-1000, 1000), st.sampled_from((0.0,))
    )
    return Param(st.one_of(valid, st.none()) if none else valid, NUMBERS, optional)


def day(*, optional: bool = False, none: bool = False) -> Param:
    valid = st.dates(dt.date(2025, 6, 1), dt.date(2027, 12, 31))
    return Param(st.one_of(valid, st.none()) if none else valid, DATES, optional)


def flag(*, optional: bool = True) -> Param:
    return Param(st.booleans(), BOOLS, optional)


def choice(options: tuple[str, ...], *, optional: bool = False, none: bool = False) -> Param:
    valid = st.sampled_from((*options, None) if none else options)
    near = st.sampled_from((*(o.upper() for o in options), *(f" {o}" for o in options)))
    return Param(valid, st.one_of(near, TEXTS), optional)


def version() -> Param:
    return Param(
        st.sampled_from((None, VERSION)),
        st.sampled_from((0, 99, -1, 2**63, "1", 1.0, 2.0, True, math.nan, [1], {})),
    )


def submission_key() -> Param:
    return Param(
        st.sampled_from((None, "form-1", "form-2", USED_SUBMISSION_KEY)),
        st.one_of(TEXTS, st.just("k" * 65)),
        optional=True,
    )


def entries() -> Param:
    """Readings as a form or a file would give them: a ReadingEntry per row."""
    metrics = st.sampled_from([Ref("metric"), Ref("metric2"), Ref("other_metric")])
    reading = st.builds(
        writes.ReadingEntry,
        metric_id=metrics,
        date=st.dates(DAY - dt.timedelta(days=30), DAY + dt.timedelta(days=60)),
        value=st.floats(-1e6, 1e6, allow_nan=False),
        note=st.sampled_from(("", "after v2.3", "first")),
    )
    hostile_reading = st.builds(
        writes.ReadingEntry,
        metric_id=st.one_of(metrics, st.sampled_from([Ref("old_metric")]), IDS),
        date=st.one_of(st.dates(DAY, DAY + dt.timedelta(days=21)), DATES),
        value=st.one_of(st.floats(-10, 10), NUMBERS),
        note=st.one_of(st.just(""), TEXTS),
    )
    return Param(
        st.lists(reading, max_size=4),
        st.lists(st.one_of(reading, hostile_reading), min_size=1, max_size=5),
    )


def release_drafts() -> Param:
    """The Record form's release part as typed: none, empty (readings only), or a release
    with its notes, link and the hypotheses it ships; hostile fields one at a time or all."""
    hypotheses = st.lists(st.sampled_from([Ref("hypothesis"), Ref("open_hypothesis")]), max_size=2)
    valid = st.builds(
        ReleaseDraft,
        name=st.sampled_from(("", "v2.4", "v2.3", "v3.0")),
        date=st.one_of(st.none(), st.dates(DAY - dt.timedelta(days=7), DAY + dt.timedelta(days=7))),
        notes=st.sampled_from(("", "faster")),
        link=st.sampled_from(("", "https://example.com/r")),
        hypothesis_ids=hypotheses,
    )
    hostile = st.builds(
        ReleaseDraft,
        name=st.one_of(st.sampled_from(("", " ", "v2.4")), TEXTS),
        date=st.one_of(st.none(), DATES),
        notes=st.one_of(st.just(""), TEXTS),
        link=st.one_of(st.sampled_from(("", "http:example", "ftp://x")), TEXTS),
        hypothesis_ids=st.one_of(
            hypotheses, st.lists(IDS, max_size=3), st.sampled_from((None, "1", 5, {1: 2}))
        ),
    )
    return Param(st.one_of(st.none(), valid), hostile)


def team_keys(*, optional: bool = True) -> Param:
    valid = st.lists(st.sampled_from(("CHK", "chk", " SRC ", "NOPE")), max_size=3)
    hostile = st.one_of(
        st.lists(TEXTS, max_size=3), st.sampled_from(("CHK", None, 5, {"CHK": 1}, [["CHK"]]))
    )
    return Param(valid, hostile, optional)


# --- the table of write functions and their arguments --------------------------------


@dataclass(frozen=True)
class Spec:
    """How to fuzz one write function: its arguments (`params`), the fields it accepts as
    keyword changes (`changes`), the stored record an update targets, and the names
    (beyond the arguments) its problems may use."""

    function: Callable[..., Any]
    params: Mapping[str, Param]
    changes: Mapping[str, Param] | None = None
    record: tuple[type[Base], str] | None = None  # model and id argument of an update
    also_named: frozenset[str] = frozenset()


ALIASES = {
    "if_text": "if",
    "expect_text": "expect",
    "because_text": "because",
    "reason": "override_reason",
    "hypothesis_ids": "hypotheses",
    "team_keys": "team",
}

OUTCOME_CHANGES = {
    "key": text("CHK-2", "CHK-1", "PAY-1", "chk.3"),
    "title": text("Raise it", "Build a thing"),
    "why": text("because", optional=True, blank_ok=True),
    "owner": text("Ada", blank_ok=True),
    "committed": flag(),
    "planned_bv": whole(1, 10, none=True),
    "parent_id": ref("train_outcome", "outcome", "other_outcome", none=True),
    "status": choice(("draft", "active", "closed", "archived")),
    "team_id": ref("team", "other_team", none=True),
}
TARGET_CHANGES = {
    "metric_id": ref("metric", "metric2", "other_metric", "old_metric"),
    "baseline": number(),
    "baseline_date": day(none=True),
    "target": number(),
    "target_date": day(none=True),
    "kind": choice(("increase", "decrease", "maintain"), none=True),
    "band_low": number(),
    "band_high": number(),
    "archived": flag(),
}
HYPOTHESIS_CHANGES = {
    "metric_id": ref("metric", "metric2", "other_metric"),
    "if_text": text("we add one-click pay"),
    "expect_text": text("more finish"),
    "because_text": text("it is short", blank_ok=True),
    "direction": choice(("increase", "decrease")),
    "min_effect": number(none=False),
    "min_effect_unit": choice(("absolute", "percent")),
    "release_id": ref("release", "other_release", none=True),
    "window_days": whole(1, 366),
    "learning": text("it worked", blank_ok=True),
    "decision": choice(("persevere", "pivot", "stop"), none=True),
    "archived": flag(),
}

MET = Param(st.sampled_from((None, True, False)), BOOLS, optional=True)
ITERATIONS = ("iteration", "iteration2", "next_iteration")
GOAL_CHANGES = {
    "goal": text("Buyers pay in one step", "Build a button"),
    "outcome_id": ref("outcome", "other_outcome", "train_outcome"),
    "metric_id": ref("metric", "other_metric", "old_metric", none=True),
    "met": MET,
}

SPECS: dict[str, Spec] = {
    "generate_iterations": Spec(
        iterations.generate_iterations,
        {
            "pi_id": ref("pi", "next_pi"),
            "length_days": whole(1, 366, optional=True),
            "submission_key": submission_key(),
        },
    ),
    "create_iteration": Spec(
        iterations.create_iteration,
        {
            "pi_id": ref("pi", "next_pi"),
            "name": text("IP", "I1", " I9 "),
            "start_date": day(),
            "end_date": day(),
            "submission_key": submission_key(),
        },
    ),
    "update_iteration": Spec(
        iterations.update_iteration,
        {
            "iteration_id": ref(*ITERATIONS),
            "expected_version": version(),
            "submission_key": submission_key(),
        },
        changes={"name": text("IP", "I2"), "start_date": day(), "end_date": day()},
        record=(Iteration, "iteration_id"),
    ),
    "delete_iteration": Spec(
        iterations.delete_iteration,
        {
            "iteration_id": ref(*ITERATIONS),
            "expected_version": version(),
            "submission_key": submission_key(),
        },
        record=(Iteration, "iteration_id"),
    ),
    "create_iteration_goal": Spec(
        iterations.create_iteration_goal,
        {
            "iteration_id": ref(*ITERATIONS),
            "team_id": ref("team", "other_team"),
            "goal": GOAL_CHANGES["goal"],
            "outcome_id": GOAL_CHANGES["outcome_id"],
            "metric_id": ref("metric", "other_metric", "old_metric", none=True, optional=True),
            "met": MET,
            "today": day(optional=True),
            "submission_key": submission_key(),
        },
    ),
    "update_iteration_goal": Spec(
        iterations.update_iteration_goal,
        {
            "goal_id": ref("goal"),
            "expected_version": version(),
            "today": day(optional=True),
            "submission_key": submission_key(),
        },
        changes=GOAL_CHANGES,
        record=(IterationGoal, "goal_id"),
        also_named=frozenset({"iteration_goal"}),
    ),
    "create_train": Spec(
        writes.create_train,
        {"name": text("Mobile", "Payments", " Data "), "submission_key": submission_key()},
    ),
    "update_train": Spec(
        writes.update_train,
        {
            "train_id": ref("train", "train2"),
            "expected_version": version(),
            "submission_key": submission_key(),
        },
        changes={"name": text("Renamed", "Logistics"), "archived": flag()},
        record=(Train, "train_id"),
    ),
    "create_team": Spec(
        writes.create_team,
        {
            "name": text("Mobile", "Checkout"),
            "key": text("MOB", "chk", "SRC", "a-b_c"),
            "train_id": ref("train", "train2", none=True, optional=True),
            "active": flag(),
            "submission_key": submission_key(),
        },
    ),
    "update_team": Spec(
        writes.update_team,
        {
            "team_id": ref("team", "other_team"),
            "expected_version": version(),
            "submission_key": submission_key(),
        },
        changes={
            "name": text("Checkout 2", "Search"),
            "key": text("CHK2", "SRC"),
            "train_id": ref("train", "train2", none=True),
            "active": flag(),
        },
        record=(Team, "team_id"),
    ),
    "create_pi": Spec(
        writes.create_pi,
        {
            "name": text("PI 27.2", "PI 26.4"),
            "start_date": day(),
            "end_date": day(),
            "train_id": ref("train", "train2", none=True, optional=True),
            "submission_key": submission_key(),
        },
    ),
    "update_pi": Spec(
        writes.update_pi,
        {
            "pi_id": ref("pi", "next_pi"),
            "expected_version": version(),
            "submission_key": submission_key(),
        },
        changes={
            "name": text("PI 26.4b", "PI 27.1"),
            "train_id": ref("train", "train2", none=True),
            "start_date": day(),
            "end_date": day(),
        },
        record=(PI, "pi_id"),
    ),
    "create_metric": Spec(
        writes.create_metric,
        {
            "team_id": ref("team", "other_team"),
            "name": text("Latency", "Checkout conversion"),
            "unit": text("%", "ms", optional=True, blank_ok=True),
            "description": text("How fast", optional=True, blank_ok=True),
            "source": text("warehouse", optional=True, blank_ok=True),
            "update_interval_days": whole(1, 366, optional=True),
            "decimals": whole(0, 6, optional=True),
            "leading": flag(),
            "submission_key": submission_key(),
        },
    ),
    "update_metric": Spec(
        writes.update_metric,
        {
            "metric_id": ref("metric", "metric2", "other_metric", "old_metric"),
            "expected_version": version(),
            "submission_key": submission_key(),
        },
        changes={
            "name": text("Latency", "Page load"),
            "unit": text("%", "ms", blank_ok=True),
            "description": text("How fast", blank_ok=True),
            "source": text("warehouse", blank_ok=True),
            "update_interval_days": whole(1, 366),
            "decimals": whole(0, 6),
            "leading": flag(),
            "archived": flag(),
        },
        record=(Metric, "metric_id"),
    ),
    "create_release": Spec(
        writes.create_release,
        {
            "team_id": ref("team", "other_team"),
            "name": text("v2.4", "v2.3"),
            "date": day(),
            "notes": text("faster", optional=True, blank_ok=True),
            "link": text("https://example.com/r", "http:example", "ftp://x", optional=True),
            "hypothesis_ids": Param(
                st.lists(st.sampled_from([Ref("hypothesis"), Ref("open_hypothesis")]), max_size=2),
                st.one_of(st.lists(IDS, max_size=3), st.sampled_from((None, "1", 5, {1: 2}))),
                optional=True,
            ),
            "submission_key": submission_key(),
        },
    ),
    "update_release": Spec(
        writes.update_release,
        {
            "release_id": ref("release", "other_release"),
            "expected_version": version(),
            "submission_key": submission_key(),
        },
        changes={
            "name": text("v2.3.1", "v2.3"),
            "date": day(),
            "notes": text("n", blank_ok=True),
            "link": text("https://example.com/r", "http:example", "ftp://x", blank_ok=True),
            "archived": flag(),
        },
        record=(Release, "release_id"),
    ),
    "create_outcome": Spec(
        writes.create_outcome,
        {
            "pi_id": ref("pi", "next_pi"),
            "team_id": ref("team", "other_team", none=True),
            "key": text("CHK-2", "CHK-1", "x y"),
            "title": text("Cut latency", "Build the app"),
            "why": text("users wait", optional=True, blank_ok=True),
            "owner": text("Ada", optional=True, blank_ok=True),
            "committed": flag(),
            "planned_bv": whole(1, 10, none=True, optional=True),
            "parent_id": ref("train_outcome", "outcome", none=True, optional=True),
            "status": choice(("draft", "active", "closed", "archived"), optional=True),
            "submission_key": submission_key(),
        },
    ),
    "update_outcome": Spec(
        writes.update_outcome,
        {
            "outcome_id": ref("outcome", "train_outcome", "other_outcome"),
            "expected_version": version(),
            "submission_key": submission_key(),
        },
        changes=OUTCOME_CHANGES,
        record=(Outcome, "outcome_id"),
    ),
    "archive_release": Spec(
        writes.archive_release,
        {
            "release_id": ref("release", "other_release"),
            "expected_version": version(),
            "archived": flag(),
            "submission_key": submission_key(),
        },
        record=(Release, "release_id"),
    ),
    "archive_outcome": Spec(
        writes.archive_outcome,
        {
            "outcome_id": ref("outcome", "train_outcome", "other_outcome"),
            "expected_version": version(),
            "submission_key": submission_key(),
        },
        record=(Outcome, "outcome_id"),
        also_named=frozenset({"status"}),
    ),
    "score_outcome": Spec(
        writes.score_outcome,
        {
            "outcome_id": ref("outcome", "train_outcome", "other_outcome"),
            "actual_bv": whole(0, 10, none=True),
            "expected_version": version(),
            "submission_key": submission_key(),
        },
        record=(Outcome, "outcome_id"),
    ),
    "add_target": Spec(
        writes.add_target,
        {
            "outcome_id": ref("outcome", "train_outcome", "other_outcome"),
            **{
                name: replace(param, optional=name != "metric_id")
                for name, param in TARGET_CHANGES.items()
                if name != "archived"
            },
            "submission_key": submission_key(),
        },
    ),
    "update_target": Spec(
        writes.update_target,
        {
            "target_id": ref("target", "band_target"),
            "expected_version": version(),
            "submission_key": submission_key(),
        },
        changes=TARGET_CHANGES,
        record=(Target, "target_id"),
    ),
    "add_hypothesis": Spec(
        writes.add_hypothesis,
        {
            "outcome_id": ref("outcome", "train_outcome", "other_outcome"),
            **{
                name: replace(param, optional=name not in ("metric_id", "if_text", "expect_text"))
                for name, param in HYPOTHESIS_CHANGES.items()
                if name not in ("learning", "decision", "archived")
            },
            "submission_key": submission_key(),
        },
    ),
    "update_hypothesis": Spec(
        writes.update_hypothesis,
        {
            "hypothesis_id": ref("hypothesis", "open_hypothesis"),
            "expected_version": version(),
            "submission_key": submission_key(),
        },
        changes=HYPOTHESIS_CHANGES,
        record=(Hypothesis, "hypothesis_id"),
    ),
    "override_verdict": Spec(
        writes.override_verdict,
        {
            "hypothesis_id": ref("hypothesis", "open_hypothesis"),
            "expected_version": version(),
            "override": choice(("supported", "refuted", "inconclusive"), none=True),
            "reason": text("seen in interviews", blank_ok=True),
            "submission_key": submission_key(),
        },
        record=(Hypothesis, "hypothesis_id"),
    ),
    "add_checkin": Spec(
        writes.add_checkin,
        {
            "outcome_id": ref("outcome", "train_outcome", "other_outcome"),
            "confidence": whole(1, 10),
            "comment": text("on track", optional=True, blank_ok=True),
            "date": day(optional=True, none=True),
            "submission_key": submission_key(),
        },
    ),
    "copy_to_next_pi": Spec(
        writes.copy_to_next_pi,
        {
            "from_pi_id": ref("pi", "next_pi"),
            "to_pi_id": ref("next_pi", "pi"),
            "team_id": ref("team", "other_team", none=True, optional=True),
            "submission_key": submission_key(),
        },
    ),
    "record_readings": Spec(
        writes.record_readings,
        {
            "entries": entries(),
            "replace": flag(),
            "source": choice(("form", "bulk", "import", "cli"), optional=True),
            "submission_key": submission_key(),
        },
    ),
    "record_after_release": Spec(
        record_after_release,
        {
            "team_id": ref("team", "other_team"),
            "release": release_drafts(),
            "entries": entries(),
            "replace": flag(),
            "source": choice(("form", "bulk", "import", "cli"), optional=True),
            "submission_key": submission_key(),
        },
        # The release's fields by their names on the form, and "readings" when nothing
        # at all was given.
        also_named=frozenset({"name", "date", "notes", "link", "hypotheses", "readings"}),
    ),
    "delete_reading": Spec(
        writes.delete_reading,
        {"reading_id": ref("reading"), "submission_key": submission_key()},
    ),
    "create_user": Spec(
        users.create_user,
        {
            "username": text("nina", "ada", "ADA", "a.b@c+d"),
            "role": choice(ROLES),
            "team_keys": team_keys(),
            "password": text(PASSWORD, "short", optional=True),
            "display_name": text("Nina", optional=True, blank_ok=True),
            "email": text("nina@example.com", "ada@example.com", "not-an-email", optional=True),
            "submission_key": submission_key(),
        },
    ),
    "update_user": Spec(
        users.update_user,
        {
            "username": text("edna", "ada", "ADA", "nobody"),
            "role": choice(ROLES, optional=True, none=True),
            "team_keys": team_keys(),
            "display_name": text("Edna", optional=True, blank_ok=True),
            "email": text("e@example.com", "ada@example.com", "", optional=True, blank_ok=True),
            "active": Param(st.sampled_from((True, False, None)), BOOLS, optional=True),
            "submission_key": submission_key(),
        },
    ),
    "set_password": Spec(
        users.set_password,
        {
            "username": text("edna", "vera", "nobody"),
            "password": text(PASSWORD, "short"),
            "submission_key": submission_key(),
        },
    ),
}


def public_writes() -> set[str]:
    """Every public function of the write modules that acts for a user."""
    return {
        name
        for module in (writes, users, iterations, readings, record_save)
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__
        and not name.startswith("_")
        and "actor" in inspect.signature(function).parameters
        # The file imports' paths, fuzzed through the parser in tests/db/test_readings*.
        and name not in ("write_plan", "import_readings", "import_reading_file")
    }


def test_every_write_function_is_fuzzed() -> None:
    assert public_writes() == set(SPECS), "a write function without a fuzz (or a stale one)"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_argument_is_fuzzed(name: str) -> None:
    spec = SPECS[name]
    parameters = inspect.signature(spec.function).parameters
    named = {
        p
        for p, info in parameters.items()
        if p not in ("session", "actor", "changes")
        and info.kind is not inspect.Parameter.VAR_KEYWORD
    }
    assert set(spec.params) == named
    # Changed fields come as keywords or as one change object (core/changes.py).
    takes_changes = "changes" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )
    assert (spec.changes is not None) == takes_changes


# --- one call, and what must hold after it --------------------------------------------


@st.composite
def calls(draw: st.DrawFn, spec: Spec) -> dict[str, Any]:
    """The keyword arguments of one call: valid-ish values, up to three of them hostile,
    and (for updates) a few changed fields, sometimes one the function does not know."""
    chosen: dict[str, Param] = {
        name: param
        for name, param in spec.params.items()
        if not (param.optional and draw(st.booleans()))
    }
    if spec.changes:
        picked = draw(st.lists(st.sampled_from(sorted(spec.changes)), unique=True, max_size=4))
        chosen.update({name: spec.changes[name] for name in picked})
    kwargs: dict[str, Any] = {name: draw(param.valid) for name, param in chosen.items()}
    if chosen:
        for name in draw(st.lists(st.sampled_from(sorted(chosen)), unique=True, max_size=3)):
            kwargs[name] = draw(chosen[name].hostile)
    if spec.changes is not None and draw(st.integers(0, 7)) == 0:
        unknown = draw(st.sampled_from(("id", "version", "pi_id", "position", "created", "é")))
        if unknown not in spec.params and unknown not in spec.changes:
            kwargs[unknown] = draw(TEXTS)
    actor = draw(st.sampled_from(("admin",) * 5 + ("editor_own", "editor_other", "viewer")))
    return {"actor": actor, **kwargs}


def resolve(value: Any, seed: Seed) -> Any:
    if isinstance(value, Ref) and value != VERSION:
        return seed.ids[value.name]
    if isinstance(value, writes.ReadingEntry):
        return replace(value, metric_id=resolve(value.metric_id, seed))
    if isinstance(value, ReleaseDraft) and isinstance(value.hypothesis_ids, list):
        return replace(value, hypothesis_ids=resolve(value.hypothesis_ids, seed))
    if isinstance(value, list):
        return [resolve(v, seed) for v in value]
    return value


def stored_version(engine: Engine, spec: Spec, kwargs: Mapping[str, Any]) -> int | None:
    assert spec.record is not None
    model, id_argument = spec.record
    record_id = kwargs.get(id_argument)
    if not is_record_id(record_id):
        return 1
    with read_session(engine) as session:
        record = session.get(model, record_id)
        return record.version if record is not None else 1  # type: ignore[attr-defined]


def where_names(name: str, spec: Spec, kwargs: Mapping[str, Any]) -> set[str]:
    """The names a problem of this call may give: its arguments, the fields it changes,
    and their spellings in the product's words (`team` for `team_id`, `if` for if_text)."""
    names = {*spec.params, *(spec.changes or {}), *kwargs, *spec.also_named}
    for argument in list(names):
        names.add(ALIASES.get(argument, argument))
        if argument.endswith("_id"):
            names.add(argument[: -len("_id")])
    return names - {"actor"}


def names_a_field(where: str, name: str, spec: Spec, kwargs: Mapping[str, Any], seed: Seed) -> bool:
    if where in where_names(name, spec, kwargs):
        return True
    if name in ("record_readings", "record_after_release"):
        # A row is named by its metric (or its position when the metric is unknown),
        # then the field: "Page load: value", "readings[2]", "Page load on 2026-10-05".
        row = r"(readings\[\d+\]|" + "|".join(re.escape(m) for m in seed.metric_names) + ")"
        return (
            re.fullmatch(row + r"(: (value|date|note)| on \d{4}-\d{2}-\d{2})?", where) is not None
        )
    return False


@dataclass
class Attempt:
    kwargs: dict[str, Any]
    actor: Actor
    error: Exception | None
    before: Snapshot
    after: Snapshot


CHANGE_TYPES: dict[str, type[Changes]] = {
    "update_train": TrainChanges,
    "update_team": TeamChanges,
    "update_pi": PIChanges,
    "update_metric": MetricChanges,
    "update_release": ReleaseChanges,
    "update_outcome": OutcomeChanges,
    "update_target": TargetChanges,
    "update_hypothesis": HypothesisChanges,
    "update_iteration": IterationChanges,
    "update_iteration_goal": IterationGoalChanges,
}


def typed_changes(name: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The update writes take their changed fields as one change object: the drawn
    fields go into it (an unknown one is refused there, as a ValidationError)."""
    kind = CHANGE_TYPES.get(name)
    if kind is None:
        return dict(kwargs)
    # Every argument the write names itself (ids, version, key, today) stays one; the
    # drawn rest are the changes.
    fixed = set(inspect.signature(SPECS[name].function).parameters) - {"changes"}
    changes = {k: v for k, v in kwargs.items() if k not in fixed}
    return {k: v for k, v in kwargs.items() if k in fixed} | {"changes": kind.of(changes)}


def attempt(engine: Engine, seed: Seed, name: str, drawn: Mapping[str, Any]) -> Attempt:
    """Make the call in its own write transaction; return what it raised (one of the
    expected refusals) and the workspace before and after. Any other exception escapes
    (that is the bug). The workspace is put back afterwards either way."""
    spec = SPECS[name]
    actor = seed.actors[drawn["actor"]]
    kwargs = {k: resolve(v, seed) for k, v in drawn.items() if k != "actor"}
    if kwargs.get("expected_version") == VERSION:
        kwargs["expected_version"] = stored_version(engine, spec, kwargs)
    after: Snapshot | None = None
    error: Exception | None = None
    try:
        try:
            with write_session(engine) as session:
                spec.function(session, actor=actor, **typed_changes(name, kwargs))
        except (ValidationError, PermissionDenied, ConflictError, writes.DuplicateSubmission) as e:
            error = e
        after = fingerprint(engine)
        if error is None and after != seed.snapshot:
            assert_still_importable(engine)
    finally:
        if after != seed.snapshot:
            restore(engine, seed.snapshot, after)
    return Attempt(kwargs, actor, error, seed.snapshot, after)


def assert_still_importable(engine: Engine) -> None:
    """What the write path stored passes the rules the workspace importer checks: the
    two validators agree, and an export can always be imported again."""
    with read_session(engine) as session:
        document = export_workspace(session)
        try:
            validate_workspace(session, document=document)
        except ValidationError as error:
            pytest.fail(f"the write stored data the importer refuses: {error}")


ENTITY_TABLES = {
    "train": "trains",
    "team": "teams",
    "pi": "pis",
    "metric": "metrics",
    "release": "releases",
    "outcome": "outcomes",
    "target": "targets",
    "hypothesis": "hypotheses",
    "checkin": "checkins",
    "reading": "readings",
    "user": "users",
    "iteration": "iterations",
    "iteration_goal": "iteration_goals",
}


def changed_rows(before: Snapshot, after: Snapshot) -> dict[str, set[Any]]:
    return {
        table: {
            pk
            for pk in before[table].keys() | after[table].keys()
            if before[table].get(pk) != after[table].get(pk)
        }
        for table in before
    }


def assert_audited(before: Snapshot, after: Snapshot, actor: Actor) -> None:
    """An accepted call changed records and added one audit event per changed record, by
    its actor; nothing else changed and no earlier audit event was touched."""
    changed = changed_rows(before, after)
    audit = changed.pop("audit_events")
    changed.pop("submission_keys")
    assert audit <= after["audit_events"].keys() - before["audit_events"].keys()
    events = [after["audit_events"][pk] for pk in audit]
    assert {e["actor"] for e in events} <= {actor.username}
    covered = {(ENTITY_TABLES[e["entity"]], e["entity_id"]) for e in events}
    for table, rows in changed.items():
        for pk in rows:
            if table == "user_teams":
                assert ("users", pk[0]) in covered, (table, pk)
            else:
                assert (table, pk) in covered or (
                    table == "readings"
                    and None in {entity_id for t, entity_id in covered if t == "readings"}
                ), f"{table} {pk} changed without its audit event"
    for table, entity_id in covered:
        if entity_id is None:
            assert changed[table], f"an audit event for {table} that changed nothing"
        elif table == "users":
            assert entity_id in changed["users"] or any(
                pk[0] == entity_id for pk in changed["user_teams"]
            )
        else:
            assert entity_id in changed[table], f"audit event for {table} {entity_id}: no change"
    for table, rows in changed.items():
        for pk in rows:
            old, new = before[table].get(pk), after[table].get(pk)
            if new is not None and "version" in new and table != "users":
                assert new["version"] == (old["version"] + 1 if old else 1), (table, pk)


def check(engine: Engine, seed: Seed, name: str, drawn: Mapping[str, Any]) -> None:
    spec = SPECS[name]
    result = attempt(engine, seed, name, drawn)
    error, kwargs, actor = result.error, result.kwargs, result.actor
    if error is None:
        assert_audited(result.before, result.after, actor)
        return
    assert result.after == result.before, f"{type(error).__name__} but something was written"
    if isinstance(error, ValidationError):
        assert error.problems
        for problem in error.problems:
            assert names_a_field(problem.where, name, spec, kwargs, seed), (
                f"{problem.where!r} is no field of {name}: {problem}"
            )
            assert not problem.message.startswith("the database refused"), (
                f"the database, not the validator, caught {problem}"
            )
    elif isinstance(error, PermissionDenied):
        assert actor.role != "admin", f"an admin was refused: {error}"
    elif isinstance(error, ConflictError):
        version = kwargs.get("expected_version")
        assert type(version) is int and version != stored_version(engine, spec, kwargs), (
            f"a conflict with expected_version={version!r}"
        )
    else:
        assert kwargs.get("submission_key") == USED_SUBMISSION_KEY, error


def fuzz(name: str, *examples: dict[str, Any]) -> Callable[[Seed], None]:
    """A test that makes FUZZ's number of calls of one write function, the examples a
    former fuzz found first."""

    def test(seeded: Seed) -> None:
        @FUZZ
        @given(drawn=calls(SPECS[name]))
        def run(drawn: dict[str, Any]) -> None:
            check(seeded.engine, seeded, name, drawn)

        for kwargs in examples:
            run = example(drawn=kwargs)(run)
        run()

    test.__name__ = f"test_{name}_writes_once_or_refuses_cleanly"
    test.examples = examples  # type: ignore[attr-defined]
    return test


def admin(**kwargs: Any) -> dict[str, Any]:
    return {"actor": "admin", **kwargs}


def entry(
    metric: Any = Ref("metric"),
    date: Any = DAY + dt.timedelta(days=1),
    value: Any = 2.0,
    note: Any = "",
) -> Any:
    return writes.ReadingEntry(metric, date, value, note)


# Each example is a call that crashed, stored something the importer refuses, or was
# refused with an unnamed problem, found by a fuzz run or while writing this fuzz (fixed
# since). Ids beyond 32 bits broke PostgreSQL, beyond 64 bits SQLite; a lone
# surrogate breaks both drivers, a NUL character PostgreSQL.
test_create_train = fuzz(
    "create_train", admin(name="\ud800"), admin(name="a\x00b"), admin(name="ok\udcff")
)
test_update_train = fuzz(
    "update_train",
    admin(train_id=Ref("train"), expected_version="1"),  # TypeError comparing versions
    admin(train_id=Ref("train"), expected_version=[1]),
    admin(train_id=Ref("train"), expected_version=2.0),  # a float was a conflict
    admin(train_id=2**63, expected_version=None),
)
test_create_team = fuzz("create_team", admin(name="Mobile", key="MOB", train_id=2**31))
test_update_team = fuzz(  # a train that does not exist got as far as the foreign key
    "update_team", admin(team_id=Ref("other_team"), expected_version=None, train_id=8328)
)
test_create_pi = fuzz(
    "create_pi",
    admin(name="PI 9", start_date=dt.date(2030, 1, 1), end_date=dt.date(2030, 3, 1), train_id=[1]),
)
test_update_pi = fuzz(
    "update_pi", admin(pi_id=Ref("next_pi"), expected_version=VERSION, train_id=-1316)
)
test_create_metric = fuzz(
    "create_metric", admin(team_id=2**64, name="Latency"), admin(team_id=2**31, name="Latency")
)
test_update_metric = fuzz(
    "update_metric",
    admin(metric_id=[1], expected_version={}),
    admin(metric_id=2**64, expected_version=None),
)
test_create_release = fuzz(
    "create_release",
    admin(team_id=Ref("team"), name="v2.4", date=DAY, link="http:example"),
    {"actor": "editor_own", "team_id": [1], "name": "v2.4", "date": DAY},  # unhashable team
    admin(team_id=Ref("team"), name="v2.4", date=DAY, hypothesis_ids=[[1]]),
)
test_update_release = fuzz(
    "update_release",
    admin(release_id=Ref("release"), expected_version=None, link="http:example"),
    admin(release_id="1", expected_version=[1]),
)
test_create_outcome = fuzz(
    "create_outcome",
    admin(pi_id=[1], team_id=None, key="CHK-2", title="Cut latency"),
    admin(pi_id=Ref("next_pi"), team_id=2**31, key="CHK-2", title="Cut latency"),
    admin(pi_id=Ref("pi"), team_id=None, key="T-2", title="Grow", parent_id=2**64),
)
test_update_outcome = fuzz(
    "update_outcome",
    # moved to a team whose metrics its targets do not use: the export no longer imported
    admin(outcome_id=Ref("outcome"), expected_version=None, team_id=Ref("other_team")),
    # a parent outcome given a team: its contributing outcomes' parent was no longer
    # train-level
    admin(outcome_id=Ref("train_outcome"), expected_version=None, team_id=Ref("team")),
    admin(outcome_id=Ref("other_outcome"), expected_version=None, parent_id=2**64),
    # refused, but the key still went into the "already used?" lookup: a crash
    admin(outcome_id=Ref("outcome"), expected_version=0, key="\ud800"),
    admin(outcome_id=Ref("outcome"), expected_version=None, key="a\x00b"),
)
test_archive_release = fuzz(
    "archive_release",
    admin(release_id=Ref("release"), expected_version="1", archived=1),
    admin(release_id=Ref("other_release"), expected_version=None, archived=False),
)
test_archive_outcome = fuzz(
    "archive_outcome",
    admin(outcome_id=Ref("outcome"), expected_version="1"),
    admin(outcome_id={"id": 1}, expected_version=2.0),
)
test_score_outcome = fuzz(
    "score_outcome",
    admin(outcome_id=Ref("train_outcome"), actual_bv=None, expected_version=math.nan),
    admin(outcome_id=-(2**63) - 1, actual_bv=5e-324, expected_version=99),
    admin(outcome_id=Ref("outcome"), actual_bv=10**400, expected_version=None),
)
test_add_target = fuzz(
    "add_target",
    admin(outcome_id={"id": 1}, metric_id=Ref("metric2"), band_low=-math.inf),
    admin(outcome_id=Ref("outcome"), metric_id=10**30, baseline=1.0, target=2.0),
    admin(  # past the column's FINITE check: "the database refused this target"
        outcome_id=Ref("train_outcome"),
        metric_id=Ref("metric"),
        baseline=1.0,
        target=1.7e308,
        kind="increase",
    ),
)
test_update_target = fuzz(  # the unique (outcome, metric) failure was reported at "name"
    "update_target", admin(target_id=Ref("target"), expected_version=None, metric_id=Ref("metric2"))
)
test_add_hypothesis = fuzz(
    "add_hypothesis",
    admin(outcome_id=Ref("outcome"), metric_id=-(2**63) - 1, if_text="x", expect_text="y"),
    admin(
        outcome_id=Ref("train_outcome"),
        metric_id=Ref("metric"),
        if_text="x",
        expect_text="y",
        release_id=2**63,
    ),
    admin(
        outcome_id=Ref("outcome"),
        metric_id=Ref("metric"),
        if_text="x",
        expect_text="y",
        min_effect=1.5e308,  # past the column's FINITE check: "the database refused"
    ),
)
test_update_hypothesis = fuzz(
    "update_hypothesis",
    admin(hypothesis_id=Ref("open_hypothesis"), expected_version={}),
    admin(hypothesis_id=Ref("open_hypothesis"), expected_version=None, release_id=2**46),
)
test_override_verdict = fuzz(
    "override_verdict",
    admin(hypothesis_id=Ref("hypothesis"), expected_version={}, override="refuted", reason="r"),
    admin(hypothesis_id=Ref("hypothesis"), expected_version=None, override=None, reason="\x00"),
)
test_add_checkin = fuzz(
    "add_checkin",
    admin(outcome_id=Ref("outcome"), confidence=5, submission_key="k" * 65),
    admin(outcome_id=Ref("outcome"), confidence=5, submission_key=["k"]),
    admin(outcome_id=Ref("outcome"), confidence=5, comment="ok\udcff"),
)
test_copy_to_next_pi = fuzz(
    "copy_to_next_pi",
    # copied back, a target's PI end came before its baseline date
    admin(from_pi_id=Ref("next_pi"), to_pi_id=Ref("pi"), team_id=Ref("team")),
    admin(from_pi_id="1", to_pi_id=Ref("next_pi"), team_id={"id": 1}),
    {"actor": "editor_own", "from_pi_id": Ref("pi"), "to_pi_id": Ref("pi"), "team_id": [1]},
    admin(from_pi_id=Ref("next_pi"), to_pi_id=Ref("pi"), team_id=2**31),
)
test_record_after_release = fuzz(
    "record_after_release",
    # hypothesis_ids went through list(): None crashed, a dict's keys were taken as ids.
    admin(team_id=Ref("team"), release=ReleaseDraft("v2.4", hypothesis_ids=None), entries=[]),  # type: ignore[arg-type]
    admin(team_id=Ref("team"), release=ReleaseDraft("v2.4", hypothesis_ids={1: 2}), entries=[]),  # type: ignore[arg-type]
)
test_record_readings = fuzz(
    "record_readings",
    admin(entries=[entry({"id": 1})]),  # unhashable metric id
    admin(entries=[entry(date=[])]),  # unhashable date
    admin(entries=[entry(date="2026-10-05")]),  # a string date reached the audit event
    admin(entries=[entry(False), entry(2)]),  # a bool made the id list a BOOLEAN bind
    admin(entries=[entry(value=1.7e308)]),  # past the FINITE check: IntegrityError
    admin(entries=[entry(note=None)]),
    admin(entries=[entry(note="a\x00b")]),
    admin(entries=[entry(2**31)]),
)
test_delete_reading = fuzz(
    "delete_reading", admin(reading_id=[1]), admin(reading_id={"id": 1}), admin(reading_id=2**63)
)
test_create_user = fuzz(
    "create_user",
    admin(username="nina", role="viewer", team_keys=[["CHK"]]),
    admin(username="nina", role="viewer", email=["a"]),
    admin(username={}, role="editor", team_keys=[dt.date(2026, 10, 5)]),
    admin(username="nina", role="viewer", display_name="\ud800"),
    admin(username="nina", role="viewer", password="ok\udcff long enough"),
    admin(username="nina", role="viewer", email="a\x00@example.com"),
)
test_update_user = fuzz(
    "update_user",
    admin(username="ok\udcff", role="editor"),
    admin(username=0, email=""),
    admin(username="edna", active="false"),  # "Value 'false' is not None, True, or False"
)
test_set_password = fuzz(
    "set_password", admin(username=None, password=""), admin(username="edna", password="\udcff" * 9)
)


# --- sign-in: a write too (it counts failures), but it answers instead of raising -----


@FUZZ
@given(
    username=st.one_of(st.sampled_from(("ada", "ADA ", "vera", "nobody")), TEXTS),
    password=st.one_of(st.sampled_from((PASSWORD, "wrong password")), TEXTS),
)
@example(username="\ud800", password=PASSWORD)  # the encoders refused it: a crash
@example(username="ada\x00", password=PASSWORD)  # PostgreSQL refuses NUL: a crash
@example(username="ada", password="\udcff")  # argon2 could not encode it: a crash
@example(username=5, password=None)
def test_sign_in_never_fails_and_only_counts(seeded: Seed, username: Any, password: Any) -> None:
    engine, seed = seeded.engine, seeded
    after: Snapshot | None = None
    try:
        with write_session(engine) as session:
            result = users.authenticate(session, username=username, password=password, now=NOW)
        after = fingerprint(engine)
    finally:
        if after != seed.snapshot:
            restore(engine, seed.snapshot, after)
    assert result.ok == (
        isinstance(username, str)
        and username.strip().lower() in ("ada", "edna", "otto", "vera")
        and password == PASSWORD
    )
    changed = changed_rows(seed.snapshot, after)
    counters = {"failed_attempts", "lockouts", "locked_until", "password_hash", "version"}
    for pk in changed.pop("users"):
        old, new = seed.snapshot["users"][pk], after["users"][pk]
        assert {c for c in old if old[c] != new[c]} <= counters
    for pk in changed.pop("audit_events"):
        assert after["audit_events"][pk]["summary"].startswith("Sign-in of vera locked")
    assert not any(changed.values())


test_generate_iterations = fuzz("generate_iterations")
test_create_iteration = fuzz("create_iteration")
test_update_iteration = fuzz("update_iteration")
test_delete_iteration = fuzz("delete_iteration")
test_create_iteration_goal = fuzz("create_iteration_goal")
test_update_iteration_goal = fuzz("update_iteration_goal")
