"""Admin page: trains, teams, PIs, users; workspace import and export; backup and restore;
the audit log with filters. Admins only."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.changes import TeamChanges
from db import writes
from db.backup import backup
from db.engine import read_session, write_session
from db.models import PI, AuditEvent, Team, Train, User
from db.workspace import export_workspace
from tests.pages.update_workspace import (
    ADMIN,
    TODAY,
    Workspace,
    button,
    by_label,
    page,
    texts,
    unescape,
)
from ui import state


def admin_page(ws: Workspace) -> AppTest:
    at = page("pages/admin.py", ADMIN)
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> str:
    return unescape("\n".join(e.value for e in at.error))


def key(form: str, name: str, generation: int = 0) -> str:
    return f"{form}#{generation}.{name}"


def test_only_admins_reach_the_admin_page(ws: Workspace) -> None:
    at = page("pages/admin.py", ws.editor)

    assert "This page is for an admin" in texts(at)
    assert not [b for b in at.button if b.label == "Add team"]


# ---------------------------------------------------------------- trains, teams, PIs


def test_adding_a_train_lands_with_its_audit(ws: Workspace) -> None:
    at = admin_page(ws)
    at.text_input(key=key("admin.train.new", "name")).set_value("Cards")

    button(at, "Add train").click().run()

    assert "Added train Cards" in unescape(texts(at))
    assert ws.count(Train, Train.name == "Cards") == 1
    assert ws.audit("train", "create")[-1].summary == "train Cards"


def test_adding_a_team_lands_with_its_audit(ws: Workspace) -> None:
    at = admin_page(ws)
    at.text_input(key=key("admin.team.new", "name")).set_value("Wallet")
    at.text_input(key=key("admin.team.new", "key")).set_value("wal")
    at.selectbox(key=key("admin.team.new", "train_id")).set_value(ws.train_id)

    button(at, "Add team").click().run()

    assert "Added team Wallet (WAL)" in unescape(texts(at))
    assert ws.count(Team, Team.key == "WAL", Team.train_id == ws.train_id) == 1
    assert ws.audit("team", "create")[-1].summary == "team Wallet"


@pytest.mark.parametrize(
    ("name", "team_key", "message"),
    [
        ("", "WAL", "**Name**: is required"),
        ("Wallet", "bad key!", "**Key**: use letters, digits"),
        ("Checkout", "CHK", "**Name**: a team with this name or key already exists"),
    ],
)
def test_an_invalid_team_field_is_named_and_nothing_is_written(
    ws: Workspace, name: str, team_key: str, message: str
) -> None:
    at = admin_page(ws)
    at.text_input(key=key("admin.team.new", "name")).set_value(name)
    at.text_input(key=key("admin.team.new", "key")).set_value(team_key)

    button(at, "Add team").click().run()

    assert message in errors(at)
    assert ws.count(Team) == 2


def test_a_stale_team_is_refused_with_the_input_kept(ws: Workspace) -> None:
    form = f"admin.team.{ws.src}"
    at = admin_page(ws)
    by_label(at.selectbox, "Team to edit").set_value(ws.src).run()
    at.text_input(key=key(form, "name")).set_value("Search and browse")
    with write_session(ws.engine) as session:
        writes.update_team(
            session,
            actor=ADMIN,
            team_id=ws.src,
            expected_version=1,
            changes=TeamChanges(key="SRCH"),
        )

    button(at, "Save team").click().run()

    warning = unescape(at.warning[0].value)
    assert "this team was changed by test-admin" in warning
    assert at.text_input(key=key(form, "name")).value == "Search and browse"
    assert ws.get(Team, ws.src).name == "Search"


def test_the_same_team_submission_twice_writes_once(ws: Workspace) -> None:
    at = admin_page(ws)
    at.session_state[state.SUBMISSIONS] = {"admin.team.new": "team-click-1"}
    at.text_input(key=key("admin.team.new", "name")).set_value("Wallet")
    at.text_input(key=key("admin.team.new", "key")).set_value("WAL")
    button(at, "Add team").click().run()

    at.session_state[state.SUBMISSIONS] = {"admin.team.new": "team-click-1"}
    at.text_input(key=key("admin.team.new", "name", 1)).set_value("Wallet")
    at.text_input(key=key("admin.team.new", "key", 1)).set_value("WAL")
    button(at, "Add team").click().run()

    assert "Already saved" in unescape(texts(at))
    assert ws.count(Team) == 3


def test_adding_a_pi_lands_and_an_overlapping_one_is_refused(ws: Workspace) -> None:
    at = admin_page(ws)
    start = TODAY + dt.timedelta(days=121)
    at.text_input(key=key("admin.pi.new", "name")).set_value("PI later")
    at.selectbox(key=key("admin.pi.new", "train_id")).set_value(ws.train_id)
    at.date_input(key=key("admin.pi.new", "start_date")).set_value(start)
    at.date_input(key=key("admin.pi.new", "end_date")).set_value(start + dt.timedelta(days=70))
    button(at, "Add PI").click().run()
    assert ws.count(PI, PI.name == "PI later") == 1

    at.text_input(key=key("admin.pi.new", "name", 1)).set_value("PI clash")
    at.selectbox(key=key("admin.pi.new", "train_id", 1)).set_value(ws.train_id)
    at.date_input(key=key("admin.pi.new", "start_date", 1)).set_value(TODAY)
    at.date_input(key=key("admin.pi.new", "end_date", 1)).set_value(TODAY - dt.timedelta(days=1))
    button(at, "Add PI").click().run()

    assert "**End date**: must be after the start date" in errors(at)
    assert ws.count(PI) == 3


# ---------------------------------------------------------------- users


def test_adding_an_editor_with_teams(ws: Workspace) -> None:
    form = "admin.user.new"
    at = admin_page(ws)
    at.text_input(key=key(form, "username")).set_value("erin")
    at.selectbox(key=key(form, "role")).set_value("editor")
    at.multiselect(key=key(form, "teams")).set_value(["CHK"])
    at.text_input(key=key(form, "password")).set_value("long enough secret")

    button(at, "Add user").click().run()

    assert "Added user erin (editor)" in unescape(texts(at))
    users = next(t.value for t in at.dataframe if "Username" in t.value.columns)
    assert users.set_index("Username").loc["erin", "Teams"] == "CHK"
    assert "long enough secret" not in json.dumps([e.after for e in ws.audit("user")])


def test_a_bad_user_is_refused_naming_each_field(ws: Workspace) -> None:
    form = "admin.user.new"
    at = admin_page(ws)
    at.text_input(key=key(form, "username")).set_value("")
    at.text_input(key=key(form, "password")).set_value("short")

    button(at, "Add user").click().run()

    assert "**Username**: is required" in errors(at)
    assert "**Password**: must have at least 8 characters" in errors(at)
    assert ws.count(User) == 0


# ---------------------------------------------------------------- workspace


def upload(at: AppTest, label: str, name: str, content: bytes) -> AppTest:
    by_label(at.file_uploader, label).set_value((name, content, "application/octet-stream"))
    return at.run()


def test_importing_a_workspace_document_merges_it(ws: Workspace) -> None:
    with read_session(ws.engine) as session:
        document = export_workspace(session)
    document["trains"].append({"name": "Cards"})
    at = upload(admin_page(ws), "Workspace JSON", "ws.json", json.dumps(document).encode())
    assert "The document is valid" in texts(at)

    button(at, "Import workspace").click().run()

    assert not at.exception
    assert "Imported ws.json: created 1 trains" in unescape(texts(at))
    assert ws.count(Train, Train.name == "Cards") == 1
    assert ws.audit("workspace", "import")


def test_a_bad_workspace_document_names_its_problems_and_writes_nothing(ws: Workspace) -> None:
    document = {"format": "outcome-board/1", "teams": [{"name": "Wallet"}]}
    at = upload(admin_page(ws), "Workspace JSON", "ws.json", json.dumps(document).encode())

    assert "cannot be imported" in errors(at) and "teams" in errors(at)
    assert not [b for b in at.button if b.label == "Import workspace"]
    assert ws.count(Team) == 2


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"team,metric\n", "is not a JSON document"),
        (b"\xff\xfe junk", "is not a JSON document"),
        (b"[" * 5000 + b"]" * 5000, "is nested too deeply"),  # past Python's parser
    ],
)
def test_a_file_that_is_no_workspace_document_is_named_and_writes_nothing(
    ws: Workspace, content: bytes, problem: str
) -> None:
    at = upload(admin_page(ws), "Workspace JSON", "upload.json", content)

    assert not at.exception
    assert "cannot be imported" in errors(at)
    assert f"**File**: {problem}" in errors(at)
    assert not [b for b in at.button if b.label == "Import workspace"]
    assert ws.count(Team) == 2


def test_a_problem_quoting_a_lone_surrogate_is_shown(ws: Workspace) -> None:
    """JSON may escape half a surrogate pair, which Streamlit cannot send to the browser
    (it encodes every text as UTF-8); the problem quoting it shows it escaped."""
    document = {"format": "outcome-board/\ud800", "teams": []}
    at = upload(admin_page(ws), "Workspace JSON", "ws.json", json.dumps(document).encode())

    assert not at.exception
    assert "(got “outcome-board/" in errors(at) and "ud800”)" in errors(at)
    assert ws.count(Team) == 2


# ---------------------------------------------------------------- backup


def test_a_damaged_backup_is_refused_and_nothing_changes(ws: Workspace) -> None:
    at = admin_page(ws)
    at = upload(at, "Backup file", "backup.db", b"SQLite format 3\x00" + b"\x00" * 200)
    by_label(
        at.checkbox, "I understand that restoring replaces every record, account and audit event"
    ).check().run()

    button(at, "Restore").click().run()

    assert "**File**:" in errors(at) and "Nothing was changed" in errors(at)
    assert ws.count(Team) == 2


def test_restoring_a_backup_brings_the_database_back(ws: Workspace, tmp_path: Path) -> None:
    copy = backup(ws.engine, tmp_path / "backup.bin").path
    with write_session(ws.engine) as session:
        writes.create_train(session, actor=ADMIN, name="Made after the backup")
    at = upload(admin_page(ws), "Backup file", "backup.db", copy.read_bytes())
    by_label(
        at.checkbox, "I understand that restoring replaces every record, account and audit event"
    ).check().run()

    button(at, "Restore").click().run()

    assert not at.exception
    assert "Restored the database from backup.db" in unescape(texts(at))
    assert ws.count(Train) == 1
    assert ws.count(AuditEvent, AuditEvent.action == "restore") == 1


def test_backup_and_export_are_offered_as_downloads(ws: Workspace) -> None:
    at = admin_page(ws)

    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download workspace JSON", "Download backup"]


# ---------------------------------------------------------------- audit log


def test_the_audit_log_filters_and_shows_before_and_after(ws: Workspace) -> None:
    with write_session(ws.engine) as session:
        writes.update_team(
            session,
            actor=ADMIN,
            team_id=ws.src,
            expected_version=1,
            changes=TeamChanges(name="Find"),
        )
    at = admin_page(ws)

    by_label(at.multiselect, "Entity").set_value(["team"])
    by_label(at.multiselect, "What").set_value(["update"]).run()

    events = next(t.value for t in at.dataframe if "changed" in t.value.columns)
    assert list(events["entity"]) == ["team"]
    row = events.iloc[0]
    assert (row["changed"], row["actor"]) == ("name", "test-admin")
    assert (json.loads(row["before"]), json.loads(row["after"])) == (
        {"name": "Search"},
        {"name": "Find"},
    )
