"""Cached reads for the dashboards: each wraps a `db/` query (and the `core/` rules over a
PI snapshot) in `ui.data.cached_read`, so a rerun or a second visitor costs no query."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from core.model import PIInfo, PISnapshot, PIStatus, TrainInfo
from core.report import report_from_status, report_markdown
from core.rules import evaluate_pi
from db import edit_queries, queries, track_record
from ui.data import cached_read


@dataclass(frozen=True)
class PIView:
    """A PI as it stood on a date: the data the rules read, and what they computed."""

    snapshot: PISnapshot
    status: PIStatus


def _pi_view(
    session: Session, *, pi_name: str, as_of: dt.date, team_key: str | None = None
) -> PIView:
    snapshot = queries.load_pi_snapshot(session, pi_name=pi_name, as_of=as_of, team_key=team_key)
    return PIView(snapshot=snapshot, status=evaluate_pi(snapshot))


def report_json_document(view: PIView) -> str:
    """The PI report's JSON (`manage.py report --format json`'s document) from the view the
    review page shows: the page passes this to its download button as a callable, so the
    report is shaped when someone downloads it, not on every page run, and from the
    snapshot the page already holds (reading it again took two more snapshot loads and
    rule evaluations a run: bench/RESULTS.md, protocol load)."""
    return json.dumps(report_from_status(view.status, view.snapshot), indent=2, ensure_ascii=False)


def report_markdown_document(view: PIView) -> str:
    """The same report as `manage.py report`'s Markdown document, from the same view."""
    return report_markdown(report_from_status(view.status, view.snapshot, details=True))


def _train_names(session: Session) -> list[str]:
    return [t.name for t in queries.list_trains(session)]


pi_view = cached_read(_pi_view, copy=False)  # frozen: shared, not copied per run
train_names = cached_read(_train_names)
trains = cached_read(queries.list_trains)
pis = cached_read(queries.list_pis)
teams = cached_read(queries.list_teams)
current_pi = cached_read(queries.current_pi)
recent_releases = cached_read(queries.recent_releases)
latest_readings = cached_read(queries.latest_readings)
metric_readings = cached_read(queries.metric_readings)


def list_trains() -> list[TrainInfo]:
    return trains()


def list_pis(train_name: str | None = None) -> list[PIInfo]:
    return pis(train_name=train_name)


def readings_between(metric_ids: list[int], start: dt.date | None, end: dt.date) -> pd.DataFrame:
    """Readings of a few metrics in the window a chart shows (never a whole PI's)."""
    return metric_readings(metric_ids=tuple(sorted(set(metric_ids))), start=start, end=end)


outcome_history = cached_read(edit_queries.outcome_history)
# A train's last PIs (predictability and outcomes achieved), for the review page's chart.
train_track_record = cached_read(track_record.train_track_record, copy=False)
