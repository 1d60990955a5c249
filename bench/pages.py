"""Server-side page runs: every page through Streamlit's AppTest, cold (the process's
st.cache_data and st.cache_resource cleared first) and warm (run again with them filled),
against a one-line page run the same way."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit import config
from streamlit.logger import set_log_level
from streamlit.testing.v1 import AppTest

from bench.table import median
from bench.workspace import FLOOR_SCRIPT, PageSpec
from core.access import Actor
from ui import state

ROOT = Path(__file__).resolve().parents[1]
FLOOR = PageSpec("floor", "", "/")
ADMIN = Actor.system("bench-admin")  # no account row: kept as it is, like the page tests'
RUN_TIMEOUT_S = 600


class PageFailed(RuntimeError):
    """A page raised or showed an exception: its timing would measure nothing."""


@dataclass(frozen=True)
class PageTimes:
    """Median seconds of a page's cold and warm runs."""

    page: PageSpec
    cold: float
    warm: float
    runs: int


@contextmanager
def app_environment(database_url: str) -> Iterator[None]:
    """The app's settings for this process (as the server gets them), restored after."""
    settings = {
        "OUTCOMES_DATABASE_URL": database_url,
        "OUTCOMES_DEMO": "false",
        "OUTCOMES_PUBLIC_READ": "true",
    }
    saved = {name: os.environ.get(name) for name in settings}
    # AppTest runs each page as sys.modules["__main__"] and leaves it there; a process
    # spawned later (the load's writers) would import that page as its main module.
    main_module = sys.modules["__main__"]
    os.environ.update(settings)
    # Clearing caches outside a script run logs a warning each time: keep the output clean.
    config.set_option("logger.level", "error")
    set_log_level("error")
    try:
        yield
    finally:
        clear_caches()
        sys.modules["__main__"] = main_module
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()  # disposes the cached engine too


def floor_script(folder: Path) -> Path:
    path = folder / "floor_app.py"
    path.write_text(FLOOR_SCRIPT)
    return path


def run_page(page: PageSpec, *, floor: Path | None = None) -> float:
    """Seconds to build and run one AppTest of `page` (of `floor`, the one-line page,
    when given); raises PageFailed when the page shows an exception."""
    started = time.perf_counter()
    if floor is not None:
        at = AppTest.from_file(str(floor), default_timeout=RUN_TIMEOUT_S)
    else:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=RUN_TIMEOUT_S)
        if page.signed_in:
            at.session_state[state.ACTOR] = ADMIN
        if page.script != "app.py":
            at.switch_page(page.script)
        for name, value in page.params.items():
            at.query_params[name] = value
    at.run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise PageFailed(f"{page.name}: {at.exception[0].message}")
    return elapsed


def measure_pages(
    pages: Sequence[PageSpec], *, database_url: str, workdir: Path, repeat: int
) -> tuple[list[PageTimes], PageTimes]:
    """Every page and the floor, `repeat` rounds of (clear caches, cold run, warm run),
    page after page in each round so that a busy machine slows them alike. One untimed
    run of each first imports the modules (a process does that once, not per visit)."""
    floor = floor_script(workdir)
    everything = [FLOOR, *pages]
    cold: dict[str, list[float]] = {p.name: [] for p in everything}
    warm: dict[str, list[float]] = {p.name: [] for p in everything}
    with app_environment(database_url):
        for page in everything:
            run_page(page, floor=floor if page is FLOOR else None)
        for _ in range(repeat):
            for page in everything:
                script = floor if page is FLOOR else None
                clear_caches()
                cold[page.name].append(run_page(page, floor=script))
                warm[page.name].append(run_page(page, floor=script))
    times = {
        p.name: PageTimes(p, median(cold[p.name]), median(warm[p.name]), repeat) for p in everything
    }
    return [times[p.name] for p in pages], times[FLOOR.name]
