"""Metric sources on the pages: connect a metric to its source and Test it (Plan, Admin),
Sync now with a progress bar and each source's last sync (Record, Admin), and sources
failing for days beside the stale metrics (overview). Each page calls one function here."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from core.access import can_edit_team
from core.errors import PermissionDenied, ValidationError
from core.sources import FAILING_DAYS, KIND_LABELS, KINDS, SourceError, SourceSpec, parse_spec
from db import edit_queries
from db.engine import read_session, write_session
from db.sources import SourceRow, failing_sources, list_sources, metric_source, set_metric_source
from sources.connections import connection_names
from sources.sync import FAILED, sync_sources, try_source
from ui.frame import Frame
from ui.text import escape_markdown

NONE = ""
OUTCOME_WORDS = {"ok": "ok", "failed": "failed", "nothing_new": "nothing new", None: "never synced"}
FIELD_LABELS = {
    "connection": "Connection",
    "query": "Query",
    "url": "URL",
    "points": "Path to the points",
    "date": "Path to the date",
    "value": "Path to the value",
}


def _connection_names() -> list[str]:
    """The configured names; a secrets file that cannot be read is said once, not raised."""
    try:
        return connection_names()
    except SourceError as error:
        st.error(escape_markdown(str(error)))
        return []


def _status_frame(rows: list[SourceRow]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "team": row.team,
                "metric": row.metric,
                "kind": KIND_LABELS[row.spec.kind],
                "last_sync": row.last_sync_at,
                "outcome": OUTCOME_WORDS.get(row.last_outcome, row.last_outcome),
                "error": row.last_error,
            }
            for row in rows
        ],
        columns=["team", "metric", "kind", "last_sync", "outcome", "error"],
    )


def _status_table(rows: list[SourceRow]) -> None:
    # A dataframe shows the error text as text: a server's message is never markdown here.
    st.dataframe(
        _status_frame(rows),
        hide_index=True,
        column_config={
            "team": "Team",
            "metric": "Metric",
            "kind": "Source",
            "last_sync": st.column_config.DatetimeColumn(
                "Last sync (UTC)", format="D MMM YYYY, HH:mm"
            ),
            "outcome": "Outcome",
            "error": st.column_config.TextColumn("Error", width="large"),
        },
    )


# ---------------------------------------------------------------------------- configure


def _spec_fields(kind: str, current: SourceSpec | None, key: str) -> dict[str, str]:
    """The inputs of one kind; values start from the stored spec of that kind."""
    stored = current.to_json() if current is not None and current.kind == kind else {}
    names = _connection_names()
    values: dict[str, str] = {"kind": kind}
    optional_connection = kind in ("http_json", "csv_url")
    choices = ([NONE] if optional_connection else []) + names
    if stored.get("connection") and stored["connection"] not in choices:
        choices.append(stored["connection"])
    if not choices:
        st.warning(
            "No connections are configured. Add one to .streamlit/secrets.toml "
            '([connections.NAME] url = "...") or set OUTCOMES_CONNECTION_NAME, then reload.'
        )
    elif choices != [NONE]:
        chosen = stored.get("connection", choices[0])
        values["connection"] = st.selectbox(
            "Connection"
            + (" (optional: headers and URL from secrets)" if optional_connection else ""),
            choices,
            index=choices.index(chosen) if chosen in choices else 0,
            format_func=lambda name: "(none)" if name == NONE else name,
            key=f"{key}.connection",
            help="A name from .streamlit/secrets.toml or OUTCOMES_CONNECTION_<NAME>; "
            "the database keeps the name, never the URL or password",
        )
    if kind in ("sql", "prometheus"):
        values["query"] = st.text_area(
            "Query" if kind == "sql" else "PromQL expression",
            value=stored.get("query", ""),
            key=f"{key}.query",
            help="SELECT returning date, value rows (or one row with value: today's)"
            if kind == "sql"
            else "One series; its value at the end of each day (UTC) becomes that day's reading",
        )
    if kind in ("http_json", "csv_url"):
        values["url"] = st.text_input(
            "URL", value=stored.get("url", ""), key=f"{key}.url", help="http:// or https://"
        )
    if kind == "http_json":
        a, b, c = st.columns(3)
        values["points"] = a.text_input(
            "Path to the points", value=stored.get("points", "@"), key=f"{key}.points",
            help="JMESPath to the list of points, e.g. data.series (@: the document is the list)",
        )  # fmt: skip
        values["date"] = b.text_input(
            "Path to the date", value=stored.get("date", "date"), key=f"{key}.date"
        )
        values["value"] = c.text_input(
            "Path to the value", value=stored.get("value", "value"), key=f"{key}.value"
        )
    return values


def _show_problems(error: ValidationError) -> None:
    for problem in error.problems:
        field = problem.where.rsplit(".", 1)[-1]
        st.error(escape_markdown(f"{FIELD_LABELS.get(field, field)}: {problem.message}"))


def _show_test(frame: Frame, spec: SourceSpec, team: str, metric: str) -> None:
    with st.spinner("Fetching…"):
        tried = try_source(frame.engine, spec, actor=frame.actor, team=team, metric=metric)
    if tried.problems:
        st.error("Test: a sync would write nothing. " + escape_markdown("; ".join(tried.problems)))
    else:
        st.success(
            f"Test: {tried.total} points read in {tried.seconds:.1f} s; a sync would add "
            f"{tried.added} and skip {tried.skipped} already stored. Nothing was written."
        )
    if tried.preview:
        st.caption("First rows it would write")
        st.dataframe(
            pd.DataFrame([{"date": p.date, "value": p.value} for p in tried.preview]),
            hide_index=True,
        )


def metric_source_editor(frame: Frame, *, team_id: int, team_name: str, context: str) -> None:
    """Connect one of a team's metrics to its source: kind, connection, query or paths;
    Test fetches and shows what a sync would write, writing nothing; Save stores it."""
    st.subheader("Metric source", anchor=False)
    st.caption("Connect a metric once and `sync` (cron) or Sync now on Record keeps it up to date.")
    with read_session(frame.engine) as session:
        metrics = edit_queries.team_metrics(session, team_id=team_id, include_archived=False)
    if not metrics:
        st.info("Add a metric first.")
        return
    if not can_edit_team(frame.actor, team_id):
        st.caption("You may not change this team's metric sources.")
        return
    by_id = {m.id: m for m in metrics}
    key = f"{context}.source.{team_id}"
    metric_id = st.selectbox(
        "Metric to connect", list(by_id), format_func=lambda i: by_id[i].label, key=f"{key}.metric"
    )
    with read_session(frame.engine) as session:
        current = metric_source(session, metric_id)
    kinds = [NONE, *KINDS]
    kind = st.selectbox(
        "Source kind",
        kinds,
        index=kinds.index(current.kind) if current else 0,
        format_func=lambda k: (
            "(none: readings are typed or imported)" if k == NONE else KIND_LABELS[k]
        ),
        key=f"{key}.{metric_id}.kind",
    )
    if kind == NONE:
        if current is not None and st.button("Remove source", key=f"{key}.{metric_id}.remove"):
            _save(frame, metric_id, None)
        return
    values = _spec_fields(kind, current, f"{key}.{metric_id}.{kind}")
    try:
        spec: SourceSpec | None = parse_spec(values)
        problems: ValidationError | None = None
    except ValidationError as error:
        spec, problems = None, error
    left, right, _ = st.columns([1, 1, 3])
    test = left.button("Test", key=f"{key}.{metric_id}.test", icon=":material/science:")
    save = right.button("Save source", key=f"{key}.{metric_id}.save", type="primary")
    if (test or save) and problems is not None:
        _show_problems(problems)
        return
    assert spec is not None or not (test or save)
    if test and spec is not None:
        _show_test(frame, spec, team_name, by_id[metric_id].label)
    if save and spec is not None:
        _save(frame, metric_id, spec)


def _save(frame: Frame, metric_id: int, spec: SourceSpec | None) -> None:
    # Saving the same spec twice changes nothing (set_metric_source compares), so a double
    # click or a rerun writes once.
    try:
        with write_session(frame.engine) as session:
            set_metric_source(session, actor=frame.actor, metric_id=metric_id, spec=spec)
    except ValidationError as error:
        _show_problems(error)
        return
    except PermissionDenied as error:
        st.error(escape_markdown(str(error)))
        return
    st.success("Source saved." if spec is not None else "Source removed.")


# ---------------------------------------------------------------------------- sync


def sync_panel(frame: Frame, *, team_id: int, team_key: str) -> None:
    """Record: the team's sources with their last sync, and Sync now with a progress bar.
    After a sync the page runs again, so the grid above shows the new last values."""
    with read_session(frame.engine) as session:
        rows = list_sources(session, team_key=team_key)
    st.subheader("Connected metrics", anchor=False)
    if not rows:
        st.caption("No metric of this team has a source (connect one on Plan, Metrics tab).")
        return
    flash_key = f"record.sync.{team_id}.done"
    flash = st.session_state.pop(flash_key, None)
    if flash:
        level, message = flash
        (st.warning if level == "warning" else st.success)(message)
    _status_table(rows)
    if not can_edit_team(frame.actor, team_id):
        return
    if not st.button("Sync now", key=f"record.sync.{team_id}", icon=":material/sync:"):
        return
    bar = st.progress(0.0, text="Syncing…")

    def progress(done: int, total: int, name: str) -> None:
        bar.progress(done / total, text=escape_markdown(f"Synced {done} of {total}: {name}"))

    try:
        results = sync_sources(
            frame.engine, actor=frame.actor, team_key=team_key, progress=progress
        )
    except (PermissionDenied, SourceError, ValidationError) as error:
        st.error(escape_markdown(str(error)))
        return
    added = sum(r.added for r in results)
    failed = [r for r in results if r.outcome == FAILED]
    message = f"Sync done: {added} readings added from {len(results)} sources."
    if failed:
        st.session_state[flash_key] = (
            "warning",
            message + f" {len(failed)} failed: see the table.",
        )
    else:
        st.session_state[flash_key] = ("success", message)
    st.rerun()


def sources_admin(frame: Frame) -> None:
    """Admin: every source with its last sync, outcome and error."""
    st.subheader("Metric sources", anchor=False)
    with read_session(frame.engine) as session:
        rows = list_sources(session)
    if not rows:
        st.caption("No metric has a source yet (connect one on Plan, Metrics tab).")
    else:
        _status_table(rows)
    names = _connection_names()
    st.caption(
        "Connections configured: " + (escape_markdown(", ".join(names)) if names else "none")
    )


def failing_sources_notice(frame: Frame, *, team_ids: Any = None) -> None:
    """Overview: sources failing for FAILING_DAYS days and more, beside the stale metrics."""
    with read_session(frame.engine) as session:
        rows = failing_sources(session)
    if team_ids is not None:
        rows = [row for row in rows if row.team_id in set(team_ids)]
    if not rows:
        return
    st.subheader("Failing metric sources", anchor=False)
    st.caption(f"Syncs failing for {FAILING_DAYS} days or more: these metrics will go stale.")
    table = _status_frame(rows)
    table["failing_since"] = [row.failing_since for row in rows]
    st.dataframe(
        table[["team", "metric", "failing_since", "error"]],
        hide_index=True,
        column_config={
            "team": "Team",
            "metric": "Metric",
            "failing_since": st.column_config.DatetimeColumn(
                "Failing since (UTC)", format="D MMM YYYY"
            ),
            "error": st.column_config.TextColumn("Error", width="large"),
        },
    )
