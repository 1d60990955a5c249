"""Record: right after a release, log it and enter this week's value of every team metric
on one screen, saved at once; or import a CSV/Excel file of readings; or export them."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from core.access import can_edit_team
from core.errors import ValidationError
from core.explain import plural
from core.model import TeamInfo
from core.reading_files import parse_reading_file, readings_to_csv, readings_to_xlsx
from db import queries
from db.engine import read_session
from db.readings import ImportResult, check_readings, export_readings, import_readings
from ui.data import cached_read
from ui.filters import param_select
from ui.forms import FormState, save, show_problems
from ui.frame import Frame, page_frame
from ui.reading_forms import import_preview, record_form
from ui.release_forms import reading_corrections, release_corrections
from ui.sources import sync_panel
from ui.text import escape_markdown

frame = page_frame("record")

PREVIEW_LIMIT = 1_000  # good rows shown in an import preview; bad rows are always all shown
# A checked file is kept in session state (so a rerun does not parse it again) only up to
# this many rows: a session holds it while the tab stays open, and a 1M-row CSV held
# 1.2 GB. A larger file (at most core.reading_files.MAX_ROWS) is parsed again per rerun.
KEEP_CHECKED_ROWS = 20_000

list_teams = cached_read(queries.list_teams)
latest_readings = cached_read(queries.latest_readings)


def pick_team(frame: Frame) -> TeamInfo:
    """The Team picker, bound to ?team=, offering only the teams this user may change."""
    teams = list_teams(include_inactive=False)
    mine = [t for t in teams if can_edit_team(frame.actor, t.id)]
    requested = st.query_params.get("team")
    if requested and requested not in {t.key for t in mine} and requested in {t.key for t in teams}:
        st.warning(f"You may not change team {escape_markdown(requested)}: pick one of your teams.")
        st.query_params.pop("team", None)
    if not mine:
        st.info("You may not change any team's data. Ask an admin to add you to your team.")
        st.stop()
    by_key = {t.key: t for t in mine}
    column, _ = st.columns([1, 2])
    key = param_select(
        "Team",
        list(by_key),
        param="team",
        format_func=lambda k: by_key[k].name,
        container=column,
        noun="team you may change",
    )
    return by_key[key]


def import_section(frame: Frame, team: TeamInfo) -> None:
    st.caption(
        "A CSV or Excel file with the columns team, metric, date, value and an optional "
        "note (header names in any case; extra columns are ignored). Every row is checked "
        "first; nothing is written unless all rows are good."
    )
    form = FormState("record.import", entity="reading")
    uploaded = st.file_uploader(
        "Readings file", type=["csv", "txt", "tsv", "xlsx"], key=form.key("file")
    )
    replace = st.checkbox(
        "Replace stored readings that differ",
        key=form.key("replace"),
        help="Without this, a row whose metric and date already hold another value is a bad row",
    )
    shown = form.show_status()
    if uploaded is None:
        if not shown:
            st.caption(
                f"Download this team's readings from Export to see the format ({escape_markdown(team.name)})."
            )
        return

    cache_key = f"{form.name}#{form.generation}#checked"
    cached = st.session_state.get(cache_key)
    if cached is None or cached[0] != (uploaded.file_id, replace):
        parsed = parse_reading_file(uploaded.getvalue(), uploaded.name)
        with read_session(frame.engine) as session:
            plan = check_readings(session, rows=parsed.rows, replace=replace)
        cached = ((uploaded.file_id, replace), parsed, plan)
        if parsed.data_rows <= KEEP_CHECKED_ROWS:
            st.session_state[cache_key] = cached
        else:
            st.session_state.pop(cache_key, None)
    _, parsed, plan = cached
    preview, file_problems = import_preview(
        parsed, plan, lambda team_id: can_edit_team(frame.actor, team_id)
    )
    bad = int((preview["status"] == "bad").sum()) if not preview.empty else 0
    counts = preview["status"].value_counts() if not preview.empty else pd.Series(dtype=int)
    new = int(counts.get("new", 0))
    identical = int(counts.get("identical: skipped", 0))
    replacing = int(counts.get("replaces the stored value", 0))
    a, b, c, d = st.columns(4)
    a.metric("New readings", f"{new:,}")
    b.metric("Identical (skipped)", f"{identical:,}")
    c.metric("Replacing stored", f"{replacing:,}")
    d.metric("Bad rows", f"{bad:,}")
    if file_problems:
        show_problems(ValidationError(file_problems))
    if bad:
        st.error(
            f"{plural(bad, 'bad row')}: fix them in the file and upload it again. "
            "Nothing was written.",
            icon=":material/error:",
        )
    if not preview.empty:
        good = preview[preview["status"] != "bad"]
        shown_rows = pd.concat([preview[preview["status"] == "bad"], good.head(PREVIEW_LIMIT)])
        if len(good) > PREVIEW_LIMIT:
            st.caption(
                f"Showing every bad row and the first {PREVIEW_LIMIT:,} of {len(good):,} good rows."
            )
        st.dataframe(
            shown_rows,
            hide_index=True,
            width="stretch",
            column_config={
                "row": st.column_config.NumberColumn("Row", format="%d", width="small"),
                "status": st.column_config.TextColumn("Status"),
                "problem": st.column_config.TextColumn("Problem", width="large"),
                "team": st.column_config.TextColumn("Team"),
                "metric": st.column_config.TextColumn("Metric"),
                "date": st.column_config.TextColumn("Date"),
                "value": st.column_config.TextColumn("Value"),
                "stored": st.column_config.TextColumn("Stored value"),
                "note": st.column_config.TextColumn("Note"),
            },
        )
    ready = not file_problems and not bad and (new + replacing) > 0
    if not file_problems and not bad and not (new + replacing) and identical:
        st.info("Every row is already stored: importing this file would add nothing.")
    if st.button(
        f"Import {plural(new + replacing, 'reading')}",
        type="primary",
        disabled=not ready,
        key=f"{form.name}#{form.generation}#go",
    ):
        bar = st.progress(0.0, text="Importing…")

        def progress(done: int, total: int) -> None:
            bar.progress(done / total if total else 1.0, text=f"Importing… {done:,} of {total:,}")

        def write(session: Session, key: str) -> ImportResult:
            return import_readings(
                session,
                actor=frame.actor,
                rows=parsed.rows,
                replace=replace,
                source="import",
                submission_key=key,
                progress=progress,
            )

        save(
            frame,
            form,
            write,
            success=lambda result: (
                f"Imported {uploaded.name}: {result.added:,} added, {result.replaced:,} "
                f"replaced, {result.skipped:,} identical rows skipped."
            ),
        )


def export_section(frame: Frame, team: TeamInfo, today: dt.date) -> None:
    st.caption(
        f"All readings of {escape_markdown(team.name)}'s metrics, in the import's columns. "
        "Text a spreadsheet would run as a formula is written as plain text."
    )
    engine = frame.engine

    def frame_of_readings() -> pd.DataFrame:
        with read_session(engine) as session:
            return export_readings(session, team_key=team.key)

    stem = f"readings-{team.key}-{today.isoformat()}"
    left, right, _ = st.columns([1, 1, 3])
    left.download_button(
        "Download CSV",
        data=lambda: readings_to_csv(frame_of_readings()),
        file_name=f"{stem}.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/download:",
    )
    right.download_button(
        "Download Excel",
        data=lambda: readings_to_xlsx(frame_of_readings()),
        file_name=f"{stem}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore",
        icon=":material/download:",
    )


st.title("Record", anchor=False)
st.caption("After a release: log it, enter this week's value of every metric, and save once.")
today = dt.date.today()
team = pick_team(frame)
after_release, import_tab, export_tab = st.tabs(["After a release", "Import a file", "Export"])
with after_release:
    latest = latest_readings(as_of=today, team_ids=(team.id,))
    if latest.empty:
        st.info("This team has no metrics yet: add them on the Plan page.")
        st.page_link("pages/plan.py", label="Plan", query_params={"team": team.key})
    record_form(frame, team, latest, today)
    with st.expander("Correct a mistake: edit or archive a release, delete a reading"):
        release_corrections(frame, team, context="record")
        reading_corrections(frame, team, context="record")
    sync_panel(frame, team_id=team.id, team_key=team.key)
with import_tab:
    import_section(frame, team)
with export_tab:
    export_section(frame, team, today)
