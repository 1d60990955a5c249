"""Concurrent writers: eight processes record readings and edit outcomes on one database
while readers query it. Every reading arrives, no lock error reaches a writer, and every
outcome edit either lands or is refused with a ConflictError: no update is lost."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import random
import time
import traceback
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from core.access import Actor
from core.changes import OutcomeChanges
from core.errors import ConflictError
from db.engine import make_engine, read_session, write_session
from db.models import AuditEvent, Metric, Outcome, Reading, Team
from db.workspace import import_workspace
from db.writes import ReadingEntry, record_readings, update_outcome
from tests.conftest import DEMO_TODAY

WRITERS = 8
READERS = 2
READINGS_PER_WRITER = 1_000
EDITS_PER_WRITER = 12  # successful outcome edits per writer, after the first stale round
METRICS_PER_TEAM = 4
# Mostly single readings and form-sized saves; a few larger pastes.
BATCH_SIZES = (1, 1, 10, 20, 25, 50)
FIRST_DAY = dt.date(2026, 4, 1)
PI_NAME = "PI 26.4"
SHARED = ("SHR-1", "SHR-2")  # the outcomes every writer edits
READER_PAUSE = 0.05  # seconds between a reader's rounds: a dashboard user, not a loop
JOIN_TIMEOUT = 240  # seconds; a hung worker fails the test instead of hanging CI
ADMIN = Actor.system("test-admin")


def _team_key(writer: int) -> str:
    return f"W{writer}"


def _metric_name(index: int) -> str:
    return f"Metric {index}"


def _workspace() -> dict[str, Any]:
    """One train and PI; a team per writer with its metrics and an outcome, and a shared
    team whose two outcomes every writer edits."""
    teams = [{"name": f"Writer {w}", "key": _team_key(w)} for w in range(WRITERS)]
    teams.append({"name": "Shared", "key": "SHR"})
    metrics = [
        {"team": t["name"], "name": _metric_name(m)} for t in teams for m in range(METRICS_PER_TEAM)
    ]

    def outcome(team: str, key: str) -> dict[str, Any]:
        target = {
            "metric": _metric_name(0),
            "baseline": 1.0,
            "baseline_date": "2026-10-05",
            "target": 2.0,
            "target_date": "2026-12-18",
            "kind": "increase",
            "band_low": None,
            "band_high": None,
        }
        return {
            "pi": PI_NAME,
            "key": key,
            "team": team,
            "title": f"Outcome {key}",
            "status": "active",
            "targets": [target],
        }

    outcomes = [outcome(f"Writer {w}", f"W{w}-1") for w in range(WRITERS)]
    outcomes += [outcome("Shared", key) for key in SHARED]
    return {
        "format": "outcome-board/1",
        "trains": [{"name": "Payments"}],
        "teams": [{**t, "train": "Payments", "active": True} for t in teams],
        "pis": [{"name": PI_NAME, "train": "Payments", "start": "2026-10-05", "end": "2026-12-18"}],
        "metrics": metrics,
        "outcomes": outcomes,
    }


@dataclass(frozen=True)
class Plan:
    """What one writer process does: its identity, its metrics, and the shared outcomes."""

    writer: int
    url: str
    team_id: int
    shared_team_id: int
    metric_ids: tuple[int, ...]
    shared_outcome_ids: tuple[int, ...]
    result: str  # a JSON file the process writes its account to

    @property
    def username(self) -> str:
        return f"writer-{self.writer}"


def expected_readings(writer: int, metric_ids: tuple[int, ...]) -> list[ReadingEntry]:
    """The writer's readings: values that say which writer and which reading they are."""
    return [
        ReadingEntry(
            metric_id=metric_ids[k % len(metric_ids)],
            date=FIRST_DAY + dt.timedelta(days=k // len(metric_ids)),
            value=writer * 10_000 + k + 0.25,
        )
        for k in range(READINGS_PER_WRITER)
    ]


def batch_sizes(writer: int) -> list[int]:
    """The sizes of the writer's saves, fixed by its number so readers can check them."""
    rng = random.Random(writer)
    sizes: list[int] = []
    left = READINGS_PER_WRITER
    while left:
        size = min(rng.choice(BATCH_SIZES), left)
        sizes.append(size)
        left -= size
    return sizes


def _failure(error: BaseException) -> str:
    return f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"


def _edit(engine: Engine, actor: Actor, outcome_id: int, token: str, rng: random.Random) -> int:
    """One user's edit of an outcome, as the edit form does it: read the current values and
    version, think, save with that version; on a conflict read again and redo it. Appends
    `token` to the outcome's "why", so a lost update would lose a token. Returns how many
    conflicts were reported on the way."""
    conflicts = 0
    while True:
        with read_session(engine) as session:
            outcome = session.get(Outcome, outcome_id)
            assert outcome is not None
            version, why = outcome.version, outcome.why
        time.sleep(rng.uniform(0, 0.004))
        try:
            with write_session(engine) as session:
                update_outcome(
                    session,
                    actor=actor,
                    outcome_id=outcome_id,
                    expected_version=version,
                    changes=OutcomeChanges(why=f"{why} {token}".strip()),
                )
            return conflicts
        except ConflictError:
            conflicts += 1


def run_writer(plan: Plan, start: Barrier) -> None:
    """A writer process. Everything it saw is written to `plan.result`."""
    engine = make_engine(plan.url)
    actor = Actor(plan.username, "editor", frozenset({plan.team_id, plan.shared_team_id}))
    rng = random.Random(1_000 + plan.writer)
    account: dict[str, Any] = {
        "batches": [],  # sizes of committed saves, in order
        "edits": [],  # [outcome_id, token] of every edit that landed
        "conflicts": 0,
        "stale_round": None,
        "errors": [],
    }
    try:
        start.wait()
        # The stale round: every writer opens the same outcome at the same version, then
        # all save. Exactly one save may land; the others must get a ConflictError.
        first = plan.shared_outcome_ids[0]
        with read_session(engine) as session:
            outcome = session.get(Outcome, first)
            assert outcome is not None
            version, why = outcome.version, outcome.why
        start.wait()
        token = f"w{plan.writer}s"
        try:
            with write_session(engine) as session:
                update_outcome(
                    session,
                    actor=actor,
                    outcome_id=first,
                    expected_version=version,
                    changes=OutcomeChanges(why=f"{why} {token}".strip()),
                )
            account["stale_round"] = "landed"
            account["edits"].append([first, token])
        except ConflictError:
            account["stale_round"] = "conflict"
            account["conflicts"] += 1
        except Exception as error:
            account["errors"].append(_failure(error))

        entries = expected_readings(plan.writer, plan.metric_ids)
        sizes = batch_sizes(plan.writer)
        edit_after = set(rng.sample(range(len(sizes)), min(EDITS_PER_WRITER, len(sizes))))
        edits = 0
        position = 0
        for index, size in enumerate(sizes):
            batch = entries[position : position + size]
            position += size
            try:
                with write_session(engine) as session:
                    record_readings(session, actor=actor, entries=batch)
                account["batches"].append(size)
            except Exception as error:
                account["errors"].append(_failure(error))
            if index in edit_after:
                outcome_id = plan.shared_outcome_ids[edits % len(plan.shared_outcome_ids)]
                token = f"w{plan.writer}e{edits}"
                try:
                    account["conflicts"] += _edit(engine, actor, outcome_id, token, rng)
                    account["edits"].append([outcome_id, token])
                except Exception as error:
                    account["errors"].append(_failure(error))
                edits += 1
    except Exception:
        account["errors"].append(traceback.format_exc())
    finally:
        engine.dispose()
        Path(plan.result).write_text(json.dumps(account), "utf-8")


def run_reader(url: str, plan_counts: dict[str, list[int]], stop: Event, result: str) -> None:
    """A reader process: the PI report and snapshot in a loop. Each writer's visible
    readings must always add up to a whole number of its saves (no half-visible save)."""
    from db.queries import load_pi_snapshot
    from db.report import report_json

    engine = make_engine(url)
    allowed = {
        username: {sum(sizes[:i]) for i in range(len(sizes) + 1)}
        for username, sizes in plan_counts.items()
    }
    account: dict[str, Any] = {"rounds": 0, "errors": []}
    try:
        while True:
            done = stop.is_set()  # one more round after the writers finish
            try:
                with read_session(engine) as session:
                    snapshot = load_pi_snapshot(session, pi_name=PI_NAME, as_of=DEMO_TODAY)
                    report = report_json(session, pi_name=PI_NAME, as_of=DEMO_TODAY)
                    counts = dict(
                        session.execute(
                            select(Reading.entered_by, func.count()).group_by(Reading.entered_by)
                        ).all()
                    )
                assert len(snapshot.outcomes) == WRITERS + len(SHARED), "outcomes missing"
                assert report["pi"] == PI_NAME, "report of another PI"
                assert len(report["teams"]) == WRITERS + 1, "teams missing from the report"
                for username, count in counts.items():
                    assert count in allowed[username], f"{username}: {count} is half a save"
                account["rounds"] += 1
            except Exception as error:
                account["errors"].append(_failure(error))
            if done:
                break
            time.sleep(READER_PAUSE)
    finally:
        engine.dispose()
        Path(result).write_text(json.dumps(account), "utf-8")


def _setup(engine: Engine, tmp_path: Path, url: str) -> list[Plan]:
    with write_session(engine) as session:
        import_workspace(session, actor=ADMIN, document=_workspace())
    with read_session(engine) as session:
        teams = dict(session.execute(select(Team.key, Team.id)).all())
        metrics: dict[int, list[int]] = {}
        for metric in session.scalars(select(Metric).order_by(Metric.name)):
            metrics.setdefault(metric.team_id, []).append(metric.id)
        shared = tuple(
            session.scalar(select(Outcome.id).where(Outcome.key == key)) or 0 for key in SHARED
        )
    return [
        Plan(
            writer=w,
            url=url,
            team_id=teams[_team_key(w)],
            shared_team_id=teams["SHR"],
            metric_ids=tuple(metrics[teams[_team_key(w)]]),
            shared_outcome_ids=shared,
            result=str(tmp_path / f"writer-{w}.json"),
        )
        for w in range(WRITERS)
    ]


def _run(plans: list[Plan], url: str, tmp_path: Path) -> tuple[list[dict], list[dict]]:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WRITERS)
    stop = context.Event()
    plan_counts = {p.username: batch_sizes(p.writer) for p in plans}
    reader_files = [str(tmp_path / f"reader-{r}.json") for r in range(READERS)]
    writers = [context.Process(target=run_writer, args=(p, start)) for p in plans]
    readers = [
        context.Process(target=run_reader, args=(url, plan_counts, stop, f)) for f in reader_files
    ]
    processes = writers + readers
    for process in processes:
        process.start()
    try:
        for process in writers:
            process.join(JOIN_TIMEOUT)
        stop.set()
        for process in readers:
            process.join(JOIN_TIMEOUT)
    finally:
        hung = [p for p in processes if p.is_alive()]
        for process in hung:
            process.kill()
            process.join()
    assert not hung, f"{len(hung)} processes did not finish in {JOIN_TIMEOUT} s"
    assert [p.exitcode for p in processes] == [0] * len(processes)
    accounts = [json.loads(Path(p.result).read_text("utf-8")) for p in plans]
    reads = [json.loads(Path(f).read_text("utf-8")) for f in reader_files]
    return accounts, reads


@pytest.mark.slow
def test_eight_writer_processes_lose_nothing_while_readers_query(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    try:
        plans = _setup(engine, tmp_path, database_url)
        accounts, reads = _run(plans, database_url, tmp_path)

        # No lock error, no stale-data error, nothing but ConflictError reached a writer.
        errors = [f"writer {w}: {e}" for w, a in enumerate(accounts) for e in a["errors"]]
        errors += [f"reader {r}: {e}" for r, a in enumerate(reads) for e in a["errors"]]
        assert not errors, "\n".join(errors[:20])
        assert all(r["rounds"] >= 1 for r in reads)
        assert [sum(a["batches"]) for a in accounts] == [READINGS_PER_WRITER] * WRITERS

        # Every reading, exactly once, with its value and its writer.
        expected = sorted(
            (e.metric_id, e.date, e.value, p.username)
            for p in plans
            for e in expected_readings(p.writer, p.metric_ids)
        )
        with read_session(engine) as session:
            stored = sorted(
                session.execute(
                    select(Reading.metric_id, Reading.date, Reading.value, Reading.entered_by)
                ).all()
            )
            outcomes = {o.id: o for o in session.scalars(select(Outcome))}
            events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert len(stored) == WRITERS * READINGS_PER_WRITER
        assert [tuple(row) for row in stored] == expected

        # The stale round: one save landed, seven were told of the conflict.
        rounds = sorted(a["stale_round"] for a in accounts)
        assert rounds == ["conflict"] * (WRITERS - 1) + ["landed"]
        assert sum(a["conflicts"] for a in accounts) >= WRITERS - 1

        # No lost update: each shared outcome holds exactly the edits that landed.
        landed: dict[int, list[str]] = {oid: [] for oid in plans[0].shared_outcome_ids}
        for account in accounts:
            for outcome_id, token in account["edits"]:
                landed[outcome_id].append(token)
        assert sum(map(len, landed.values())) == WRITERS * EDITS_PER_WRITER + 1
        for outcome_id, tokens in landed.items():
            assert sorted(outcomes[outcome_id].why.split()) == sorted(tokens)
            assert outcomes[outcome_id].version == 1 + len(tokens)

        # The audit log holds one event per save and per landed edit, and nothing else.
        for plan, account in zip(plans, accounts, strict=True):
            saves = [e for e in events if e.entity == "reading" and e.actor == plan.username]
            assert [e.action for e in saves] == ["create"] * len(account["batches"])
            assert [len(json.loads(e.after)["readings"]) for e in saves] == account["batches"]
            edits = [e for e in events if e.entity == "outcome" and e.actor == plan.username]
            assert [(e.entity_id, json.loads(e.after)["why"].split()[-1]) for e in edits] == [
                tuple(edit) for edit in account["edits"]
            ]
    finally:
        engine.dispose()


# SQLite takes the write lock before reading (BEGIN IMMEDIATE), so only PostgreSQL lets a
# save read a record that another save then changes before the first one writes.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_save_overtaken_between_its_read_and_its_write_is_a_conflict(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url)
    try:
        plans = _setup(engine, tmp_path, database_url)
        outcome_id = plans[0].shared_outcome_ids[0]
        other = Actor("bob", "editor", frozenset({plans[0].shared_team_id}))
        with pytest.raises(ConflictError) as raised, write_session(engine) as session:
            assert session.get(Outcome, outcome_id) is not None  # read at version 1
            with write_session(engine) as overtaking:
                update_outcome(
                    overtaking,
                    actor=other,
                    outcome_id=outcome_id,
                    expected_version=1,
                    changes=OutcomeChanges(why="bob"),
                )
            update_outcome(
                session,
                actor=ADMIN,
                outcome_id=outcome_id,
                expected_version=1,
                changes=OutcomeChanges(why="mine"),
            )
        with read_session(engine) as session:
            outcome = session.get(Outcome, outcome_id)
        assert (raised.value.by, raised.value.changes) == ("bob", {"why": ("", "bob")})
        assert outcome is not None and (outcome.why, outcome.version) == ("bob", 2)
    finally:
        engine.dispose()
