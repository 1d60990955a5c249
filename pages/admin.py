"""Admin: trains, teams, PIs, metrics, users and roles; workspace import and export; backup
download and restore; the audit log with filters."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from core.changes import PIChanges, TeamChanges, TrainChanges
from core.errors import PermissionDenied, ValidationError
from db import edit_queries
from db.backup import backup, restore
from db.edit_queries import EditRecord
from db.engine import is_sqlite, read_session
from db.models import AUDIT_ACTIONS, ROLES
from db.users import create_user, list_users, set_password, update_user
from db.workspace import (
    export_workspace,
    import_workspace,
    parse_document,
    validate_workspace,
)
from db.writes import create_pi, create_team, create_train, update_pi, update_team, update_train
from ui.data import clear_reads
from ui.forms import (
    NEW,
    FormState,
    archive_button,
    escape_markdown,
    metrics_editor,
    save,
    save_changes,
    show_problems,
)
from ui.frame import Frame, page_frame
from ui.iterations import iterations_admin

frame = page_frame("admin")

AUDIT_LIMITS = (100, 500, 2_000)


def record_picker(
    noun: str, records: list[EditRecord], *, key: str, label: Callable[[EditRecord], str]
) -> EditRecord | None:
    """Choose a record to edit, or a new one."""
    by_id = {r.id: r for r in records}
    column, _ = st.columns([1, 2])
    choice = column.selectbox(
        f"{noun[0].upper()}{noun[1:]} to edit",
        [NEW, *by_id],
        format_func=lambda i: f"Add a new {noun}" if i == NEW else label(by_id[i]),
        key=key,
    )
    return by_id.get(choice) if choice != NEW else None


# ---------------------------------------------------------------- trains


def trains_tab(frame: Frame) -> None:
    with read_session(frame.engine) as session:
        trains = edit_queries.all_trains(session)
    if trains:
        st.dataframe(
            pd.DataFrame([{"Train": t["name"], "Archived": t["archived"]} for t in trains]),
            hide_index=True,
        )
    else:
        st.caption("No trains: a single-train install may never need one.")
    record = record_picker(
        "train",
        trains,
        key="admin.train.choice",
        label=lambda t: t.label + (" (archived)" if t["archived"] else ""),
    )
    form = FormState(
        f"admin.train.{record.id if record else 'new'}",
        entity="train",
        record_id=record.id if record else None,
    )
    version = form.open(record)
    with st.form(f"{form.name}#{form.generation}"):
        name = st.text_input("Name", key=form.init("name", record["name"] if record else ""))
        submitted = st.form_submit_button("Save train" if record else "Add train", type="primary")
    if submitted:
        if record is None:
            save(
                frame,
                form,
                lambda s, key: create_train(s, actor=frame.actor, name=name, submission_key=key),
                success=lambda t: f"Added train {t.name}.",
            )
        else:
            save(
                frame,
                form,
                lambda s, key: update_train(
                    s,
                    actor=frame.actor,
                    train_id=record.id,
                    expected_version=version,
                    submission_key=key,
                    changes=TrainChanges(name=name),
                ),
                success=lambda t: f"Saved train {t.name}.",
            )
    form.show_status()
    if record is not None:
        archive_button(
            frame,
            form,
            archived=bool(record["archived"]),
            noun="train",
            write=lambda s, archived, key: update_train(
                s,
                actor=frame.actor,
                train_id=record.id,
                expected_version=version,
                submission_key=key,
                changes=TrainChanges(archived=archived),
            ),
        )


# ---------------------------------------------------------------- teams


def teams_tab(frame: Frame) -> None:
    with read_session(frame.engine) as session:
        teams = edit_queries.all_teams(session)
        trains = edit_queries.all_trains(session)
    train_names = {t.id: t.label for t in trains}
    if teams:
        st.dataframe(
            pd.DataFrame(
                [
                    {"Team": t["name"], "Key": t["key"], "Train": t["train"], "Active": t["active"]}
                    for t in teams
                ]
            ),
            hide_index=True,
        )
    record = record_picker(
        "team",
        teams,
        key="admin.team.choice",
        label=lambda t: t.label + ("" if t["active"] else " (inactive)"),
    )
    form = FormState(
        f"admin.team.{record.id if record else 'new'}",
        entity="team",
        record_id=record.id if record else None,
    )
    version = form.open(record)
    values: dict[str, Any] = dict(record.values) if record else {}
    with st.form(f"{form.name}#{form.generation}"):
        a, b = st.columns([3, 1])
        name = a.text_input("Name", key=form.init("name", values.get("name", "")))
        key = b.text_input(
            "Key",
            key=form.init("key", values.get("key", "")),
            help="Short, in links: letters, digits, - or _ (shown in upper case)",
        )
        a, b = st.columns([3, 1])
        train_id = a.selectbox(
            "Train",
            [None, *train_names],
            key=form.init("train_id", values.get("train_id")),
            format_func=lambda i: "None" if i is None else train_names.get(i, f"#{i}"),
            placeholder="No train",
        )
        active = b.checkbox("Active", key=form.init("active", values.get("active", True)))
        submitted = st.form_submit_button("Save team" if record else "Add team", type="primary")
    fields = {"name": name, "key": key, "train_id": train_id, "active": active}
    if submitted:
        if record is None:
            save(
                frame,
                form,
                lambda s, key: create_team(s, actor=frame.actor, submission_key=key, **fields),
                success=lambda t: f"Added team {t.name} ({t.key}).",
            )
        else:
            save_changes(
                frame,
                form,
                fields,
                lambda s, changes, key: update_team(
                    s,
                    actor=frame.actor,
                    team_id=record.id,
                    expected_version=version,
                    submission_key=key,
                    changes=TeamChanges.of(changes),
                ),
                success=lambda t: f"Saved team {t.name}.",
            )
    form.show_status()


# ---------------------------------------------------------------- PIs


def pis_tab(frame: Frame) -> None:
    with read_session(frame.engine) as session:
        pis = edit_queries.all_pis(session)
        trains = edit_queries.all_trains(session)
    train_names = {t.id: t.label for t in trains}
    if pis:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "PI": p["name"],
                        "Train": p["train"],
                        "Start": p["start_date"],
                        "End": p["end_date"],
                    }
                    for p in pis
                ]
            ),
            hide_index=True,
        )
    record = record_picker("PI", pis, key="admin.pi.choice", label=lambda p: p.label)
    form = FormState(
        f"admin.pi.{record.id if record else 'new'}",
        entity="pi",
        record_id=record.id if record else None,
    )
    version = form.open(record)
    values: dict[str, Any] = dict(record.values) if record else {}
    with st.form(f"{form.name}#{form.generation}"):
        a, b = st.columns(2)
        name = a.text_input(
            "Name", key=form.init("name", values.get("name", "")), placeholder="PI 26.4"
        )
        train_id = b.selectbox(
            "Train",
            [None, *train_names],
            key=form.init("train_id", values.get("train_id")),
            format_func=lambda i: "None" if i is None else train_names.get(i, f"#{i}"),
            placeholder="No train",
        )
        a, b = st.columns(2)
        start = a.date_input(
            "Start date", key=form.init("start_date", values.get("start_date")), format="YYYY-MM-DD"
        )
        end = b.date_input(
            "End date", key=form.init("end_date", values.get("end_date")), format="YYYY-MM-DD"
        )
        submitted = st.form_submit_button("Save PI" if record else "Add PI", type="primary")
    fields = {"name": name, "train_id": train_id, "start_date": start, "end_date": end}
    if submitted:
        if record is None:
            save(
                frame,
                form,
                lambda s, key: create_pi(s, actor=frame.actor, submission_key=key, **fields),
                success=lambda p: f"Added {p.name}.",
            )
        else:
            save_changes(
                frame,
                form,
                fields,
                lambda s, changes, key: update_pi(
                    s,
                    actor=frame.actor,
                    pi_id=record.id,
                    expected_version=version,
                    submission_key=key,
                    changes=PIChanges.of(changes),
                ),
                success=lambda p: f"Saved {p.name}.",
            )
    form.show_status()


# ---------------------------------------------------------------- metrics


def metrics_tab(frame: Frame) -> None:
    with read_session(frame.engine) as session:
        teams = edit_queries.all_teams(session)
    if not teams:
        st.info("Add a team first.")
        return
    names = {t.id: t.label for t in teams}
    column, _ = st.columns([1, 2])
    team_id = column.selectbox(
        "Team", list(names), format_func=lambda i: names[i], key="admin.metrics.team"
    )
    metrics_editor(frame, team_id=team_id, team_name=names[team_id], context="admin")


# ---------------------------------------------------------------- users


def users_tab(frame: Frame) -> None:
    with read_session(frame.engine) as session:
        users = list_users(session)
        teams = edit_queries.all_teams(session)
    team_keys = [t["key"] for t in teams]
    if users:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Username": u.username,
                        "Display name": u.display_name,
                        "E-mail": u.email or "",
                        "Role": u.role,
                        "Teams": ", ".join(u.team_keys),
                        "Active": u.active,
                        "Password": u.has_password,
                        "Locked until": u.locked_until,
                    }
                    for u in users
                ]
            ),
            hide_index=True,
        )
    by_name = {u.username: u for u in users}
    column, _ = st.columns([1, 2])
    choice = column.selectbox(
        "User to edit",
        [NEW, *by_name],
        format_func=lambda u: "Add a new user" if u == NEW else u,
        key="admin.user.choice",
    )
    user = by_name.get(choice) if choice != NEW else None
    form = FormState(f"admin.user.{user.username if user else 'new'}", entity="user")
    with st.form(f"{form.name}#{form.generation}"):
        a, b = st.columns(2)
        if user is None:
            username = a.text_input("Username", key=form.init("username", ""))
        else:
            username = user.username
            a.text_input("Username", value=user.username, disabled=True, key=form.key("shown"))
        display_name = b.text_input(
            "Display name", key=form.init("display_name", user.display_name if user else "")
        )
        a, b = st.columns(2)
        email = a.text_input(
            "E-mail",
            key=form.init("email", (user.email or "") if user else ""),
            help="For single sign-on: the identity provider's e-mail of this person",
        )
        role = b.selectbox(
            "Role",
            ROLES,
            key=form.init("role", user.role if user else "editor"),
            help="Admins change everything; editors their teams' data; viewers only look",
        )
        chosen = st.multiselect(
            "Teams",
            team_keys,
            key=form.init("teams", [k for k in (user.team_keys if user else ()) if k in team_keys]),
            help="The teams an editor may change",
        )
        if user is None:
            password = st.text_input(
                "Password",
                type="password",
                key=form.init("password", ""),
                help="Leave blank for an account that signs in only through single sign-on",
            )
            active = True
        else:
            password = ""
            active = st.checkbox("Active", key=form.init("active", user.active))
        submitted = st.form_submit_button("Save user" if user else "Add user", type="primary")
    if submitted:
        if user is None:
            save(
                frame,
                form,
                lambda s, key: create_user(
                    s,
                    actor=frame.actor,
                    username=username,
                    role=role,
                    team_keys=chosen,
                    password=password or None,
                    display_name=display_name,
                    email=email or None,
                    submission_key=key,
                ),
                success=lambda u: f"Added user {u.username} ({u.role}).",
            )
        else:
            save(
                frame,
                form,
                lambda s, key: update_user(
                    s,
                    actor=frame.actor,
                    username=username,
                    role=role,
                    team_keys=chosen,
                    display_name=display_name,
                    email=email,
                    active=active,
                    submission_key=key,
                ),
                success=lambda u: f"Saved user {u.username}.",
            )
    form.show_status()
    if user is not None:
        password_form(frame, user.username)


def password_form(frame: Frame, username: str) -> None:
    form = FormState(f"admin.password.{username}", entity="user")
    with st.form(f"{form.name}#{form.generation}"):
        column, _ = st.columns([1, 1])
        password = column.text_input("New password", type="password", key=form.init("password", ""))
        submitted = st.form_submit_button("Set password", help="Also lifts a sign-in lock")
    if submitted:
        save(
            frame,
            form,
            lambda s, key: set_password(
                s, actor=frame.actor, username=username, password=password, submission_key=key
            ),
            success=f"Set the password of {username}.",
        )
    form.show_status()


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
    if st.button("Import workspace", type="primary", key=f"{form.name}#{form.generation}#go"):
        save(
            frame,
            form,
            lambda s, key: import_workspace(
                s, actor=frame.actor, document=parsed, submission_key=key
            ),
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
        key=f"{form.name}#{form.generation}#go",
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


# ---------------------------------------------------------------- the page

st.title("Admin", anchor=False)
tabs = st.tabs(
    [
        "Trains",
        "Teams",
        "PIs",
        "Iterations",
        "Metrics",
        "Users",
        "Workspace",
        "Backup",
        "Audit log",
    ]
)
for tab, render in zip(
    tabs,
    (
        trains_tab,
        teams_tab,
        pis_tab,
        iterations_admin,
        metrics_tab,
        users_tab,
        workspace_tab,
        backup_tab,
        audit_tab,
    ),
    strict=True,
):
    with tab:
        render(frame)
