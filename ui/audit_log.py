"""The Admin page's audit log: who changed what and when, filtered by who, what, which
kind of record and a period."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from db import edit_queries
from db.engine import read_session
from db.models import AUDIT_ACTIONS
from ui.site import Frame

AUDIT_LIMITS = (100, 500, 2_000)


# ---------------------------------------------------------------- audit log


def audit_tab(frame: Frame) -> None:
    with read_session(frame.engine) as session:
        facets = edit_queries.audit_facets(session)
    a, b, c = st.columns(3)
    actors = a.multiselect("Who", facets.actors, key="admin.audit.who", placeholder="Anyone")
    actions = b.multiselect("What", AUDIT_ACTIONS, key="admin.audit.what", placeholder="Any change")
    entities = c.multiselect(
        "Entity", facets.entities, key="admin.audit.entity", placeholder="Any record"
    )
    d, e, _ = st.columns([2, 1, 3])
    today = dt.date.today()
    period = d.date_input(
        "Between",
        value=(facets.first or today, max(facets.last or today, today)),
        key="admin.audit.period",
        format="YYYY-MM-DD",
    )
    limit = e.selectbox("Show at most", AUDIT_LIMITS, index=1, key="admin.audit.limit")
    start, end = _period(period)
    with read_session(frame.engine) as session:
        events = edit_queries.audit_events(
            session,
            actors=actors,
            actions=actions,
            entities=entities,
            start=start,
            end=end,
            limit=limit,
        )
    st.caption(
        f"{len(events)} events, newest first (times in UTC). Before and after show only the "
        "fields that changed."
    )
    st.dataframe(
        events,
        hide_index=True,
        width="stretch",
        column_config={
            "at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm:ss"),
            "actor": "Who",
            "action": "What",
            "entity": "Entity",
            "entity_id": st.column_config.NumberColumn("Id", format="%d"),
            "summary": st.column_config.TextColumn("Summary", width="medium"),
            "changed": "Changed",
            "before": st.column_config.TextColumn("Before", width="large"),
            "after": st.column_config.TextColumn("After", width="large"),
        },
    )


def _period(value: Any) -> tuple[dt.date | None, dt.date | None]:
    """A date_input range while it is being picked may hold one date or none."""
    if isinstance(value, tuple | list):
        dates = [v for v in value if isinstance(v, dt.date)]
        if len(dates) == 2:
            return dates[0], dates[1]
        if len(dates) == 1:
            return dates[0], dates[0]
        return None, None
    return (value, value) if isinstance(value, dt.date) else (None, None)
