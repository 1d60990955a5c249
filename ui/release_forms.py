"""Correcting mistakes after a save: edit or archive a logged release, delete a reading
(with a confirm step). Shown on Record and on the metric history view; the write path
(db/writes.py) checks the permission again and audits every change."""

from __future__ import annotations

import streamlit as st

from core.access import can_edit_team
from core.model import TeamInfo
from db import edit_queries
from db.engine import read_session
from db.writes import archive_release, update_release
from ui.forms import LABELS, FormState, RecordForm, save
from ui.history import PAGE_SIZE, delete_reading_form, metric_history, team_metrics
from ui.site import Frame
from ui.text import escape_markdown

# Not the Record form's own labels ("Release name", "Link", ...): both forms can be on
# one page, and a message names the field of the form it belongs to.
RELEASE_LABELS = {
    **LABELS,
    "name": "Name",
    "date": "Date",
    "link": "Web link",
    "notes": "Release notes",
}


def release_corrections(frame: Frame, team: TeamInfo, *, context: str) -> None:
    """Pick one of the team's releases, change its fields or archive it. Archived
    releases leave the charts' markers and every release choice; the audit keeps them."""
    if not can_edit_team(frame.actor, team.id):
        return
    archived = FormState(f"{context}.release.archive.{team.id}", entity="release")
    archived.show_status()
    with read_session(frame.engine) as session:
        releases = edit_queries.team_releases(session, team_id=team.id)
    if not releases:
        st.caption("No release logged yet.")
        return
    by_id = {r.id: r for r in releases}
    column, _ = st.columns([1, 1])
    choice = column.selectbox(
        "Release to correct",
        list(by_id),
        format_func=lambda i: by_id[i].label if i in by_id else str(i),
        key=f"{context}.release_choice.{team.id}",
    )
    record = by_id.get(choice)
    if record is None:
        return
    form = RecordForm(
        frame, f"{context}.release", entity="release", record=record, labels=RELEASE_LABELS
    )
    with st.form(form.form_key, border=True, enter_to_submit=False):
        a, b = st.columns([2, 1])
        name = a.text_input("Name", key=form.field("name", ""))
        when = b.date_input("Date", key=form.field("date"), format="YYYY-MM-DD")
        a, b = st.columns([1, 1])
        link = a.text_input("Web link", key=form.field("link", ""))
        notes = b.text_input("Release notes", key=form.field("notes", ""))
        submitted = st.form_submit_button("Save release", type="primary")
    fields = {"name": name, "date": when, "link": link, "notes": notes}
    if submitted:
        form.submit(
            fields,
            create=None,
            update=form.update_write(update_release, "release_id", actor=frame.actor),
            created="",
            saved=lambda r: f"Saved release {r.name} ({r.date.isoformat()}).",
        )
    form.show_status()
    # The archived release leaves the choices at once, and its form with it: the note
    # of the archive belongs to a form of the section, shown above.
    if st.button(
        "Archive this release",
        key=form.button_key("archive"),
        icon=":material/archive:",
        help="Hide it from the charts' markers and the release choices; the audit log keeps it",
    ):
        save(
            frame,
            archived,
            form.update_write(archive_release, "release_id", actor=frame.actor),
            success=f"Archived the release {record['name']}.",
            labels=RELEASE_LABELS,
        )


def reading_corrections(frame: Frame, team: TeamInfo, *, context: str) -> None:
    """Pick a metric, then one of its latest readings to delete (after confirming)."""
    if not can_edit_team(frame.actor, team.id):
        return
    metrics = [m for m in team_metrics(team_key=team.key) if not m.archived]
    if not metrics:
        return
    names = [m.name for m in metrics]
    column, _ = st.columns([1, 1])
    metric_name = column.selectbox(
        "Metric of the reading", names, key=f"{context}.reading_metric.{team.id}"
    )
    history = metric_history(team_key=team.key, metric_name=metric_name, offset=0, limit=PAGE_SIZE)
    if history is None or history.readings.empty:
        st.caption(escape_markdown(f"{metric_name} has no readings yet."))
        return
    delete_reading_form(frame, history)
