"""Admin: trains, teams, PIs, metrics, users and roles; workspace import and export; backup
download and restore; the audit log with filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from db import edit_queries
from db.edit_queries import EditRecord
from db.engine import read_session
from db.models import ROLES
from db.users import create_user, list_users, set_password, update_user
from db.writes import create_pi, create_team, create_train, update_pi, update_team, update_train
from ui.audit_log import audit_tab
from ui.digest import digest_admin
from ui.forms import FormState, KeyedWrite, RecordForm, metrics_editor, record_picker, save
from ui.frame import Frame, page_frame
from ui.iterations import iterations_admin
from ui.sources import metric_source_editor, sources_admin
from ui.workspace_admin import backup_tab, workspace_tab

frame = page_frame("admin")


def pick(
    noun: str, records: list[EditRecord], *, key: str, label: Callable[[EditRecord], str]
) -> EditRecord | None:
    """Choose a record to edit, or a new one."""
    by_id = {r.id: r for r in records}
    chosen = record_picker(
        f"{noun[0].upper()}{noun[1:]} to edit",
        {r.id: label(r) for r in records},
        new_label=f"Add a new {noun}",
        key=key,
    )
    return by_id.get(chosen) if chosen is not None else None


def train_choices(trains: list[EditRecord]) -> dict[int | None, str]:
    return {None: "None", **{t.id: t.label for t in trains}}


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
    record = pick(
        "train",
        trains,
        key="admin.train.choice",
        label=lambda t: t.label + (" (archived)" if t["archived"] else ""),
    )
    form = RecordForm(frame, "admin.train", entity="train", record=record)
    with st.form(form.form_key):
        name = st.text_input("Name", key=form.field("name", ""))
        submitted = st.form_submit_button("Save train" if record else "Add train", type="primary")
    form.actions(
        submitted,
        {"name": name},
        create=KeyedWrite(create_train, actor=frame.actor, name=name),
        update=form.update_write(update_train, "train_id", actor=frame.actor),
        created=lambda t: f"Added train {t.name}.",
        saved=lambda t: f"Saved train {t.name}.",
        archive="train",
        archived=bool(form.values.get("archived")),
    )


# ---------------------------------------------------------------- teams


def teams_tab(frame: Frame) -> None:
    with read_session(frame.engine) as session:
        teams = edit_queries.all_teams(session)
        trains = edit_queries.all_trains(session)
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
    record = pick(
        "team",
        teams,
        key="admin.team.choice",
        label=lambda t: t.label + ("" if t["active"] else " (inactive)"),
    )
    form = RecordForm(frame, "admin.team", entity="team", record=record)
    with st.form(form.form_key):
        a, b = st.columns([3, 1])
        name = a.text_input("Name", key=form.field("name", ""))
        key = b.text_input(
            "Key",
            key=form.field("key", ""),
            help="Short, in links: letters, digits, - or _ (shown in upper case)",
        )
        a, b = st.columns([3, 1])
        train_id = train_select(a, form, trains)
        active = b.checkbox("Active", key=form.field("active", True))
        submitted = st.form_submit_button("Save team" if record else "Add team", type="primary")
    fields = {"name": name, "key": key, "train_id": train_id, "active": active}
    form.actions(
        submitted,
        fields,
        create=KeyedWrite(create_team, actor=frame.actor, **fields),
        update=form.update_write(update_team, "team_id", actor=frame.actor),
        created=lambda t: f"Added team {t.name} ({t.key}).",
        saved=lambda t: f"Saved team {t.name}.",
    )


def train_select(where: Any, form: RecordForm, trains: list[EditRecord]) -> int | None:
    """The Train select box of the team and PI forms ("None": no train)."""
    names = train_choices(trains)
    return where.selectbox(
        "Train",
        list(names),
        key=form.field("train_id"),
        format_func=lambda i: names.get(i, f"#{i}"),
        placeholder="No train",
    )


# ---------------------------------------------------------------- PIs


def pis_tab(frame: Frame) -> None:
    with read_session(frame.engine) as session:
        pis = edit_queries.all_pis(session)
        trains = edit_queries.all_trains(session)
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
    record = pick("PI", pis, key="admin.pi.choice", label=lambda p: p.label)
    form = RecordForm(frame, "admin.pi", entity="pi", record=record)
    with st.form(form.form_key):
        a, b = st.columns(2)
        name = a.text_input("Name", key=form.field("name", ""), placeholder="PI 26.4")
        train_id = train_select(b, form, trains)
        a, b = st.columns(2)
        start = a.date_input("Start date", key=form.field("start_date"), format="YYYY-MM-DD")
        end = b.date_input("End date", key=form.field("end_date"), format="YYYY-MM-DD")
        submitted = st.form_submit_button("Save PI" if record else "Add PI", type="primary")
    fields = {"name": name, "train_id": train_id, "start_date": start, "end_date": end}
    form.actions(
        submitted,
        fields,
        create=KeyedWrite(create_pi, actor=frame.actor, **fields),
        update=form.update_write(update_pi, "pi_id", actor=frame.actor),
        created=lambda p: f"Added {p.name}.",
        saved=lambda p: f"Saved {p.name}.",
    )


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
    metric_source_editor(frame, team_id=team_id, team_name=names[team_id], context="admin")
    sources_admin(frame)


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
    chosen = record_picker(
        "User to edit", {u: u for u in by_name}, new_label="Add a new user", key="admin.user.choice"
    )
    user = by_name.get(chosen) if chosen is not None else None
    form = FormState(f"admin.user.{user.username if user else 'new'}", entity="user")
    with st.form(form.form_key):
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
        chosen_teams = st.multiselect(
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
        # Accounts have no version: an edit sends every field, as the form shows them.
        account = {"username": username, "role": role, "team_keys": chosen_teams}
        account |= {"display_name": display_name, "actor": frame.actor}
        if user is None:
            write = KeyedWrite(
                create_user, **account, password=password or None, email=email or None
            )
        else:
            write = KeyedWrite(update_user, **account, email=email, active=active)
        save(
            frame,
            form,
            write,
            success=lambda u: (
                f"Added user {u.username} ({u.role})."
                if user is None
                else f"Saved user {u.username}."
            ),
        )
    form.show_status()
    if user is not None:
        password_form(frame, user.username)


def password_form(frame: Frame, username: str) -> None:
    form = FormState(f"admin.password.{username}", entity="user")
    with st.form(form.form_key):
        column, _ = st.columns([1, 1])
        password = column.text_input("New password", type="password", key=form.init("password", ""))
        submitted = st.form_submit_button("Set password", help="Also lifts a sign-in lock")
    if submitted:
        save(
            frame,
            form,
            KeyedWrite(set_password, actor=frame.actor, username=username, password=password),
            success=f"Set the password of {username}.",
        )
    form.show_status()


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
        "Digests & API",
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
        digest_admin,
    ),
    strict=True,
):
    with tab:
        render(frame)
