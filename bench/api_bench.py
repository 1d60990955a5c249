"""HTTP API benchmark: a 100-row `POST /api/v1/readings` and a `GET /api/v1/report`
against `streamlit run app.py` on a copy of the bench workspace, next to the same work
done in the same run by calling the write function (`import_readings`) and the report
function (`report_json`) directly in this process: what HTTP, JSON, the token check and
the server's thread pool add. Percentiles over `repeat` sequential requests (keep-alive).
Every post writes 100 new readings (dates no other post or the workspace uses)."""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import func, select

from bench.browser import app_server
from core.access import Actor
from core.reading_files import ReadingRow
from db.engine import make_engine, read_session, write_session
from db.models import Metric, Reading, Team
from db.readings import import_readings
from db.report import report_json
from db.tokens import create_token

ROWS = 100
# Far before any workspace reading, one day per row: every post and every direct call
# writes readings that are new.
FIRST_DAY = dt.date(2026, 1, 1)  # when the metric has no reading yet


@dataclass(frozen=True)
class Percentiles:
    p50: float
    p95: float


@dataclass(frozen=True)
class ApiTimes:
    post: Percentiles
    post_direct: Percentiles
    report: Percentiles
    report_direct: Percentiles
    requests: int


def percentiles(samples: list[float]) -> Percentiles:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Percentiles(statistics.median(ordered), p95)


def _timed(action: Callable[[], object], repeat: int) -> Percentiles:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def measure_api(
    workspace: Path, *, team_key: str, pi: str, as_of: dt.date, workdir: Path, repeat: int
) -> ApiTimes:
    copy = workdir / "api.db"
    shutil.copy(workspace, copy)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    with write_session(engine) as session:
        _, token = create_token(
            session,
            actor=Actor.system("bench"),
            name="bench",
            team_key=team_key,
            scope="readings:write",
        )
        team = session.scalar(select(Team).where(Team.key == team_key))
        metric = session.scalar(
            select(Metric.name).where(Metric.team_id == team.id).order_by(Metric.id)  # type: ignore[union-attr]
        )
        actor = Actor("token:bench-direct", "editor", frozenset({team.id}))  # type: ignore[union-attr]
        # Every post adds new readings: days before the metric's first stored one, going
        # back one batch at a time (a scaled workspace reaches back years).
        first = (
            session.scalar(
                select(func.min(Reading.date))
                .join(Metric, Reading.metric_id == Metric.id)
                .where(Metric.team_id == team.id, Metric.name == metric)  # type: ignore[union-attr]
            )
            or FIRST_DAY
        )
    batches = iter(range(1, 10_000))

    def rows() -> list[ReadingRow]:
        start = first - dt.timedelta(days=ROWS * next(batches))
        return [
            ReadingRow(i, team_key, metric or "", start + dt.timedelta(days=i), 1.0 + i / 100)
            for i in range(ROWS)
        ]

    def direct_post() -> None:
        with write_session(engine) as session:
            result = import_readings(session, actor=actor, rows=rows(), source="api")
        assert result.added == ROWS

    def direct_report() -> None:
        with read_session(engine) as session:
            report_json(session, pi_name=pi, as_of=as_of)

    try:
        with (
            app_server(url, log_path=workdir / "api-server.log") as server,
            httpx.Client(base_url=server.base_url, timeout=120) as client,
        ):
            headers = {"Authorization": f"Bearer {token}"}

            def http_post() -> None:
                body = {
                    "readings": [
                        {
                            "team": r.team,
                            "metric": r.metric,
                            "date": r.date.isoformat(),
                            "value": r.value,
                        }
                        for r in rows()
                    ]
                }
                response = client.post("/api/v1/readings", json=body, headers=headers)
                assert response.status_code == 200 and response.json()["added"] == ROWS, (
                    response.text
                )

            def http_report() -> None:
                response = client.get(
                    "/api/v1/report", params={"pi": pi, "as_of": as_of.isoformat()}
                )
                assert response.status_code == 200, response.text

            # One of each first: the server's first request migrates-checks and warms up.
            http_post()
            http_report()
            direct_post()
            direct_report()
            post = _timed(http_post, repeat)
            post_direct = _timed(direct_post, repeat)
            report = _timed(http_report, repeat)
            report_direct = _timed(direct_report, repeat)
    finally:
        engine.dispose()
    return ApiTimes(post, post_direct, report, report_direct, repeat)
