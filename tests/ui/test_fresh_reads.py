"""Read caches that a value at least as new as a run's data version may answer: the
timeline's order of versions (restores included), sharing one read among runs that ask
at once, copies, eviction; and, on a real database, a restore shows on the next read."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from sqlalchemy import Engine, func, select

from core.access import Actor
from db.backup import backup, restore
from db.engine import write_session
from db.models import Train
from ui.data import cached_read
from ui.fresh_reads import Place, ReadCache, Timeline, arguments_key

ADMIN = Actor.system("test-admin")


# ---------------------------------------------------------------- the timeline


def test_later_versions_of_one_database_stay_in_one_epoch() -> None:
    timeline = Timeline()
    first = timeline.place("a", 5)
    later = timeline.place("b", 9)

    assert first == Place(0, 5) and later == Place(0, 9)
    assert timeline.place("a", 5) == first  # read again by a late run: the same place
    assert later.serves(first) and not first.serves(later)


@pytest.mark.parametrize("counter", [3, 9], ids=["lower counter", "same counter"])
def test_a_new_token_that_does_not_continue_the_line_starts_an_epoch(counter: int) -> None:
    # A restore: the restored database's counter is at or below the highest seen.
    timeline = Timeline()
    timeline.place("a", 5)
    before = timeline.place("b", 9)

    restored = timeline.place("r", counter)

    assert restored.epoch == before.epoch + 1
    assert not before.serves(restored) and not restored.serves(before)
    assert timeline.place("s", counter + 1).serves(restored)


def test_a_forgotten_token_read_again_starts_an_epoch_rather_than_being_trusted() -> None:
    timeline = Timeline(remembered=2)
    old = timeline.place("a", 1)
    timeline.place("b", 2)
    timeline.place("c", 3)  # "a" is forgotten

    again = timeline.place("a", 1)

    assert again.epoch == old.epoch + 1


# ---------------------------------------------------------------- one read cache


def test_a_value_read_later_serves_a_run_that_started_earlier_and_no_later_one() -> None:
    cache: ReadCache[str] = ReadCache(copy=False, max_entries=10)
    reads: list[Place] = []

    def read_at(place: Place) -> Any:
        def read() -> tuple[Place, str]:
            reads.append(place)
            return place, f"read at {place.counter}"

        return read

    assert cache.get("k", Place(0, 5), read_at(Place(0, 7))) == "read at 7"
    assert cache.get("k", Place(0, 6), read_at(Place(0, 8))) == "read at 7"
    assert cache.get("k", Place(0, 7), read_at(Place(0, 8))) == "read at 7"
    assert cache.get("k", Place(0, 8), read_at(Place(0, 8))) == "read at 8"
    assert cache.get("k", Place(1, 2), read_at(Place(1, 2))) == "read at 2"  # another epoch
    assert cache.get("other", Place(1, 2), read_at(Place(1, 2))) == "read at 2"
    assert len(reads) == 4


def test_runs_asking_at_once_share_one_read_that_serves_them() -> None:
    cache: ReadCache[int] = ReadCache(copy=False, max_entries=10)
    reads: list[int] = []
    start = threading.Barrier(8)

    def read() -> tuple[Place, int]:
        reads.append(1)
        time.sleep(0.2)  # long enough that every caller arrives while it runs
        return Place(0, 10), 42

    results: list[int] = []

    def run(counter: int) -> None:
        start.wait()
        results.append(cache.get("overview", Place(0, counter), read))

    threads = [threading.Thread(target=run, args=(c,)) for c in range(3, 11)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [42] * 8
    assert len(reads) == 1


def test_a_run_that_needs_newer_data_than_the_read_in_progress_reads_again() -> None:
    cache: ReadCache[int] = ReadCache(copy=False, max_entries=10)
    started = threading.Event()
    places = iter([Place(0, 5), Place(0, 9)])

    def read() -> tuple[Place, int]:
        place = next(places)
        started.set()
        time.sleep(0.1)
        return place, place.counter

    early: list[int] = []
    thread = threading.Thread(target=lambda: early.append(cache.get("k", Place(0, 4), read)))
    thread.start()
    started.wait()
    late = cache.get("k", Place(0, 8), read)  # a write landed after the first read began
    thread.join()

    assert early == [5] and late == 9


def test_the_later_read_is_kept_when_an_older_one_finishes_last() -> None:
    cache: ReadCache[str] = ReadCache(copy=False, max_entries=10)
    cache.get("k", Place(0, 9), lambda: (Place(0, 9), "newer"))
    cache._keep("k", Place(0, 6), "older")  # a slow read of an older version finishing

    assert cache.get("k", Place(0, 7), lambda: (Place(0, 7), "read again")) == "newer"


def test_copied_values_are_every_caller_s_own_and_shared_ones_are_one_object() -> None:
    copied: ReadCache[list[int]] = ReadCache(copy=True, max_entries=10)
    shared: ReadCache[list[int]] = ReadCache(copy=False, max_entries=10)

    mine = copied.get("k", Place(0, 1), lambda: (Place(0, 1), [1, 2]))
    mine.append(3)
    assert copied.get("k", Place(0, 1), lambda: (Place(0, 1), [9])) == [1, 2]
    one = shared.get("k", Place(0, 1), lambda: (Place(0, 1), [1, 2]))
    assert shared.get("k", Place(0, 1), lambda: (Place(0, 1), [9])) is one


def test_the_least_recently_used_value_goes_first() -> None:
    cache: ReadCache[str] = ReadCache(copy=False, max_entries=2)
    now = Place(0, 1)
    cache.get("a", now, lambda: (now, "a"))
    cache.get("b", now, lambda: (now, "b"))
    cache.get("a", now, lambda: (now, "a again"))  # used: "b" is now the oldest
    cache.get("c", now, lambda: (now, "c"))

    assert len(cache) == 2
    assert cache.get("a", now, lambda: (now, "a read")) == "a"
    assert cache.get("b", now, lambda: (now, "b read")) == "b read"


def test_arguments_make_one_key_whatever_their_order_and_unhashable_ones_still_do() -> None:
    assert arguments_key({"a": 1, "b": (2, 3)}) == arguments_key({"b": (2, 3), "a": 1})
    assert arguments_key({"ids": [1, 2]}) == arguments_key({"ids": [1, 2]})
    assert arguments_key({"ids": [1, 2]}) != arguments_key({"ids": [1, 3]})


# ---------------------------------------------------------------- on a database


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


def test_a_restore_shows_on_the_next_read_though_its_counter_is_lower(
    engine: Engine,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    fresh_caches: None,
    tmp_path: Path,
) -> None:
    """The restored database's data version counter is below the one the cache last
    read at: only the new epoch keeps the cache from answering with the replaced data."""
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", database_url)

    def count_trains(session: Any) -> int:
        return session.scalar(select(func.count()).select_from(Train)) or 0

    trains = cached_read(count_trains)
    saved = backup(engine, tmp_path / "empty.backup")
    for name in ("Payments", "Lending", "Cards"):
        with write_session(engine) as session:
            session.add(Train(name=name))
    assert trains() == 3

    restore(engine, saved.path, actor=ADMIN)

    assert trains() == 0
