"""The one cached engine, first-run setup, and read caches that follow the data version:
every run reads the version once (`db/version.py`), and a cached read serves a run only
when it was read at or after that version (ui/fresh_reads.py), so a write made by any
process shows on every process's next run, and unchanged data stays cached for as long
as it is unchanged."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy import Engine, func, select
from streamlit.runtime.scriptrunner import get_script_run_ctx

from db.engine import make_engine, read_session
from db.migrate import (
    MigrationResult,
    ensure_schema,
    head_revision,
    known_revisions,
    refuse_unknown_revision,
    upgrade,
)
from db.models import AuditEvent, Team
from db.version import DataVersion, read_data_version
from ui import state
from ui.fresh_reads import FreshReads, Place, arguments_key

log = logging.getLogger("outcomes")
T = TypeVar("T")

# Reads stay cached until the data version changes; these bound the memory instead of a
# TTL (old versions' entries are evicted least recently used first).
READ_MAX_ENTRIES = 500
SHARED_READ_MAX_ENTRIES = 200


class SchemaTooOldError(RuntimeError):
    """The database's schema is older than this code and migrating it failed."""


def demo_on_first_run() -> bool:
    return os.environ.get("OUTCOMES_DEMO", "true").strip().lower() not in {"0", "false", "no"}


def prepare_database(engine: Engine) -> MigrationResult | None:
    """Migrate, and load the demo workspace when the database was just created (by this
    process: of several starting at once, only the one that migrated sees it new)."""
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
    return result


@st.cache_resource(show_spinner=False, on_release=lambda engine: engine.dispose())
def get_engine() -> Engine:
    engine = make_engine()
    prepare_database(engine)
    return engine


@st.cache_resource(show_spinner=False)
def fresh_reads() -> FreshReads:
    """This process's read caches and timeline of data versions (ui/fresh_reads.py); in
    st.cache_resource so that clearing Streamlit's caches (tests, the bench's cold runs)
    empties them too."""
    return FreshReads()


def cached_read(func: Callable[..., T], *, copy: bool = True) -> Callable[..., T]:
    """Cache a read function `f(session, **kwargs)` by its keyword arguments. A run takes
    a cached value read at or after the data version the run started with; else it reads
    (one read for all the runs that ask at once and that it serves: ui/fresh_reads.py).

    `copy=False` is for results nobody changes (frozen dataclasses): every run gets the
    one cached object, not a copy unpickled for it. Unpickling a PI's view of 50 teams
    took a third of a warm PI review run (bench/RESULTS.md)."""
    name = f"{func.__module__}.{func.__qualname__}"
    max_entries = READ_MAX_ENTRIES if copy else SHARED_READ_MAX_ENTRIES

    def call(**kwargs: Any) -> T:
        reads = fresh_reads()
        version = current_data_version()
        needed = reads.timeline.place(version.token, version.counter)

        def read() -> tuple[Place, T]:
            with read_session(get_engine()) as session:
                # First in the read's transaction: what it reads is at least this new.
                read_at = read_data_version(session)
                value = func(session, **kwargs)
            return reads.timeline.place(read_at.token, read_at.counter), value

        cache = reads.cache(name, copy=copy, max_entries=max_entries)
        return cache.get(arguments_key(kwargs), needed, read)

    call.__wrapped__ = func  # type: ignore[attr-defined]
    return call


def clear_reads() -> None:
    """After every write: this run's later reads and the next run read fresh data (the
    write changed the version; the old entries are dropped at once to free memory)."""
    st.session_state.pop(state.DATA_VERSION, None)
    fresh_reads().clear()


def _this_run() -> object | None:
    """An object that exists for one script run (a fragment's run counts as a run): the
    run context's cursor table, replaced at the start of every run. None outside a run."""
    ctx = get_script_run_ctx(suppress_warning=True)
    return None if ctx is None else ctx.cursors


def current_data_version() -> DataVersion:
    """The data version, read once per page run (the frame reads it first)."""
    run = _this_run()
    memo = st.session_state.get(state.DATA_VERSION) if run is not None else None
    if memo is not None and memo[0] is run:
        return memo[1]
    with read_session(get_engine()) as session:
        version = read_data_version(session)
    if run is not None:
        # Holding `run` keeps its id from being reused by a later run's table.
        st.session_state[state.DATA_VERSION] = (run, version)
    return version


@functools.cache
def _revisions() -> tuple[str, frozenset[str]]:
    """(head, every known revision): read from the migration files once per process."""
    return head_revision(), frozenset(known_revisions())


def check_data_version() -> DataVersion:
    """Read this run's data version, and make sure the schema is not older than the code:
    a database downgraded or restored under a running process is migrated again (under
    the same lock as at start); if that fails, SchemaTooOldError says why."""
    version = current_data_version()
    head, known = _revisions()
    if version.revision == head:
        return version
    if version.revision is not None and version.revision not in known:
        # A newer version of the app migrated the database under this process.
        refuse_unknown_revision(version.revision, head)
    try:
        upgrade(get_engine())
    except Exception as error:  # any failure: refuse to serve, say why
        raise SchemaTooOldError(
            f"The database is at schema revision {version.revision or 'none'}, older than "
            f"this version of Outcome Board needs ({head}), and migrating it failed: "
            f"{error}. Run `python manage.py init` once, then reload this page."
        ) from error
    st.session_state.pop(state.DATA_VERSION, None)
    return current_data_version()


def is_demo_workspace(session: Any) -> bool:
    return bool(
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity == "workspace", AuditEvent.summary == "demo workspace")
        )
    )
