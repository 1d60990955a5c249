"""Shared form machinery for the update pages: widget state per form cycle, the record
form (the opened record's version and values, widget keys, submit, archive), saving with
an idempotency key, and how problems, conflicts and "already saved" read; plus the forms
several pages use (check-in, metrics, business value scores). Record's form, its readings
and the import preview are in ui/reading_forms.py."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar, get_type_hints

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from core.access import can_edit_team
from core.changes import Changes
from core.errors import ConflictError, PermissionDenied, ValidationError
from core.model import OutcomeStatus, PISnapshot
from db import edit_queries
from db.engine import read_session, write_session
from db.submissions import DuplicateSubmission, claim_submission
from db.writes import add_checkin, create_metric, score_outcome, update_metric
from ui import state
from ui.data import clear_reads
from ui.idempotency import rotate, submission_key
from ui.site import Frame
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

    # Every widget key of a form is built by these three (a new cycle renews them all).
    def key(self, field: str) -> str:
        """The widget key of an input field."""
        return f"{self.name}#{self.generation}.{field}"

    @property
    def form_key(self) -> str:
        """The key of the `st.form` that holds the fields."""
        return f"{self.name}#{self.generation}"

    def button_key(self, action: str) -> str:
        """The key of a button outside the fields (save, archive, go, ...)."""
        return f"{self.name}#{self.generation}#{action}"

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

    def has_note(self) -> bool:
        """True while this form has a note to show (its last save's confirmation)."""
        _, at = st.session_state.get(f"{self.name}#note") or ("", 0.0)
        return time.monotonic() - at < NOTE_SECONDS

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
                key=self.button_key("discard"),
                on_click=self.discard,
                help="Load the values stored now",
            )
        return bool(note)


class KeyedWrite(Generic[T]):
    """A `db/` write function with its arguments, run as `write(session, submission_key)`:
    the one idempotency convention of every form. The key goes to the function as
    `submission_key=`, so the claim and the change commit or roll back together."""

    def __init__(self, function: Callable[..., T], /, **arguments: Any) -> None:
        if "submission_key" not in inspect.signature(function).parameters:
            # Every db write a form uses claims its key itself (issue 11): one that does
            # not is a bug to fix in db/, not to paper over here.
            raise TypeError(f"{function.__qualname__} takes no submission_key")
        self.function = function
        self.arguments = arguments

    def bind(self, **more: Any) -> KeyedWrite[T]:
        """The same write with more arguments."""
        return KeyedWrite(self.function, **{**self.arguments, **more})

    def with_changes(self, **fields: Any) -> KeyedWrite[T]:
        """The same write changing `fields`: as the function's typed change object
        (`changes=OutcomeChanges(...)`) where it takes one, else as keyword arguments."""
        kind = get_type_hints(self.function).get("changes")
        if isinstance(kind, type) and issubclass(kind, Changes):
            return self.bind(changes=kind.of(fields))
        return self.bind(**fields)

    def __call__(self, session: Session, key: str) -> T:
        return self.function(session, **self.arguments, submission_key=key)


def save(
    frame: Frame,
    form: FormState,
    write: Callable[[Session, str], T],
    *,
    success: str | Callable[[T], str],
    labels: Mapping[str, str] = LABELS,
    passthrough: tuple[type[Exception], ...] = (),
) -> T | None:
    """Run `write(session, submission_key)` (a `KeyedWrite`) in one transaction. On
    success: clear the read caches, start a new form cycle with `success` as its note, and
    rerun. On a problem: say so here and keep the input. A submission already written: say
    so calmly. Exceptions in `passthrough` reach the caller (after the rollback)."""
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
    update: KeyedWrite[T],
    *,
    success: str | Callable[[T], str],
    labels: Mapping[str, str] = LABELS,
    changes_argument: str | None = None,
) -> T | None:
    """Save an edit form: `update` with only the fields changed since the form opened, as
    keyword arguments (or as one dict named `changes_argument`)."""
    changes = form.changes(fields)
    if not changes:
        st.info("Nothing to save: no field was changed.", icon=":material/info:")
        return None
    write = (
        update.bind(**{changes_argument: changes})
        if changes_argument
        else update.with_changes(**changes)
    )
    return save(frame, form, write, success=success, labels=labels)


class RecordForm(FormState):
    """A form that adds a record (`record` None) or edits one: named after the record,
    it opens the record once per form cycle (its version and values), builds every widget
    key, submits (a create, or an update of the changed fields checked against the opened
    version) and archives or restores."""

    def __init__(
        self,
        frame: Frame,
        prefix: str,
        *,
        entity: str,
        record: edit_queries.EditRecord | None,
        new: str = "new",
        labels: Mapping[str, str] = LABELS,
    ) -> None:
        record_id = record.id if record is not None else None
        super().__init__(
            f"{prefix}.{new if record_id is None else record_id}",
            entity=entity,
            record_id=record_id,
        )
        self.frame = frame
        self.record = record
        self.labels = labels
        self.values: dict[str, Any] = dict(record.values) if record is not None else {}
        self.version = self.open(record)

    def field(self, name: str, default: Any = None) -> str:
        """The widget key of `name`, holding the stored value (for a new record,
        `default`) until the user changes it."""
        return self.init(name, self.values.get(name, default))

    def update_write(
        self, function: Callable[..., T], id_argument: str, **arguments: Any
    ) -> KeyedWrite[T]:
        """`function` on this form's record (`id_argument`: its id), checked against the
        version the form opened."""
        return KeyedWrite(
            function, **{id_argument: self.record_id}, expected_version=self.version, **arguments
        )

    def actions(
        self,
        submitted: bool,
        fields: Mapping[str, Any],
        *,
        create: KeyedWrite[T],
        update: KeyedWrite[T],
        created: str | Callable[[T], str],
        saved: str | Callable[[T], str],
        archive: str = "",
        archived: bool = False,
    ) -> None:
        """Everything after a form's fields: submit when `submitted`, the status, and for a
        record being edited the archive (or restore) button of `archive`, its noun."""
        if submitted:
            self.submit(fields, create=create, update=update, created=created, saved=saved)
        self.show_status()
        if archive and self.record is not None:
            self.archive_button(noun=archive, archived=archived, archive=update)

    def submit(
        self,
        fields: Mapping[str, Any],
        *,
        create: KeyedWrite[T] | None,
        update: KeyedWrite[T] | None,
        created: str | Callable[[T], str],
        saved: str | Callable[[T], str],
    ) -> None:
        """Create the record from `fields`, or update it with the changed ones."""
        if self.record is None:
            assert create is not None, "a form that creates needs `create`"
            save(self.frame, self, create, success=created, labels=self.labels)
        else:
            assert update is not None, "a form that edits needs `update`"
            save_changes(self.frame, self, fields, update, success=saved, labels=self.labels)

    def archive_button(
        self,
        *,
        noun: str,
        archived: bool,
        archive: KeyedWrite[Any],
        restore: KeyedWrite[Any] | None = None,
        help: str | None = None,
    ) -> None:
        """Archive (soft delete) or restore the record, checked against the opened version.
        `archive` is run as given when it already says how (`archive_outcome`), else
        with `archived=True`; `restore` defaults to `archive` with `archived=False`."""
        label = f"Restore this {noun}" if archived else f"Archive this {noun}"
        if st.button(
            label,
            key=self.button_key("archive"),
            icon=":material/unarchive:" if archived else ":material/archive:",
            help=help or ("Bring it back" if archived else "Hide it; it can be restored later"),
        ):
            if archived:
                write = restore if restore is not None else archive.with_changes(archived=False)
            else:
                write = archive if restore is not None else archive.with_changes(archived=True)
            save(
                self.frame,
                self,
                write,
                success=f"{'Restored' if archived else 'Archived'} the {noun}.",
            )


# The record pickers' "add a new one" choice: never a record id (a number) nor a username
# (usernames never contain ":"), so a user called "new" can be picked too.
ADD_NEW = ":new"


def record_picker(
    label: str,
    records: Mapping[Any, str],
    *,
    new_label: str,
    key: str,
) -> Any | None:
    """A select box of the records to edit (id: label) with "add a new one" first;
    the chosen id, or None for a new one."""
    column, _ = st.columns([1, 2])
    choice = column.selectbox(
        label,
        [ADD_NEW, *records],
        format_func=lambda i: new_label if i == ADD_NEW else records[i],
        key=key,
    )
    return None if choice == ADD_NEW else choice


def flash(message: str) -> None:
    """Show `message` once on the next run (after st.rerun)."""
    st.session_state[state.FLASH] = message


def show_flash() -> None:
    message = st.session_state.pop(state.FLASH, None)
    if message:
        st.success(message)


# ---------------------------------------------------------------- check-ins


def checkin_form(frame: Frame, outcome_id: int, team_id: int | None) -> None:
    """Confidence (1-10) and a comment on an outcome, for those who may edit its team;
    nothing at all for everyone else."""
    if not can_edit_team(frame.actor, team_id):
        return
    form = FormState(f"checkin.{outcome_id}", entity="checkin")
    with st.form(form.form_key, border=True):
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
            KeyedWrite(
                add_checkin,
                actor=frame.actor,
                outcome_id=outcome_id,
                confidence=confidence,
                comment=comment,
            ),
            success=lambda checkin: f"Checked in with confidence {checkin.confidence}.",
        )
    form.show_status()


# ---------------------------------------------------------------- metrics


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
    choice = record_picker(
        "Metric to edit",
        {m.id: archived_label(m) for m in metrics},
        new_label="Add a new metric",
        key=f"{context}.metric_choice.{team_id}",
    )
    record = by_id.get(choice) if choice is not None else None
    metric_form(frame, team_id=team_id, team_name=team_name, record=record, context=context)


def archived_label(record: edit_queries.EditRecord) -> str:
    return f"{record.label} (archived)" if record.get("archived") else record.label


def metric_form(
    frame: Frame,
    *,
    team_id: int,
    team_name: str,
    record: edit_queries.EditRecord | None,
    context: str,
) -> None:
    form = RecordForm(
        frame, f"{context}.metric", entity="metric", record=record, new=f"new.{team_id}"
    )
    with st.form(form.form_key, border=True):
        left, right = st.columns(2)
        name = left.text_input("Name", key=form.field("name", ""))
        unit = right.text_input("Unit", key=form.field("unit", ""), help='e.g. "%", "s", "users"')
        description = st.text_area("Description", key=form.field("description", ""), height=68)
        source = st.text_input(
            "Source",
            key=form.field("source", ""),
            help="Where the numbers come from (a dashboard, a query)",
        )
        a, b, c = st.columns(3)
        interval = a.number_input(
            "Update interval (days)",
            min_value=1,
            max_value=366,
            step=1,
            key=form.field("update_interval_days", 14),
            help="A metric not updated within this many days is stale",
        )
        decimals = b.number_input(
            "Decimals", min_value=0, max_value=6, step=1, key=form.field("decimals", 1)
        )
        leading = c.checkbox(
            "Leading",
            key=form.field("leading", False),
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
    form.actions(
        submitted,
        fields,
        create=KeyedWrite(create_metric, actor=frame.actor, team_id=team_id, **fields),
        update=form.update_write(update_metric, "metric_id", actor=frame.actor),
        created=lambda m: f"Added metric {m.name} to {team_name}.",
        saved=lambda m: f"Saved metric {m.name}.",
        archive="metric",
        archived=bool(form.values.get("archived")),
    )


# ---------------------------------------------------------------- scoring (review page)


def score_form(
    frame: Frame, form_key: str, outcomes: Sequence[OutcomeStatus], snapshot: PISnapshot
) -> None:
    """Actual business value (0-10, blank: not scored) for a group of outcomes, saved in
    one transaction with each outcome's version as opened (admins only; the write path
    checks again)."""
    name = f"score.{form_key}"
    # The versions the user saw are those of the run that drew the form they submit, not
    # of the submitting run: that run reads afresh (the data version changed), and would
    # otherwise save over a score someone else made meanwhile without a word.
    shown_key = f"{name}.versions"
    current = {o.id: o.version for o in snapshot.outcomes}
    versions = {**current, **st.session_state.get(shown_key, {})}
    with (
        st.expander("Score actual business value", icon=":material/edit:"),
        st.form(name, border=False),
    ):
        values: dict[int, int | None] = {}
        for outcome in outcomes:
            values[outcome.outcome_id] = st.number_input(
                f"{escape_markdown(outcome.key)} · {escape_markdown(outcome.title)}",
                min_value=0,
                max_value=10,
                step=1,
                value=outcome.actual_bv,
                placeholder="not scored",
                key=f"{name}.{outcome.outcome_id}",
            )
        submitted = st.form_submit_button("Save scores", type="primary")
    st.session_state[shown_key] = current  # what this run shows, for the next submit
    if not submitted:
        return
    changed = [o for o in outcomes if values[o.outcome_id] != o.actual_bv]
    if not changed:
        st.info("Nothing changed.")
        return
    try:
        with write_session(frame.engine) as session:
            claim_submission(session, key=submission_key(name))
            for outcome in changed:
                score_outcome(
                    session,
                    actor=frame.actor,
                    outcome_id=outcome.outcome_id,
                    actual_bv=values[outcome.outcome_id],
                    expected_version=versions.get(outcome.outcome_id),
                )
    except DuplicateSubmission:
        st.info("Already saved: this form was submitted before, nothing was written twice.")
        return
    except ConflictError as error:
        clear_reads()  # the next run shows what is stored now
        show_conflict(error)
        return
    except ValidationError as error:
        show_problems(error)
        return
    except PermissionDenied as error:
        st.error(f"Not saved: {escape_markdown(error)}", icon=":material/block:")
        return
    rotate(name)
    clear_reads()
    flash(f"Saved {len(changed)} business value score{'s' if len(changed) != 1 else ''}.")
    st.rerun()
