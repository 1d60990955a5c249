"""The per-run cost of the data version check (issue 18): every page run reads the data
version once (`ui.data.current_data_version`: a read session and one primary-key query)
so that its cached reads follow writes made by any process. Measured against the cheapest
round trip the same way (`SELECT 1` in a read session), in turns, medians.

    python -m bench.version [--url URL] [--repeat N]"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, text

from db.engine import make_engine, read_session
from db.version import read_data_version

DEFAULT_REPEAT = 2_000


@dataclass(frozen=True)
class VersionTimes:
    check: float  # seconds per run: read session + data version query
    floor: float  # seconds: read session + SELECT 1
    repeat: int


def _version_check(engine: Engine) -> None:
    with read_session(engine) as session:
        read_data_version(session)


def _round_trip(engine: Engine) -> None:
    with read_session(engine) as session:
        session.execute(text("SELECT 1")).scalar()


def _timed(action: Callable[[Engine], None], engine: Engine) -> float:
    started = time.perf_counter()
    action(engine)
    return time.perf_counter() - started


def measure_version_check(engine: Engine, *, repeat: int = DEFAULT_REPEAT) -> VersionTimes:
    """Medians of `repeat` checks and floors, taken in turns (so drift hits both)."""
    with read_session(engine) as session:
        if not read_data_version(session).token:
            raise ValueError("not an Outcome Board database at the current schema: migrate it")
    for _ in range(20):  # warm the pool and the statement caches
        _version_check(engine)
        _round_trip(engine)
    checks, floors = [], []
    for _ in range(repeat):
        checks.append(_timed(_version_check, engine))
        floors.append(_timed(_round_trip, engine))
    return VersionTimes(statistics.median(checks), statistics.median(floors), repeat)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.version", description=__doc__)
    parser.add_argument("--url", help="a migrated Outcome Board database (default: the app's)")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    engine = make_engine(args.url)
    try:
        times = measure_version_check(engine, repeat=args.repeat)
    finally:
        engine.dispose()
    print(
        f"data version check per page run: {times.check * 1e3:.3f} ms "
        f"(SELECT 1 round trip {times.floor * 1e3:.3f} ms; median of {times.repeat})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
