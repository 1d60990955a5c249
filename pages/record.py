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
from db import edit_queries, queries
from db.engine import read_session
from db.readings import (
    ImportResult,
    ReadingEntry,
    ReplaceNeeded,
    check_readings,
    export_readings,
    import_readings,
    record_readings,
)
from db.writes import create_release
from ui.data import cached_read
from ui.filters import param_select
from ui.forms import (
    GRID_LOCKED,
    FormState,
    grid_entries,
    import_preview,
    readings_grid,
    save,
    saved_readings_note,
    show_problems,
)
from ui.frame import Frame, page_frame, shared_query_params
from ui.sources import sync_panel
from ui.text import escape_markdown

frame = page_frame("record")

PREVIEW_LIMIT = 1_000  # good rows shown in an import preview; bad rows are always all shown
# A checked file is kept in session state (so a rerun does not parse it again) only up to
# this many rows: a session holds it while the tab stays open, and a 1M-row CSV held
# 1.2 GB. A larger file (at most core.reading_files.MAX_ROWS) is parsed again per rerun.
KEEP_CHECKED_ROWS = 20_000
RELEASE_LABELS = {
    "name": "Release name",
    "date": "Release date",
    "hypotheses": "Hypotheses it ships",
}

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


def _hypotheses(count: int) -> str:
    return f"{count} hypothesis" if count == 1 else f"{count} hypotheses"


def release_form(frame: Frame, team: TeamInfo, today: dt.date) -> None:
    st.subheader("1 · Log the release", anchor=False)
    form = FormState(f"record.release.{team.id}", entity="release")
    with read_session(frame.engine) as session:
        hypotheses = edit_queries.open_hypotheses(session, team_id=team.id)
    labels = {h.id: h.label for h in hypotheses}
    with st.form(f"{form.name}#{form.generation}", border=True):
        a, b, c = st.columns([2, 1, 2])
        name = a.text_input(
            "Release name", key=form.init("name", ""), placeholder="e.g. v2.3 or 2026-11 checkout"
        )
        when = b.date_input("Release date", key=form.init("date", today), format="YYYY-MM-DD")
        link = c.text_input("Link", key=form.init("link", ""), placeholder="https://…")
        a, b = st.columns([2, 3])
        notes = a.text_input("Notes", key=form.init("notes", ""))
        shipped: list[int] = []
        if hypotheses:
            shipped = b.multiselect(
                "Hypotheses it ships",
                list(labels),
                key=form.init("hypotheses", []),
                format_func=lambda i: labels[i],
                placeholder="Choose the hypotheses this release tests",
                help="Their verdicts start measuring from the release date",
            )
        else:
            b.caption("No open hypotheses to link: every one has a release or a decision.")
        submitted = st.form_submit_button("Log release")
    if submitted:
        save(
            frame,
            form,
            lambda session, key: create_release(
                session,
                actor=frame.actor,
                team_id=team.id,
                name=name,
                date=when,
                notes=notes,
                link=link,
                hypothesis_ids=shipped,
                submission_key=key,
            ),
            success=lambda release: (
                f"Logged release {release.name} on {release.date.isoformat()}"
                + (f", shipping {_hypotheses(len(shipped))}." if shipped else ".")
            ),
            labels=RELEASE_LABELS,
        )
    form.show_status()


def readings_form(frame: Frame, team: TeamInfo, today: dt.date) -> None:
    st.subheader("2 · Enter this week's readings", anchor=False)
    latest = latest_readings(as_of=today, team_ids=(team.id,))
    if latest.empty:
        st.info("This team has no metrics yet: add them on the Plan page.")
        st.page_link("pages/plan.py", label="Plan", query_params={"team": team.key})
        return
    form = FormState(f"record.readings.{team.id}", entity="reading")
    names = dict(zip(latest["metric_id"], latest["metric"], strict=True))
    pending_key = f"{form.name}#{form.generation}#pending"  # ends with the form cycle
    # The grid's rows stay as first shown until a save: a refreshed read (another
    # person's save) would otherwise give a new grid and drop what is being typed.
    base = form.keep("grid rows", lambda: readings_grid(latest, today))
    with st.form(f"{form.name}#{form.generation}", border=False):
        edited = st.data_editor(
            base,
            key=form.key("grid"),
            hide_index=True,
            num_rows="fixed",
            disabled=GRID_LOCKED,
            width="stretch",
            column_config={
                "Metric": st.column_config.TextColumn(width=220),
                "Unit": st.column_config.TextColumn(width=90),
                "Last value": st.column_config.TextColumn(width=90),
                "Last date": st.column_config.DateColumn(format="YYYY-MM-DD", width=100),
                "New value": st.column_config.NumberColumn(
                    help="Type this week's value; rows left blank are not saved", width=110
                ),
                "Date": st.column_config.DateColumn(
                    format="YYYY-MM-DD", help="The day the value was measured", width=110
                ),
                "Note": st.column_config.TextColumn(width="large"),
            },
        )
        submitted = st.form_submit_button("Save readings", type="primary")

    def write(entries: list[ReadingEntry], replace: bool) -> None:
        try:
            save(
                frame,
                form,
                lambda session, key: record_readings(
                    session,
                    actor=frame.actor,
                    entries=entries,
                    replace=replace,
                    source="bulk",
                    submission_key=key,
                ),
                success=lambda result: saved_readings_note(entries, names, result),
                passthrough=(ReplaceNeeded,),
            )
        except ReplaceNeeded as needed:
            st.session_state[pending_key] = (entries, needed.conflicts)

    if submitted:
        st.session_state.pop(pending_key, None)
        entries, problems = grid_entries(edited)
        if problems:
            show_problems(ValidationError(problems))
        elif not entries:
            st.info("Nothing to save yet: type a new value in at least one row.")
        else:
            write(entries, replace=False)

    pending = st.session_state.get(pending_key)
    if pending:
        entries, conflicts = pending
        st.warning(
            "Some of these metrics already have a different reading on that date. Nothing "
            "was saved yet: replace the stored values?",
            icon=":material/warning:",
        )
        # A changed note alone needs the replace too: show the notes when any differ.
        notes = any(c.stored_note or c.new_note for c in conflicts)
        st.dataframe(
            pd.DataFrame(
                [
                    {"Metric": c.metric, "Date": c.date, "Stored": c.stored, "New": c.new}
                    | ({"Stored note": c.stored_note, "New note": c.new_note} if notes else {})
                    for c in conflicts
                ]
            ),
            hide_index=True,
        )
        yes, no, _ = st.columns([2, 1, 3])
        if yes.button("Replace these readings", type="primary", key=f"{form.name}#replace"):
            write(entries, replace=True)
        if no.button("Keep the stored ones", key=f"{form.name}#cancel"):
            st.session_state.pop(pending_key, None)
            st.rerun()

    if form.show_status():
        st.page_link(
            "pages/team.py",
            label="See them on the team page",
            icon=":material/groups:",
            query_params={**shared_query_params(), "team": team.key},
        )


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
                "date": st.column_config.DateColumn("Date", format="YYYY-MM-DD"),
                "value": st.column_config.NumberColumn("Value"),
                "stored": st.column_config.NumberColumn("Stored value"),
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
    release_form(frame, team, today)
    readings_form(frame, team, today)
    sync_panel(frame, team_id=team.id, team_key=team.key)
with import_tab:
    import_section(frame, team)
with export_tab:
    export_section(frame, team, today)
