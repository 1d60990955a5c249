"""Issue 15: sign-in throttling per account and client, per client, and server-wide;
unknown names answered like known ones; the hash verified outside the write transaction."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine

from core.access import Actor
from db import sign_in as throttle
from db import users
from db.engine import read_session, sqlite_path, write_session
from db.models import SignInThrottle
from db.sign_in import sign_in
from db.users import WRONG_CREDENTIALS, create_user, set_password
from db.version import read_data_version

PASSWORD = "correct horse battery"
T0 = dt.datetime(2026, 11, 2, 9, 0, 0)
ATTACKER, USER = "203.0.113.9", "198.51.100.7"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(users, "hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    users._dummy_hash.cache_clear()


@pytest.fixture
def ana(engine: Engine) -> str:
    with write_session(engine) as session:
        create_user(
            session, actor=Actor.system("t"), username="ana", role="admin", password=PASSWORD
        )
    return "ana"


def attempt(
    engine: Engine, name: str, password: str, client: str | None, seconds: float = 0
) -> str:
    at = T0 + dt.timedelta(seconds=seconds)
    result = sign_in(engine, username=name, password=password, client=client, now=at)
    return "ok" if result.ok else result.message


def test_unknown_and_known_names_get_the_same_answers(engine: Engine, ana: str) -> None:
    known = [attempt(engine, "ana", "wrong", "10.0.0.1") for _ in range(6)]
    unknown = [attempt(engine, "nobody", "wrong", "10.0.0.2") for _ in range(6)]
    assert known == unknown
    assert known[:4] == [WRONG_CREDENTIALS] * 4
    assert known[4].startswith("Too many attempts")


def test_a_lock_holds_only_for_the_client_that_failed(engine: Engine, ana: str) -> None:
    for _ in range(5):
        attempt(engine, "ana", "guess", ATTACKER)
    assert attempt(engine, "ana", PASSWORD, ATTACKER).startswith("Too many attempts")
    assert attempt(engine, "ana", PASSWORD, USER) == "ok"  # the admin is not locked out


def test_pair_lock_backs_off_to_a_ceiling(
    engine: Engine, ana: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "CLIENT_MAX_FAILURES", 10_000)
    seconds = 0.0
    waits = []
    for _ in range(8):
        for _ in range(5):
            message = attempt(engine, "ana", "guess", ATTACKER, seconds)
        waits.append(int(re.search(r"in (\d+) s", message).group(1)))  # type: ignore[union-attr]
        seconds += waits[-1] + 1
    assert waits[:3] == [60, 120, 240]
    assert max(waits) == throttle.PAIR_MAX_LOCK_SECONDS  # never a day, never for everyone


def test_spraying_many_names_from_one_client_is_slowed(engine: Engine, ana: str) -> None:
    answers = [attempt(engine, f"user{i}", "Summer2026!", ATTACKER) for i in range(20)]
    assert answers[-1].startswith("Too many attempts")
    assert attempt(engine, "ana", PASSWORD, ATTACKER).startswith("Too many attempts")
    assert attempt(engine, "ana", PASSWORD, USER) == "ok"


def test_global_ceiling_holds_back_failing_clients_only(
    engine: Engine, ana: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle, "GLOBAL_MAX_FAILURES", 3)
    for i in range(3):
        attempt(engine, f"name{i}", "x", f"10.1.0.{i}")
    assert attempt(engine, "ana", PASSWORD, "10.1.0.0").startswith("Too many attempts")
    assert attempt(engine, "ana", PASSWORD, USER) == "ok"  # a client without failures
    assert attempt(engine, "ana", PASSWORD, "10.1.0.0", seconds=61) == "ok"  # window over


def test_setting_the_password_lifts_every_clients_lock(engine: Engine, ana: str) -> None:
    for _ in range(5):
        attempt(engine, "ana", "guess", ATTACKER)
    with write_session(engine) as session:
        set_password(session, actor=Actor.system("t"), username="ana", password="new password 1")
    assert attempt(engine, "ana", "new password 1", ATTACKER) == "ok"


@pytest.mark.sqlite_only("SQLite's single writer lock is what the hash must not hold")
def test_hash_is_verified_outside_the_write_transaction(
    sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Setup: while the hash is verified, another writer tries to take the write lock.
    with write_session(sqlite_engine) as session:
        create_user(
            session, actor=Actor.system("t"), username="ana", role="admin", password=PASSWORD
        )
    path: Path = sqlite_path(sqlite_engine)  # type: ignore[assignment]
    writer_waited: list[bool] = []
    verify = users._verify

    def verify_while_another_writes(password_hash: str | None, password: str) -> bool:
        other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            writer_waited.append(False)
        except sqlite3.OperationalError:  # "database is locked": sign-in held the lock
            writer_waited.append(True)
        finally:
            other.close()
        return verify(password_hash, password)

    monkeypatch.setattr(users, "_verify", verify_while_another_writes)
    # Exercise
    assert attempt(sqlite_engine, "ana", "wrong", ATTACKER) == WRONG_CREDENTIALS
    assert attempt(sqlite_engine, "ana", PASSWORD, ATTACKER) == "ok"
    # Verify
    assert writer_waited == [False, False]


def test_failed_sign_ins_leave_the_data_version_and_so_every_cache_alone(
    engine: Engine, ana: str
) -> None:
    def version() -> tuple[str, int]:
        with read_session(engine) as session:
            found = read_data_version(session)
        return found.token, found.counter

    before = version()
    for attempt_number in range(3):
        attempt(engine, ana, "wrong", ATTACKER, seconds=attempt_number)
        attempt(engine, "nobody", "wrong", ATTACKER, seconds=attempt_number)
    assert version() == before
    with read_session(engine) as session:
        assert session.query(SignInThrottle).count() > 0  # the failures were written

    # A sign-in that succeeds clears its throttle row: pages may show users, so it counts.
    assert attempt(engine, ana, PASSWORD, USER, seconds=10) == "ok"
    assert version() != before
