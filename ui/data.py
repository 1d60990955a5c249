"""The one cached engine, first-run setup, and read caching with clearing after writes."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy import Engine, func, select

from db.engine import make_engine, read_session
from db.migrate import ensure_schema
from db.models import AuditEvent, Team

log = logging.getLogger("outcomes")
T = TypeVar("T")

# Reads are cached briefly: long enough to make reruns cheap, short enough that another
# process's writes show up soon (several app processes may share one database).
READ_TTL_SECONDS = 30


def demo_on_first_run() -> bool:
    return os.environ.get("OUTCOMES_DEMO", "true").strip().lower() not in {"0", "false", "no"}


def prepare_database(engine: Engine) -> None:
    """Migrate, and load the demo workspace when the database was just created."""
    result = ensure_schema(engine)
    if result is not None and result.before is None and demo_on_first_run():
        from seed.demo import load_demo

        with read_session(engine) as session:
            has_teams = session.scalar(select(func.count()).select_from(Team)) or 0
        if not has_teams:
            load_demo(engine)
            log.warning(
                "Loaded the demo workspace into a new database (OUTCOMES_DEMO=false to skip)."
            )


@st.cache_resource(show_spinner=False, on_release=lambda engine: engine.dispose())
def get_engine() -> Engine:
    engine = make_engine()
    prepare_database(engine)
    return engine


# The caches of reads made with `copy=False`; `clear_reads` empties them one by one
# (st.cache_resource.clear() would also dispose of the engine).
_SHARED_READS: list[Any] = []


def cached_read(func: Callable[..., T], *, copy: bool = True) -> Callable[..., T]:
    """Cache a read function `f(session, **kwargs)` by its keyword arguments.

    `copy=False` is for results nobody changes (frozen dataclasses): every run gets the
    one cached object, not a copy unpickled for it. Unpickling a PI's view of 50 teams
    took a third of a warm PI review run (bench/RESULTS.md)."""

    def read(name: str, **kwargs: Any) -> T:
        # `name` is hashed: every wrapped function shares this closure's source code.
        with read_session(get_engine()) as session:
            return func(session, **kwargs)

    if copy:
        cached = st.cache_data(ttl=READ_TTL_SECONDS, show_spinner=False)(read)
    else:
        cached = st.cache_resource(ttl=READ_TTL_SECONDS, max_entries=200, show_spinner=False)(read)
        _SHARED_READS.append(cached)

    def call(**kwargs: Any) -> T:
        return cached(f"{func.__module__}.{func.__qualname__}", **kwargs)

    call.__wrapped__ = func  # type: ignore[attr-defined]
    return call


def clear_reads() -> None:
    """After every write: the next run reads fresh data."""
    st.cache_data.clear()
    for cached in _SHARED_READS:
        cached.clear()


def is_demo_workspace(session: Any) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity == "workspace", AuditEvent.summary == "demo workspace")
        )
    )
