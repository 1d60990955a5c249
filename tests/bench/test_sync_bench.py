"""The sync benchmark at a tiny size: it syncs every metric, then finds nothing new, and
times the source queries alone beside; `--only sync` picks it in `python -m bench`."""

from __future__ import annotations

from pathlib import Path

from bench.__main__ import parse_args
from bench.sync_bench import measure_sync


def test_sync_bench_measures_both_syncs_and_the_queries_alone(tmp_path: Path) -> None:
    times = measure_sync(tmp_path, metrics=4, points=3)
    assert (times.metrics, times.points) == (4, 3)
    assert times.first > 0 and times.again > 0 and times.queries > 0
    assert times.fetching <= times.first


def test_sync_is_a_figure_of_the_suite() -> None:
    args = parse_args(["--only", "sync", "--sync-metrics", "20"])
    assert (args.only, args.sync_metrics) == (("sync",), 20)
    assert parse_args([]).sync_metrics == 500
