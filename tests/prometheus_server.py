"""A real Prometheus for tests (Debian's `prometheus` 2.42): started on a free loopback
port with a temporary data directory whose history is backfilled with `promtool tsdb
create-blocks-from openmetrics`, so a known series exists over the last 60 days.

The series `outcome_test_signups` has, at the end of day D (UTC), the value
`D.toordinal() % 1000`: a test knows every day's reading without asking the server."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.app_server import free_port

SERIES = "outcome_test_signups"
DAYS = 60
# One sample per day, at midnight UTC, where query_range's 1-day steps evaluate it. promtool
# writes a block per 2 hours that hold samples and takes about 0.1 s a block: samples every
# few minutes made 720 blocks and a minute of backfilling.
STEP = 86_400
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"


def day_value(day: dt.date) -> float:
    """The series' value at the end of `day`."""
    return float(day.toordinal() % 1000)


def available() -> bool:
    return bool(shutil.which(PROMETHEUS) and shutil.which(PROMTOOL))


@dataclass(frozen=True)
class PrometheusServer:
    url: str
    today: dt.date  # the last day whose end is backfilled is the day before


def _openmetrics(today: dt.date) -> str:
    end = int(dt.datetime.combine(today, dt.time(), dt.UTC).timestamp())
    start = end - DAYS * 86_400
    lines = [f"# TYPE {SERIES} gauge"]
    for stamp in range(start, end + 1, STEP):
        # (stamp - 1) // day: the sample at midnight belongs to the day that ends there.
        day = dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + (stamp - 1) // 86_400)
        lines.append(f"{SERIES} {day_value(day):g} {stamp}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@contextmanager
def prometheus_server(workdir: Path) -> Iterator[PrometheusServer]:
    """Backfill, start, wait until ready; stop (only this process) on exit."""
    today = dt.datetime.now(dt.UTC).date()
    data = workdir / "data"
    data.mkdir(parents=True)
    source = workdir / "history.om"
    source.write_text(_openmetrics(today), "utf-8")
    subprocess.run(
        [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "-q", str(source), str(data)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    config = workdir / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1h\nscrape_configs: []\n", "utf-8")
    port = free_port()
    log = (workdir / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1y",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/-/ready", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "prometheus did not start: " + (workdir / "prometheus.log").read_text()[-2000:]
                )
            time.sleep(0.2)
        yield PrometheusServer(url, today)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
