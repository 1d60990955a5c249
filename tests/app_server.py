"""The app under `streamlit run` for tests, on a held day.

Tests seed the demo workspace around a fixed day (`DEMO_TODAY`), but the app asks the
clock for today: on the real calendar the demo's current PI ends on 2026-12-04, and from
the next day a server on the real clock showed no open hypotheses to ship and an empty
PI. So every server a test starts runs as `python -m tests.app_server DAY <streamlit
arguments>`: `date.today()` is DAY in that process, and only there.

The clock is shifted, not stopped (see `clock_on`), so the server's timeouts, sessions
and elapsed times behave as on any other day; but the whole process reads the shifted
clock, so a test whose server checks what another process stamps with the real time
(an identity provider's tokens, a Prometheus server's samples) runs it on the real clock."""

from __future__ import annotations

import datetime as dt
import runpy
import socket
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def clock_on(day: dt.date) -> Callable[[], float]:
    """A `time.time` that reads noon of `day` now and keeps ticking. CPython's
    `date.today()` reads the clock through `time.time`, so replacing that is enough:
    dates stay real `date` objects (the write path checks the exact type), and
    `datetime.now()` and timestamps keep the real clock."""
    real_time = time.time
    offset = dt.datetime.combine(day, dt.time(12)).timestamp() - real_time()
    return lambda: real_time() + offset


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def app_command(port: int, *, day: dt.date | None, options: Sequence[str] = ()) -> list[str]:
    """The command line that serves app.py on a loopback `port` with today held at `day`
    (None: the real clock, for tests whose other parts share it, such as a token issuer
    or a Prometheus server); `options` are more `streamlit run` options. Run it with
    `cwd=ROOT`."""
    launcher = ["streamlit"] if day is None else ["tests.app_server", day.isoformat()]
    return [
        sys.executable,
        "-m",
        *launcher,
        "run",
        str(ROOT / "app.py"),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        *options,
    ]


def main(arguments: Sequence[str]) -> None:
    day = dt.date.fromisoformat(arguments[0])
    time.time = clock_on(day)
    assert dt.date.today() == day, "date.today() no longer reads time.time"
    sys.argv = ["streamlit", *arguments[1:]]
    runpy.run_module("streamlit", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
