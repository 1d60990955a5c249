"""The scaled workspace every figure runs on: built once into a SQLite file (or reused),
with the PI, team and outcome the pages are opened on, and the pages themselves."""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from bench.report import FULL, QUICK, TODAY, build, open_database
from db.engine import read_session
from db.models import PI, Metric, Outcome, Reading, Target, Team
from db.queries import current_pi

WRITER_PREFIX = "bench-writer-"  # the load's writers act as these users; removed after
FLOOR_SCRIPT = 'import streamlit as st\n\nst.write("hello")\n'  # the one-line page


@dataclass(frozen=True)
class BenchWorkspace:
    """A filled SQLite file and the real names the pages are opened with."""

    path: Path
    today: dt.date
    pi: str
    team: str  # key
    outcome: str  # key, of `team`
    teams: int
    metrics: int
    readings: int
    build_seconds: float | None = None

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def summary(self) -> str:
        return (
            f"{self.teams} teams, {self.metrics} metrics, {self.readings:,} readings; pages "
            f"opened on {self.pi}, team {self.team}, outcome {self.outcome}, as of {self.today}"
        )


@dataclass(frozen=True)
class PageSpec:
    """One page of the app as the benchmarks open it."""

    name: str
    script: str  # for AppTest.switch_page ("app.py" is the entry page)
    url_path: str  # for the browser
    params: dict[str, str] = field(default_factory=dict)
    signed_in: bool = False  # as an admin; else anonymous (public read)

    @property
    def url(self) -> str:
        from urllib.parse import urlencode

        return self.url_path + (f"?{urlencode(self.params)}" if self.params else "")


def sizes(*, quick: bool) -> dict[str, int]:
    return dict(QUICK if quick else FULL)


def prepare(*, db: str | None, quick: bool, workdir: Path) -> BenchWorkspace:
    """Open `db` (building the scaled workspace into it when empty) or build one in
    `workdir`; any rows left by an interrupted load run are removed first."""
    path = Path(db).resolve() if db else workdir / "bench.db"
    engine, must_build = open_database(db=str(path), url=None, workdir=workdir)
    try:
        seconds = build(engine, sizes(quick=quick)) if must_build else None
    finally:
        engine.dispose()
    remove_writer_rows(path)
    workspace = describe(path, build_seconds=seconds)
    wanted = sizes(quick=quick)
    if (workspace.teams, workspace.metrics, workspace.readings) != (
        wanted["teams"],
        wanted["metrics"],
        wanted["readings"],
    ):
        print(f"note: {path} holds {workspace.summary()}, not the {wanted} asked for")
    return workspace


def describe(path: Path, *, build_seconds: float | None = None) -> BenchWorkspace:
    """The counts, and the current PI at TODAY with its team outcome that has the most
    targets (the heaviest outcome and team pages), ties by key."""
    from db.engine import make_engine

    engine = make_engine(f"sqlite:///{path}")
    try:
        with read_session(engine) as session:
            pi = current_pi(session, today=TODAY)
            if pi is None:
                raise SystemExit(f"{path}: no PI runs on {TODAY}; rebuild the workspace")
            targets = func.count(Target.id)
            row = session.execute(
                select(Outcome.key, Team.key)
                .join(Team, Team.id == Outcome.team_id)
                .join(PI, PI.id == Outcome.pi_id)
                .outerjoin(Target, Target.outcome_id == Outcome.id)
                .where(PI.name == pi.name, Outcome.status != "archived")
                .group_by(Outcome.id, Outcome.key, Team.key)
                .order_by(targets.desc(), Outcome.key)
                .limit(1)
            ).first()
            if row is None:
                raise SystemExit(f"{path}: {pi.name} has no team outcomes")

            def count(model: type) -> int:
                return session.scalar(select(func.count()).select_from(model)) or 0

            return BenchWorkspace(
                path=path,
                today=TODAY,
                pi=pi.name,
                team=row[1],
                outcome=row[0],
                teams=count(Team),
                metrics=count(Metric),
                readings=count(Reading),
                build_seconds=build_seconds,
            )
    finally:
        engine.dispose()


def team_outcomes(ws: BenchWorkspace) -> list[tuple[str, str, str]]:
    """Each active team with outcomes in the workspace's PI: (key, name, first outcome
    key), by team key; the load's sessions open these."""
    from db.engine import make_engine

    engine = make_engine(ws.url)
    try:
        with read_session(engine) as session:
            rows = session.execute(
                select(Team.key, Team.name, func.min(Outcome.key))
                .join(Outcome, Outcome.team_id == Team.id)
                .join(PI, PI.id == Outcome.pi_id)
                .where(PI.name == ws.pi, Outcome.status != "archived", Team.active.is_(True))
                .group_by(Team.id, Team.key, Team.name)
                .order_by(Team.key)
            ).all()
            return [(key, name, outcome) for key, name, outcome in rows]
    finally:
        engine.dispose()


def remove_writer_rows(path: Path) -> int:
    """Delete the readings and audit events the load's writers left; returns how many
    readings went (the workspace is the same for every run on a reused file)."""
    connection = sqlite3.connect(path, timeout=60, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        removed = connection.execute(
            "DELETE FROM readings WHERE entered_by LIKE ?", (f"{WRITER_PREFIX}%",)
        ).rowcount
        connection.execute("DELETE FROM audit_events WHERE actor LIKE ?", (f"{WRITER_PREFIX}%",))
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed
    finally:
        connection.close()


def dashboard_pages(ws: BenchWorkspace) -> list[PageSpec]:
    """The five dashboards, as an anonymous viewer opens them from a link."""
    day = ws.today.isoformat()
    return [
        PageSpec("overview", "app.py", "/", {"pi": ws.pi, "as_of": day}),
        PageSpec("team", "pages/team.py", "/team", {"team": ws.team, "pi": ws.pi, "as_of": day}),
        PageSpec(
            "outcome",
            "pages/outcome.py",
            "/outcome",
            {"pi": ws.pi, "team": ws.team, "outcome": ws.outcome, "as_of": day},
        ),
        PageSpec("review", "pages/review.py", "/review", {"pi": ws.pi, "as_of": day}),
        PageSpec("present", "pages/present.py", "/present", {"pi": ws.pi, "as_of": day}),
    ]


def update_pages(ws: BenchWorkspace) -> list[PageSpec]:
    """Record, Plan and Admin, as a signed-in admin (anonymous visitors get a sign-in
    prompt there, which would measure nothing of the page)."""
    return [
        PageSpec("record", "pages/record.py", "/record", {"team": ws.team}, signed_in=True),
        PageSpec("plan", "pages/plan.py", "/plan", {"team": ws.team, "pi": ws.pi}, signed_in=True),
        PageSpec("admin", "pages/admin.py", "/admin", signed_in=True),
    ]
