"""The Admin page's Workspace and Backup tabs: export and import the workspace as JSON,
download a backup, and restore one (each checked before anything is written)."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

from core.errors import PermissionDenied, ValidationError
from db.backup import backup, restore
from db.engine import is_sqlite, read_session
from db.workspace import export_workspace, import_workspace, parse_document, validate_workspace
from ui.data import clear_reads
from ui.forms import FormState, KeyedWrite, save, show_problems
from ui.site import Frame
from ui.text import escape_markdown

# ---------------------------------------------------------------- workspace


def workspace_tab(frame: Frame) -> None:
    engine = frame.engine
    st.markdown("**Export**")
    st.caption(
        "The whole workspace as one JSON document (“outcome-board/1”): trains, teams, PIs, "
        "metrics, releases, outcomes with targets and hypotheses, readings and check-ins."
    )

    def document() -> bytes:
        with read_session(engine) as session:
            data = export_workspace(session)
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    st.download_button(
        "Download workspace JSON",
        data=document,
        file_name=f"workspace-{dt.date.today().isoformat()}.json",
        mime="application/json",
        on_click="ignore",
        icon=":material/download:",
    )
    st.divider()
    st.markdown("**Import**")
    st.caption(
        "Merges a document by natural keys: records it names are created or updated, others "
        "are left alone. The whole document is checked first; a bad one writes nothing."
    )
    form = FormState("admin.workspace", entity="workspace")
    uploaded = st.file_uploader("Workspace JSON", type=["json"], key=form.key("file"))
    shown = form.show_status()
    if uploaded is None:
        return
    try:
        parsed = parse_document(uploaded.getvalue())
        with read_session(frame.engine) as session:
            validate_workspace(session, document=parsed)
    except ValidationError as error:
        show_problems(error, heading="This document cannot be imported. Nothing was written:")
        return
    if not shown:
        st.success("The document is valid.", icon=":material/check_circle:")
    if st.button("Import workspace", type="primary", key=form.button_key("go")):
        save(
            frame,
            form,
            KeyedWrite(import_workspace, actor=frame.actor, document=parsed),
            success=lambda summary: f"Imported {uploaded.name}: {summary.describe()}.",
        )


# ---------------------------------------------------------------- backup


def backup_tab(frame: Frame) -> None:
    engine = frame.engine
    sqlite = is_sqlite(engine)
    st.markdown("**Backup**")
    st.caption(
        "A copy of the SQLite database, consistent while the app keeps writing."
        if sqlite
        else "A JSON backup of the workspace and the accounts (for a full PostgreSQL "
        "server backup with the audit log, use pg_dump)."
    )
    suffix = ".db" if sqlite else ".json"

    def backup_bytes() -> bytes:
        with tempfile.TemporaryDirectory(prefix="outcomes-backup-") as folder:
            path = Path(folder) / f"backup{suffix}"
            backup(engine, path)
            return path.read_bytes()

    st.download_button(
        "Download backup",
        data=backup_bytes,
        file_name=f"outcomes-{dt.datetime.now().strftime('%Y%m%d-%H%M')}{suffix}",
        mime="application/octet-stream",
        on_click="ignore",
        icon=":material/download:",
    )
    st.divider()
    st.markdown("**Restore**")
    st.caption(
        "Replaces the whole database with a backup file. The file is checked first: a "
        "damaged file, or one that is not an Outcome Board backup, is refused and nothing "
        "changes."
        + (
            " A copy of the database as it was is kept in a backups folder beside it."
            if sqlite
            else ""
        )
    )
    form = FormState("admin.restore", entity="database")
    uploaded = st.file_uploader(
        "Backup file", type=["db", "sqlite", "sqlite3", "json"], key=form.key("file")
    )
    sure = st.checkbox(
        "I understand that restoring replaces every record, account and audit event",
        key=form.key("sure"),
    )
    if st.button(
        "Restore",
        type="primary",
        disabled=uploaded is None or not sure,
        key=form.button_key("go"),
    ):
        restore_upload(frame, form, uploaded)
    form.show_status()


def restore_upload(frame: Frame, form: FormState, uploaded: Any) -> None:
    # A restore replaces the submission keys too, so a repeat is caught here instead.
    done = st.session_state.setdefault("admin.restore.done", set())
    if uploaded.file_id in done:
        st.info("Already restored from this upload: nothing was done twice.")
        return
    try:
        with tempfile.TemporaryDirectory(prefix="outcomes-restore-") as folder:
            path = Path(folder) / Path(uploaded.name).name
            path.write_bytes(uploaded.getvalue())
            result = restore(frame.engine, path, actor=frame.actor)
    except ValidationError as error:
        show_problems(error, heading="Not restored: the file was refused. Nothing was changed.")
        return
    except PermissionDenied as error:
        st.error(f"Not restored: {escape_markdown(error)}", icon=":material/block:")
        return
    done.add(uploaded.file_id)
    clear_reads()
    form.finish(result.summary + ".")
    st.rerun()
