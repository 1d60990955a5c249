"""A metric's reading history: its figures aggregated in SQL (count, first and last date,
lowest, highest, mean) and one page of its readings, newest first, with note, source and
who entered each. A metric may hold thousands of readings: never read them all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.model import MetricInfo, TeamInfo
from db.models import Metric, Reading, Team
from db.queries import _metric_info, _team_info

HISTORY_COLUMNS = ["id", "date", "value", "note", "source", "entered_by", "entered_at"]
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class MetricHistory:
    """One page of a metric's readings (`readings`, columns HISTORY_COLUMNS, newest
    first) and the figures of all of them."""

    metric: MetricInfo
    team: TeamInfo
    count: int
    first_date: dt.date | None
    last_date: dt.date | None
    lowest: float | None
    highest: float | None
    mean: float | None
    readings: pd.DataFrame
    offset: int
    limit: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.limit))


def team_metrics(session: Session, *, team_key: str) -> list[MetricInfo]:
    """Every metric of a team by name, with or without a target, archived ones last."""
    rows = session.scalars(
        select(Metric)
        .join(Team, Metric.team_id == Team.id)
        .where(Team.key == team_key)
        .order_by(Metric.archived, Metric.name)
    )
    return [_metric_info(m) for m in rows]


def metric_history(
    session: Session, *, team_key: str, metric_name: str, offset: int = 0, limit: int = 50
) -> MetricHistory | None:
    """The history of the team's metric of that name, or None when there is none. Two
    statements: the figures, and the page (LIMIT/OFFSET over the (metric_id, date) index)."""
    found = session.execute(
        select(Metric, Team)
        .join(Team, Metric.team_id == Team.id)
        .where(Team.key == team_key, Metric.name == metric_name)
    ).first()
    if found is None:
        return None
    metric, team = found
    limit = min(max(int(limit), 1), MAX_PAGE_SIZE)
    offset = max(int(offset), 0)
    count, first, last, lowest, highest, mean = session.execute(
        select(
            func.count(Reading.id),
            func.min(Reading.date),
            func.max(Reading.date),
            func.min(Reading.value),
            func.max(Reading.value),
            func.avg(Reading.value),
        ).where(Reading.metric_id == metric.id)
    ).one()
    rows = session.execute(
        select(
            Reading.id,
            Reading.date,
            Reading.value,
            Reading.note,
            Reading.source,
            Reading.entered_by,
            Reading.entered_at,
        )
        .where(Reading.metric_id == metric.id)
        .order_by(Reading.date.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return MetricHistory(
        metric=_metric_info(metric),
        team=_team_info(team),
        count=int(count or 0),
        first_date=first,
        last_date=last,
        lowest=None if lowest is None else float(lowest),
        highest=None if highest is None else float(highest),
        mean=None if mean is None else float(mean),
        readings=pd.DataFrame(rows, columns=HISTORY_COLUMNS),
        offset=offset,
        limit=limit,
    )
