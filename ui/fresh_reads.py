"""Read caches that any value at least as new as a page run's data version may answer.

Why not a cache keyed on the version itself (as before): under a steady stream of saves
(the load's 4 writers commit several times a second) every page run reads another version,
so twenty visitors opening the same overview computed it twenty times, one after another
on the process's one interpreter (bench/RESULTS.md, protocol load). What a run needs is
data no older than the version it read when it started; a value read later is as good.

So each value is stored with where its read stands on this process's `Timeline` of data
versions, and a run takes it when it stands at or after the run's own place. Streamlit's
own caches compare keys for equality only, hence this module; it has no Streamlit in it
(ui/data.py holds one `FreshReads` per process in st.cache_resource)."""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# Tokens remembered with their place; an older one read again starts a new epoch (a cost,
# never a stale page).
REMEMBERED_VERSIONS = 4_096


@dataclass(frozen=True, order=True)
class Place:
    """Where a data version stands on a process's timeline: within one epoch, a larger
    counter is a later version of the same database."""

    epoch: int
    counter: int

    def serves(self, needed: Place) -> bool:
        """A value read at this place is at least as new as a run at `needed` needs."""
        return self.epoch == needed.epoch and self.counter >= needed.counter


class Timeline:
    """The order of the data versions this process has read.

    The counter of `data_version` grows with every write, but only along one database's
    history: a restore brings a database whose counter may be lower or equal (its token
    is then new: our restores write, and every write draws a fresh token). So counters
    are compared only within an epoch, and any version that does not continue the line
    (a new token whose counter is not above the highest seen) starts a new epoch; values
    placed in earlier epochs then serve no run. A run that read its version just before
    another run placed a newer one lands there too: it costs a recomputation, nothing
    else. Writes made outside the app (a file copied over the database) are seen at the
    next write through the app, as db/version.py says of them."""

    def __init__(self, remembered: int = REMEMBERED_VERSIONS) -> None:
        self._lock = threading.Lock()
        self._remembered = remembered
        self._epoch = 0
        self._highest: int | None = None
        self._places: OrderedDict[str, Place] = OrderedDict()

    def place(self, token: str, counter: int) -> Place:
        with self._lock:
            known = self._places.get(token)
            if known is not None:
                self._places.move_to_end(token)
                return known
            if self._highest is not None and counter <= self._highest:
                self._epoch += 1
            self._highest = counter
            placed = Place(self._epoch, counter)
            self._places[token] = placed
            if len(self._places) > self._remembered:
                self._places.popitem(last=False)
            return placed


class ReadCache(Generic[T]):
    """One read function's values by arguments, each kept with the place it was read at,
    least recently used dropped first. `copy=True` stores a pickle and hands every caller
    its own copy (as st.cache_data does); `copy=False` hands out the one object (frozen
    results nobody changes)."""

    def __init__(self, *, copy: bool, max_entries: int) -> None:
        self._copy = copy
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[Place, Any]] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, needed: Place, compute: Callable[[], tuple[Place, T]]) -> T:
        """The value for `key` read at or after `needed`; otherwise `compute()` gives it
        (and the place it was read at). Callers asking at once for the same key wait for
        one computation: when it serves them too, they take it instead of reading again."""
        found = self._fresh(key, needed)
        if found is not None:
            return self._out(found)
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            found = self._fresh(key, needed)
            if found is not None:
                return self._out(found)
            place, value = compute()
            stored = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL) if self._copy else value
            self._keep(key, place, stored)
            return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _fresh(self, key: Hashable, needed: Place) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or not entry[0].serves(needed):
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def _keep(self, key: Hashable, place: Place, stored: Any) -> None:
        with self._lock:
            entry = self._entries.get(key)
            # A slower read that finished last may be the older one: keep the later place.
            if entry is None or place >= entry[0]:
                self._entries[key] = (place, stored)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                old, _ = self._entries.popitem(last=False)
                self._computing.pop(old, None)

    def _out(self, stored: Any) -> T:
        return pickle.loads(stored) if self._copy else stored


class FreshReads:
    """A process's timeline and its read caches, one per read function by name."""

    def __init__(self) -> None:
        self.timeline = Timeline()
        self._lock = threading.Lock()
        self._caches: dict[str, ReadCache[Any]] = {}

    def cache(self, name: str, *, copy: bool, max_entries: int) -> ReadCache[Any]:
        with self._lock:
            found = self._caches.get(name)
            if found is None:
                found = self._caches[name] = ReadCache(copy=copy, max_entries=max_entries)
            return found

    def clear(self) -> None:
        with self._lock:
            caches = list(self._caches.values())
        for cache in caches:
            cache.clear()


def arguments_key(kwargs: dict[str, Any]) -> Hashable:
    """A read's keyword arguments as a key: the values themselves when hashable (dates,
    strings, tuples of ids), else their pickle."""
    items = tuple(sorted(kwargs.items()))
    try:
        hash(items)
    except TypeError:
        return pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
    return items
