"""Shared form machinery for the update pages: widget state per form cycle, the opened
record's version, saving with an idempotency key, and how problems, conflicts and "already
saved" read; plus the forms several pages use (check-in, metrics)."""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from core.access import can_edit_team
from core.changes import MetricChanges
from core.errors import ConflictError, PermissionDenied, Problem, ValidationError
from core.explain import fmt_value, plural
from core.reading_files import ParsedReadings, format_value, problem_row
from db import edit_queries
from db.engine import read_session, write_session
from db.readings import BAD, IDENTICAL, REPLACE, ImportPlan, ImportResult, ReadingEntry
from db.readings import NEW as NEW_READING
from db.writes import (
    DuplicateSubmission,
    add_checkin,
    create_metric,
    update_metric,
)
from ui.data import clear_reads
from ui.frame import Frame
from ui.idempotency import rotate, submission_key
from ui.text import escape_markdown

T = TypeVar("T")

# How each field a write function names is labelled on the forms.
LABELS: dict[str, str] = {
    "name": "Name",
    "key": "Key",
    "title": "Title",
    "why": "Why",
    "owner": "Owner",
    "committed": "Committed",
    "planned_bv": "Planned business value",
    "parent": "Parent train outcome",
    "parent_id": "Parent train outcome",
    "status": "Status",
    "team": "Team",
    "team_id": "Team",
    "train": "Train",
    "train_id": "Train",
    "active": "Active",
    "archived": "Archived",
    "start_date": "Start date",
    "end_date": "End date",
    "unit": "Unit",
    "description": "Description",
    "source": "Source",
    "update_interval_days": "Update interval (days)",
    "decimals": "Decimals",
    "leading": "Leading",
    "metric": "Metric",
    "metric_id": "Metric",
    "baseline": "Baseline",
    "baseline_date": "Baseline date",
    "target": "Target value",
    "target_date": "Target date",
    "kind": "Kind",
    "band_low": "Band low",
    "band_high": "Band high",
    "if": "If we build",
    "if_text": "If we build",
    "expect": "We expect",
    "expect_text": "We expect",
    "because": "Because",
    "because_text": "Because",
    "direction": "Direction",
    "min_effect": "Minimum effect",
    "min_effect_unit": "Effect unit",
    "release": "Release",
    "release_id": "Release",
    "window_days": "Window (days)",
    "date": "Date",
    "notes": "Notes",
    "link": "Link",
    "hypotheses": "Hypotheses it ships",
    "confidence": "Confidence",
    "comment": "Comment",
    "username": "Username",
    "display_name": "Display name",
    "email": "E-mail",
    "role": "Role",
    "password": "Password",
    "file": "File",
}

ALREADY_SAVED = (
    "Already saved: this form was submitted before (a double click, a rerun or a "
    "reconnect), so nothing was written twice."
)


def label_of(where: str, labels: Mapping[str, str] = LABELS) -> str:
    return labels.get(where, where.replace("_", " ").capitalize() if where.islower() else where)


def show_problems(
    error: ValidationError,
    labels: Mapping[str, str] = LABELS,
    *,
    heading: str = "Not saved. Please fix:",
) -> None:
    """Every invalid field with its message, naming the field; nothing was written."""
    lines = [
        f"- **{escape_markdown(label_of(p.where, labels))}**: {escape_markdown(p.message)}"
        for p in error.problems
    ]
    st.error(heading + "\n" + "\n".join(lines), icon=":material/error:")


def show_conflict(error: ConflictError, labels: Mapping[str, str] = LABELS) -> None:
    """What changed since the form was opened, and by whom."""
    who = f" by {escape_markdown(error.by)}" if error.by else ""
    when = f" at {escape_markdown(error.at)} UTC" if error.at else ""
    st.warning(
        f"Not saved: this {escape_markdown(error.entity)} was changed{who}{when} since you "
        "opened it. Your input is kept below. Review what changed, then save again to "
        "overwrite it, or discard your changes.",
        icon=":material/sync_problem:",
    )
    if error.changes:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "field": label_of(name, labels),
                        "when you opened it": _cell(old),
                        "now": _cell(new),
                    }
                    for name, (old, new) in sorted(error.changes.items())
                ]
            ),
            hide_index=True,
        )


def _cell(value: object) -> str:
    return "" if value is None else str(value)


# How long the note of a save stays on screen (seconds).
NOTE_SECONDS = 20.0


class FormState:
    """One form's state across reruns: its widget keys (renewed by `finish`/`discard`,
    which give fresh widgets), the version of the record when the form was opened, its
    last note and any pending conflict. `record_id` None: a form that creates."""

    def __init__(self, name: str, *, entity: str = "", record_id: int | None = None) -> None:
        self.name = name
        self.entity = entity
        self.record_id = record_id

    @property
    def generation(self) -> int:
        return int(st.session_state.get(f"{self.name}#gen", 0))

    def key(self, field: str) -> str:
        return f"{self.name}#{self.generation}.{field}"

    def init(self, field: str, value: Any) -> str:
        """The widget key of `field`, holding `value` until the user changes it."""
        key = self.key(field)
        if key not in st.session_state:
            st.session_state[key] = value
        return key

    def keep(self, name: str, make: Callable[[], T]) -> T:
        """A value made once per form cycle and kept across reruns."""
        key = f"{self.name}#{self.generation}#{name}"
        if key not in st.session_state:
            st.session_state[key] = make()
        return st.session_state[key]

    def value(self, field: str, default: Any = None) -> Any:
        return st.session_state.get(self.key(field), default)

    def opened_version(self, current: int | None) -> int | None:
        """The record's version when this form cycle opened it (kept across reruns)."""
        key = f"{self.name}#{self.generation}#version"
        if key not in st.session_state:
            st.session_state[key] = current
        return st.session_state[key]

    def open(self, record: edit_queries.EditRecord | None) -> int | None:
        """Remember the record's version and values as this form cycle first saw them;
        returns that version (what a save is checked against)."""
        values_key = f"{self.name}#{self.generation}#values"
        if values_key not in st.session_state:
            st.session_state[values_key] = dict(record.values) if record else {}
        return self.opened_version(record.version if record else None)

    def changes(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The fields the user changed since the form opened: an update sends only these,
        so a save after a conflict keeps what the other person changed elsewhere."""
        opened = st.session_state.get(f"{self.name}#{self.generation}#values", {})
        return {
            name: value
            for name, value in fields.items()
            if name not in opened or opened[name] != value
        }

    def accept_version(self, version: int | None) -> None:
        st.session_state[f"{self.name}#{self.generation}#version"] = version

    @property
    def conflict(self) -> ConflictError | None:
        return st.session_state.get(f"{self.name}#{self.generation}#conflict")

    def _set_conflict(self, error: ConflictError | None) -> None:
        st.session_state[f"{self.name}#{self.generation}#conflict"] = error

    def note(self, text: str) -> None:
        """A note this form shows on its next renders, for NOTE_SECONDS."""
        if text:
            st.session_state[f"{self.name}#note"] = (text, time.monotonic())

    def finish(self, note: str) -> None:
        """After a save landed: fresh widgets, a new submission key, a note to show."""
        self.note(note)
        self.discard()

    def discard(self) -> None:
        """Drop this cycle's input: the next run opens the record anew."""
        ended = f"{self.name}#{self.generation}#"
        for key in [k for k in st.session_state if str(k).startswith(ended)]:
            del st.session_state[key]
        st.session_state[f"{self.name}#gen"] = self.generation + 1
        rotate(self.name)

    def show_status(self) -> bool:
        """The note of the last save (once) and any conflict still to resolve; True when
        a note was shown."""
        # The note stays a few seconds rather than one run: a double click's second rerun
        # would otherwise wipe it, and the person would see no confirmation at all.
        text, at = st.session_state.get(f"{self.name}#note") or ("", 0.0)
        note = text if time.monotonic() - at < NOTE_SECONDS else ""
        if not note:
            st.session_state.pop(f"{self.name}#note", None)
        if note:
            st.success(escape_markdown(note), icon=":material/check_circle:")
        conflict = self.conflict
        if conflict is not None:
            show_conflict(conflict)
            st.button(
                "Discard my changes",
                key=f"{self.name}#{self.generation}#discard",
                on_click=self.discard,
                help="Load the values stored now",
            )
        return bool(note)


def save(
    frame: Frame,
    form: FormState,
    write: Callable[[Session, str], T],
    *,
    success: str | Callable[[T], str],
    labels: Mapping[str, str] = LABELS,
    passthrough: tuple[type[Exception], ...] = (),
) -> T | None:
    """Run `write(session, submission_key)` in one transaction. On success: clear the
    read caches, start a new form cycle with `success` as its note, and rerun. On a
    problem: say so here and keep the input. A submission already written: say so calmly.

    `write` passes the key to the write function's `submission_key=` (every db write a
    form uses takes one), so the claim and the change commit or roll back together.
    Exceptions in `passthrough` reach the caller (after the rollback)."""
    key = submission_key(form.name)
    try:
        with write_session(frame.engine) as session:
            result = write(session, key)
    except passthrough:
        raise
    except DuplicateSubmission:
        clear_reads()
        form.finish(ALREADY_SAVED)
        st.rerun()
    except ConflictError as error:
        if form.record_id is not None and form.entity:
            with read_session(frame.engine) as session:
                version = edit_queries.current_version(
                    session, entity=form.entity, record_id=form.record_id
                )
            # Saving again after seeing the changes overwrites them on purpose.
            form.accept_version(version)
        form._set_conflict(error)
        st.rerun()  # the form shows the conflict where it shows its status
    except PermissionDenied as error:
        st.error(f"Not saved: {escape_markdown(error)}", icon=":material/block:")
        return None
    except ValidationError as error:
        show_problems(error, labels)
        return None
    clear_reads()
    form.finish(success(result) if callable(success) else success)
    st.rerun()
    return result  # not reached: st.rerun() stops this run


def save_changes(
    frame: Frame,
    form: FormState,
    fields: Mapping[str, Any],
    write: Callable[[Session, dict[str, Any], str], T],
    *,
    success: str | Callable[[T], str],
    labels: Mapping[str, str] = LABELS,
) -> T | None:
    """Save an edit form: `write(session, changes, submission_key)` with only the changed
    fields; the write function claims the key."""
    changes = form.changes(fields)
    if not changes:
        st.info("Nothing to save: no field was changed.", icon=":material/info:")
        return None
    return save(
        frame,
        form,
        lambda session, key: write(session, changes, key),
        success=success,
        labels=labels,
    )


def options_with_none(ids: Sequence[int]) -> list[int | None]:
    return [None, *ids]


# ---------------------------------------------------------------- check-ins


def checkin_form(frame: Frame, outcome_id: int, team_id: int | None) -> None:
    """Confidence (1-10) and a comment on an outcome, for those who may edit its team;
    nothing at all for everyone else."""
    if not can_edit_team(frame.actor, team_id):
        return
    form = FormState(f"checkin.{outcome_id}", entity="checkin")
    with st.form(f"{form.name}#{form.generation}", border=True):
        st.markdown("**Check in**")
        confidence = st.slider(
            "Confidence",
            min_value=1,
            max_value=10,
            key=form.init("confidence", 5),
            help="How sure are you that this outcome will be reached? 1: not at all, 10: certain.",
        )
        comment = st.text_area("Comment", key=form.init("comment", ""), height=80)
        submitted = st.form_submit_button("Check in", type="primary")
    if submitted:
        save(
            frame,
            form,
            lambda session, key: add_checkin(
                session,
                actor=frame.actor,
                outcome_id=outcome_id,
                confidence=confidence,
                comment=comment,
                submission_key=key,
            ),
            success=lambda checkin: f"Checked in with confidence {checkin.confidence}.",
        )
    form.show_status()


# ---------------------------------------------------------------- metrics

NEW = "new"


def metrics_table(metrics: Sequence[edit_queries.EditRecord]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Metric": m["name"],
                "Unit": m["unit"],
                "Leading": m["leading"],
                "Update interval (days)": m["update_interval_days"],
                "Decimals": m["decimals"],
                "Source": m["source"],
                "Archived": m["archived"],
            }
            for m in metrics
        ]
    )


def metrics_editor(frame: Frame, *, team_id: int, team_name: str, context: str) -> None:
    """A team's metrics: the list, then one form to add a metric or edit (and archive or
    restore) the chosen one. Read-only for someone who may not edit the team."""
    with read_session(frame.engine) as session:
        metrics = edit_queries.team_metrics(session, team_id=team_id, include_archived=True)
    if metrics:
        st.dataframe(metrics_table(metrics), hide_index=True)
    else:
        st.info(
            "This team has no metrics yet. Add the few that tell you whether users are better off."
        )
    if not can_edit_team(frame.actor, team_id):
        st.caption("You may not change this team's metrics.")
        return
    by_id = {m.id: m for m in metrics}
    column, _ = st.columns([1, 2])
    choice = column.selectbox(
        "Metric to edit",
        [NEW, *by_id],
        format_func=lambda i: "Add a new metric" if i == NEW else _archived_label(by_id[i]),
        key=f"{context}.metric_choice.{team_id}",
    )
    record = by_id.get(choice) if choice != NEW else None
    metric_form(frame, team_id=team_id, team_name=team_name, record=record, context=context)


def _archived_label(record: edit_queries.EditRecord) -> str:
    return f"{record.label} (archived)" if record.get("archived") else record.label


def metric_form(
    frame: Frame,
    *,
    team_id: int,
    team_name: str,
    record: edit_queries.EditRecord | None,
    context: str,
) -> None:
    form = FormState(
        f"{context}.metric.{record.id if record else f'new.{team_id}'}",
        entity="metric",
        record_id=record.id if record else None,
    )
    version = form.open(record)
    values = dict(record.values) if record else {}
    with st.form(f"{form.name}#{form.generation}", border=True):
        left, right = st.columns(2)
        name = left.text_input("Name", key=form.init("name", values.get("name", "")))
        unit = right.text_input(
            "Unit", key=form.init("unit", values.get("unit", "")), help='e.g. "%", "s", "users"'
        )
        description = st.text_area(
            "Description", key=form.init("description", values.get("description", "")), height=68
        )
        source = st.text_input(
            "Source",
            key=form.init("source", values.get("source", "")),
            help="Where the numbers come from (a dashboard, a query)",
        )
        a, b, c = st.columns(3)
        interval = a.number_input(
            "Update interval (days)",
            min_value=1,
            max_value=366,
            step=1,
            key=form.init("update_interval_days", values.get("update_interval_days", 14)),
            help="A metric not updated within this many days is stale",
        )
        decimals = b.number_input(
            "Decimals",
            min_value=0,
            max_value=6,
            step=1,
            key=form.init("decimals", values.get("decimals", 1)),
        )
        leading = c.checkbox(
            "Leading",
            key=form.init("leading", values.get("leading", False)),
            help="Moves soon after a release (a leading indicator), rather than lagging",
        )
        submitted = st.form_submit_button("Save metric" if record else "Add metric", type="primary")
    fields = {
        "name": name,
        "unit": unit,
        "description": description,
        "source": source,
        "update_interval_days": interval,
        "decimals": decimals,
        "leading": leading,
    }
    if submitted:
        if record is None:
            save(
                frame,
                form,
                lambda session, key: create_metric(
                    session, actor=frame.actor, team_id=team_id, submission_key=key, **fields
                ),
                success=lambda m: f"Added metric {m.name} to {team_name}.",
            )
        else:
            save_changes(
                frame,
                form,
                fields,
                lambda session, changes, key: update_metric(
                    session,
                    actor=frame.actor,
                    metric_id=record.id,
                    expected_version=version,
                    submission_key=key,
                    changes=MetricChanges.of(changes),
                ),
                success=lambda m: f"Saved metric {m.name}.",
            )
    form.show_status()
    if record is not None:
        archive_button(
            frame,
            form,
            archived=bool(record.get("archived")),
            noun="metric",
            write=lambda session, archived, key: update_metric(
                session,
                actor=frame.actor,
                metric_id=record.id,
                expected_version=version,
                submission_key=key,
                changes=MetricChanges(archived=archived),
            ),
        )


def archive_button(
    frame: Frame,
    form: FormState,
    *,
    archived: bool,
    noun: str,
    write: Callable[[Session, bool, str], Any],
    help: str | None = None,
) -> None:
    """Archive (soft delete) or restore the record `form` edits, with its version."""
    label = f"Restore this {noun}" if archived else f"Archive this {noun}"
    if st.button(
        label,
        key=f"{form.name}#{form.generation}#archive",
        icon=":material/unarchive:" if archived else ":material/archive:",
        help=help or ("Bring it back" if archived else "Hide it; it can be restored later"),
    ):
        save(
            frame,
            form,
            lambda session, key: write(session, not archived, key),
            success=f"{'Restored' if archived else 'Archived'} the {noun}.",
        )


# ---------------------------------------------------------------- the readings grid

GRID_COLUMNS = ("Metric", "Unit", "Last value", "Last date", "New value", "Date", "Note")
GRID_LOCKED = ["Metric", "Unit", "Last value", "Last date"]


def readings_grid(latest: pd.DataFrame, today: dt.date) -> pd.DataFrame:
    """One row per metric (indexed by metric id): what is stored, then empty cells for
    the new value, its date (today) and a note."""
    rows = [
        {
            "Metric": row.metric,
            "Unit": row.unit or "",
            "Last value": ""
            if row.last_value is None or pd.isna(row.last_value)
            else fmt_value(float(row.last_value), int(row.decimals)),
            "Last date": row.last_date if isinstance(row.last_date, dt.date) else None,
            "New value": float("nan"),
            "Date": today,
            "Note": "",
        }
        for row in latest.itertuples(index=False)
    ]
    frame = pd.DataFrame(rows, columns=list(GRID_COLUMNS), index=list(latest["metric_id"]))
    frame["New value"] = frame["New value"].astype(float)
    return frame


def _as_date(value: object) -> dt.date | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def grid_entries(edited: pd.DataFrame) -> tuple[list[ReadingEntry], list[Problem]]:
    """The readings a grid asks to record (every row with a new value), and the rows
    that cannot be recorded, named by metric."""
    entries: list[ReadingEntry] = []
    problems: list[Problem] = []
    for metric_id, row in edited.iterrows():
        value = row["New value"]
        note = "" if row["Note"] is None or pd.isna(row["Note"]) else str(row["Note"]).strip()
        has_value = value is not None and not pd.isna(value)
        if not has_value:
            if note:
                problems.append(Problem(f"{row['Metric']}: value", "a note needs a new value"))
            continue
        day = _as_date(row["Date"])
        if day is None:
            problems.append(Problem(f"{row['Metric']}: date", "is required"))
            continue
        entries.append(ReadingEntry(int(metric_id), day, float(value), note))
    return entries, problems


def saved_readings_note(
    entries: Sequence[ReadingEntry], names: Mapping[int, str], result: ImportResult
) -> str:
    """What a save wrote, reading by reading."""
    parts = [f"{result.added} new"]
    if result.replaced:
        parts.append(f"{result.replaced} replaced")
    if result.skipped:
        parts.append(f"{result.skipped} unchanged")
    listed = "; ".join(
        f"{names.get(e.metric_id, e.metric_id)} {format_value(e.value)} on {e.date.isoformat()}"
        for e in entries
    )
    return f"Saved {plural(len(entries), 'reading')} ({', '.join(parts)}): {listed}."


# ---------------------------------------------------------------- import preview

IMPORT_STATUS_WORDS = {
    NEW_READING: "new",
    IDENTICAL: "identical: skipped",
    REPLACE: "replaces the stored value",
    BAD: "bad",
}
PREVIEW_COLUMNS = ["row", "status", "problem", "team", "metric", "date", "value", "stored", "note"]


def import_preview(
    parsed: ParsedReadings, plan: ImportPlan, may_edit: Callable[[int], bool]
) -> tuple[pd.DataFrame, list[Problem]]:
    """Every row of an uploaded file with what importing it would do, and every bad row
    with its reasons (rows of teams the user may not change included); plus the problems
    of the whole file. Bad rows come first."""
    reasons: dict[int, list[str]] = {}
    file_problems: list[Problem] = []
    for problem in [*parsed.problems, *plan.problems]:
        row = problem_row(problem)
        if row is None:
            file_problems.append(problem)
        else:
            reasons.setdefault(row, []).append(problem.message)
    for reading in plan.readings:
        if reading.team_id is not None and not may_edit(reading.team_id):
            reasons.setdefault(reading.row, []).append(
                f"you may not change readings of team '{reading.team}'"
            )
    records = []
    planned_rows = set()
    for reading in plan.readings:
        planned_rows.add(reading.row)
        records.append(
            {
                "row": reading.row,
                "status": "bad"
                if reading.row in reasons
                else IMPORT_STATUS_WORDS.get(reading.status, reading.status),
                "problem": "; ".join(reasons.get(reading.row, [])),
                "team": reading.team,
                "metric": reading.metric,
                "date": reading.date,
                "value": reading.value,
                "stored": reading.old_value,
                "note": reading.note,
            }
        )
    for row in sorted(set(reasons) - planned_rows):
        records.append({"row": row, "status": "bad", "problem": "; ".join(reasons[row])})
    preview = pd.DataFrame.from_records(records, columns=PREVIEW_COLUMNS)
    if not preview.empty:
        preview["_bad"] = preview["status"] != "bad"
        preview = preview.sort_values(["_bad", "row"]).drop(columns="_bad").reset_index(drop=True)
    return preview, file_problems
