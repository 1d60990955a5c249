"""The load's writers: processes that record readings through the real write path
(db.writes.record_readings, one form save at a time) until told to stop."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from bench.workspace import WRITER_PREFIX
from core.access import Actor
from db.engine import make_engine, read_session, write_session
from db.models import Metric
from db.readings import ReadingEntry, record_readings

SAVE_SIZE = 10  # readings per save: a team's row of the record grid


@dataclass(frozen=True)
class WriterReport:
    """What one writer did: saves that landed, readings in them, and failures."""

    index: int
    saves: int
    readings: int
    errors: int
    first_errors: tuple[str, ...]


def batches(metric_ids: list[int], *, index: int, writers: int) -> list[list[int]]:
    """This writer's share of the metrics (every `writers`-th), SAVE_SIZE to a save: no
    two writers ever write the same metric."""
    mine = metric_ids[index::writers]
    return [mine[i : i + SAVE_SIZE] for i in range(0, len(mine), SAVE_SIZE)]


def write_until_stopped(
    database_url: str,
    index: int,
    writers: int,
    first_day: dt.date,
    pause_s: float,
    stop: Any,
    reports: Any,
    at_work: Any = None,
) -> None:
    """Save readings dated from `first_day` on (after every as-of date the pages show, so
    the figures see the same workspace) until `stop` is set; put a WriterReport. Sets the
    event `at_work` once the first save has been tried, landed or not."""
    engine = make_engine(database_url)
    actor = Actor.system(f"{WRITER_PREFIX}{index}")
    with read_session(engine) as session:
        ids = list(
            session.scalars(select(Metric.id).where(Metric.archived.is_(False)).order_by(Metric.id))
        )
    work = batches(ids, index=index, writers=writers)
    saves = readings = errors = 0
    first_errors: list[str] = []
    day = first_day
    try:
        while work and not stop.is_set():
            for batch in work:
                if stop.is_set():
                    break
                entries = [ReadingEntry(m, day, float(saves % 100 + m % 7)) for m in batch]
                try:
                    with write_session(engine) as session:
                        record_readings(
                            session, actor=actor, entries=entries, replace=True, source="form"
                        )
                    saves += 1
                    readings += len(entries)
                except Exception as error:  # every failure counts; the run goes on
                    errors += 1
                    if len(first_errors) < 3:
                        first_errors.append(f"{type(error).__name__}: {error}")
                if at_work is not None:
                    at_work.set()
                if pause_s:
                    time.sleep(pause_s)
            day += dt.timedelta(days=1)
    finally:
        engine.dispose()
        reports.put(WriterReport(index, saves, readings, errors, tuple(first_errors)))
