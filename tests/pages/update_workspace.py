"""A small workspace for the update pages' AppTests (Record, Plan, Admin, the forms), built
with db.writes, and the AppTest set-up: the app on that database, a signed-in user."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from sqlalchemy import Engine, func, select
from streamlit.testing.v1 import AppTest

from core.access import Actor
from db.engine import make_engine, read_session, write_session
from db.models import AuditEvent, Reading
from tests.conftest import DEMO_TODAY, hold_today
from tests.workspace import SETUP, Builder, checkout_and_search
from ui import state

ROOT = Path(__file__).resolve().parents[2]
ADMIN = SETUP
# The day the app believes it is while a test runs (`open_workspace` holds the clock
# there), so the pages' "current PI", default dates and iteration judging never depend on
# the day the suite happens to run.
TODAY = DEMO_TODAY


@dataclass(frozen=True)
class Workspace:
    engine: Engine
    train_id: int
    chk: int  # team Checkout (CHK), which the editor may change
    src: int  # team Search (SRC), which the editor may not change
    pi: int  # "PI now": running today
    next_pi: int  # "PI next": after it
    conversion: int  # CHK metrics
    errors: int
    latency: int
    search_success: int  # the SRC metric
    outcome: int  # CHK-1 in "PI now"
    target: int
    hypothesis: int  # open: no release yet
    train_outcome: int  # TR-1, train-level, in "PI now"
    editor: Actor
    viewer: Actor

    def count(self, model: type, *where: Any) -> int:
        with read_session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def audit(self, entity: str, action: str | None = None) -> list[AuditEvent]:
        query = select(AuditEvent).where(AuditEvent.entity == entity)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        with read_session(self.engine) as session:
            return list(session.scalars(query.order_by(AuditEvent.id)))

    def readings(self, metric_id: int) -> dict[dt.date, float]:
        with read_session(self.engine) as session:
            rows = session.execute(
                select(Reading.date, Reading.value).where(Reading.metric_id == metric_id)
            )
            return {day: value for day, value in rows}

    def get(self, model: type, record_id: int) -> Any:
        with read_session(self.engine) as session:
            return session.get(model, record_id)


def build(engine: Engine) -> Workspace:
    """Checkout (CHK: three metrics, two read, an outcome with a target and an open
    hypothesis) and Search (SRC: one metric) in "PI now", which runs on TODAY, and "PI
    next"; a train-level outcome TR-1."""
    with write_session(engine) as session:
        b = Builder(session, actor=ADMIN)
        train, chk, src = checkout_and_search(b)
        pi = b.pi(
            "PI now", TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=40), train=train
        )
        next_pi = b.pi(
            "PI next", TODAY + dt.timedelta(days=41), TODAY + dt.timedelta(days=120), train=train
        )
        conversion = b.metric(chk, "Checkout conversion", unit="%", leading=True)
        errors = b.metric(chk, "Payment errors", unit="per day", decimals=0)
        latency = b.metric(chk, "Time to pay", unit="s")
        search = b.metric(src, "Search success")
        b.readings(
            conversion, {TODAY - dt.timedelta(days=14): 2.1, TODAY - dt.timedelta(days=7): 2.2}
        )
        b.readings(errors, {TODAY - dt.timedelta(days=7): 40})
        outcome = b.outcome(
            pi, chk, "CHK-1", "Raise checkout conversion", planned_bv=8, status="active"
        )
        target = b.target(
            outcome,
            conversion,
            baseline=2.1,
            baseline_date=TODAY - dt.timedelta(days=14),
            target=2.6,
        )
        hypothesis = b.hypothesis(
            outcome,
            conversion,
            if_text="we offer one-click pay",
            expect_text="more buyers finish checkout",
            because_text="form length is the top drop-off",
            min_effect=0.2,
        )
        train_outcome = b.outcome(pi, None, "TR-1", "Grow online revenue", status="active")
        return Workspace(
            engine=engine,
            train_id=train.id,
            chk=chk.id,
            src=src.id,
            pi=pi.id,
            next_pi=next_pi.id,
            conversion=conversion.id,
            errors=errors.id,
            latency=latency.id,
            search_success=search.id,
            outcome=outcome.id,
            target=target.id,
            hypothesis=hypothesis.id,
            train_outcome=train_outcome.id,
            editor=Actor(username="edith", role="editor", team_ids=frozenset({chk.id})),
            viewer=Actor(username="vic", role="viewer"),
        )


def open_workspace(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """The app pointed at a fresh database holding the small workspace, with the app's
    today held at TODAY; caches cleared before and after (they outlive
    one AppTest in this process)."""
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", database_url)
    monkeypatch.setenv("OUTCOMES_DEMO", "false")
    monkeypatch.setenv("OUTCOMES_PUBLIC_READ", "true")
    st.cache_data.clear()
    st.cache_resource.clear()
    hold_today(monkeypatch, TODAY)
    engine = make_engine(database_url)
    try:
        yield build(engine)
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
        engine.dispose()


def page(path: str, actor: Actor | None, **params: str) -> AppTest:
    """An AppTest of one page with `actor` signed in and these query parameters; run."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if actor is not None:
        at.session_state[state.ACTOR] = actor
    at.switch_page(path)
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def by_label(widgets: Any, label: str) -> Any:
    """The one widget with this label (AppTest lists widgets of a kind page-wide)."""
    found = [w for w in widgets if w.label == label]
    assert len(found) == 1, f"{len(found)} widgets labelled {label!r}: {[w.label for w in widgets]}"
    return found[0]


def button(at: AppTest, label: str) -> Any:
    return by_label(at.button, label)


def texts(at: AppTest) -> str:
    """Every message, caption, text and markdown on the page, for `in` checks."""
    parts = [
        *(e.value for e in at.error),
        *(e.value for e in at.warning),
        *(e.value for e in at.success),
        *(e.value for e in at.info),
        *(e.value for e in at.caption),
        *(e.value for e in at.markdown),
        *(e.value for e in at.text),
    ]
    return "\n".join(str(p) for p in parts)


def unescape(text: str) -> str:
    """Markdown-escaped text back to plain, for comparing with what a user typed."""
    return text.replace("\\", "").replace("\u2060", "")


def audit_json(event: AuditEvent) -> tuple[dict[str, Any], dict[str, Any]]:
    return json.loads(event.before or "{}"), json.loads(event.after or "{}")
