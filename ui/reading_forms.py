"""Record's one form (an optional release and this week's value of every team metric,
saved once in one transaction) and the import preview of a readings file.

The readings are typed into one plain text box per metric, not into `st.data_editor`:
the data editor's canvas grid opens a cell editor on the first key pressed, and keys
typed before it has focus are lost (measured in Chromium at Playwright's typing speed:
0 of 6 values arrived; at a person's quick pace 68.17 became 8.17). Text boxes in an
`st.form` keep every key, rerun nothing while typing, follow each other with Tab, and
stay one column wide on a phone. The exact text typed is what the write path parses."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from core.errors import Problem, ValidationError
from core.explain import plural
from core.format import format_value
from core.model import TeamInfo
from core.pasted_values import PASTE_FIELD, merge_pasted, read_pasted_values
from core.reading_files import ParsedReadings, exact_text, problem_row
from db import edit_queries
from db.engine import read_session
from db.readings import BAD, IDENTICAL, REPLACE, ImportPlan, ReadingEntry, ReplaceNeeded
from db.readings import NEW as NEW_READING
from db.record import RecordResult, ReleaseDraft, record_after_release
from ui.forms import LABELS, FormState, save, show_problems
from ui.frame import shared_query_params
from ui.site import Frame

# Release fields as the Record form labels them (the write path names them "name", ...).
RECORD_LABELS = {
    **LABELS,
    "name": "Release name",
    "date": "Release date",
    "notes": "Notes",
    "link": "Link",
    "hypotheses": "Hypotheses it ships",
    "readings": "Readings",
    "pasted": PASTE_FIELD,
}


# ---------------------------------------------------------------- the metric rows


@dataclass(frozen=True)
class MetricRow:
    """One metric as the form shows it: what is stored last, for the hint beside it."""

    metric_id: int
    name: str
    unit: str
    last: str  # "2.67% on 2026-10-30", or "" when nothing is stored


def metric_rows(latest: pd.DataFrame) -> list[MetricRow]:
    """A row per active metric of the team, from `queries.latest_readings`."""
    rows = []
    for row in latest.itertuples(index=False):
        known = row.last_value is not None and not pd.isna(row.last_value)
        last = ""
        if known and isinstance(row.last_date, dt.date):
            value = format_value(float(row.last_value), row.unit or "", int(row.decimals))
            last = f"{value} on {row.last_date.isoformat()}"
        rows.append(MetricRow(int(row.metric_id), str(row.metric), row.unit or "", last))
    return rows


def typed_entries(
    rows: Sequence[MetricRow],
    values: Mapping[int, str],
    dates: Mapping[int, dt.date | None],
    notes: Mapping[int, str],
) -> tuple[list[ReadingEntry], list[Problem]]:
    """The readings the form asks to record (every metric with a value typed) and the
    rows that cannot be, named by metric. The value stays the text typed (a decimal
    comma read as a point): the write path parses it and names a bad one by metric."""
    entries: list[ReadingEntry] = []
    problems: list[Problem] = []
    for row in rows:
        text = (values.get(row.metric_id) or "").strip()
        note = (notes.get(row.metric_id) or "").strip()
        if not text:
            if note:
                problems.append(Problem(f"{row.name}: value", "a note needs a new value"))
            continue
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        day = dates.get(row.metric_id)
        if not isinstance(day, dt.date):
            problems.append(Problem(f"{row.name}: date", "is required"))
            continue
        entries.append(ReadingEntry(row.metric_id, day, text, note))
    return entries, problems


def with_pasted(
    rows: Sequence[MetricRow], values: Mapping[int, str], pasted: str
) -> tuple[dict[int, str], list[Problem]]:
    """The boxes' values with the pasted ones added (`core.pasted_values`), by metric."""
    names = [row.name for row in rows]
    aliases = {f"{row.name} ({row.unit})": row.name for row in rows if row.unit}
    by_name, problems = read_pasted_values(pasted, names, aliases)
    if problems:
        return dict(values), problems
    typed = {row.name: values.get(row.metric_id) or "" for row in rows}
    merged, problems = merge_pasted(typed, by_name)
    return {row.metric_id: merged.get(row.name, "") for row in rows}, problems


def _value_text(value: float | str) -> str:
    try:
        return exact_text(float(value))
    except (TypeError, ValueError):
        return str(value)


def saved_note(
    result: RecordResult,
    entries: Sequence[ReadingEntry],
    names: Mapping[int, str],
    shipped: int,
) -> str:
    """What one save wrote, everything named: "Logged release v2.5 on 2026-12-03 and
    saved 3 readings on 2026-12-03: Activation rate 68.17, ..." (the day once when the
    readings share it, else after each)."""
    parts = []
    if result.release is not None:
        release = result.release
        parts.append(
            f"Logged release {release.name} on {release.date.isoformat()}"
            + (f", shipping {shipped} hypothes{'i' if shipped == 1 else 'e'}s" if shipped else "")
        )
    if entries:
        days = {e.date for e in entries}
        common = next(iter(days)) if len(days) == 1 else None
        listed = ", ".join(
            f"{names.get(e.metric_id, e.metric_id)} {_value_text(e.value)}"
            + ("" if common else f" on {e.date.isoformat()}")
            for e in entries
        )
        counted = result.readings
        extra = []
        if counted.replaced:
            extra.append(f"{counted.replaced} replaced")
        if counted.skipped:
            extra.append(f"{counted.skipped} unchanged")
        saved = (
            f"saved {plural(len(entries), 'reading')}"
            + (f" ({', '.join(extra)})" if extra else "")
            + (f" on {common.isoformat()}" if common else "")
        )
        parts.append(f"{saved}: {listed}")
    text = " and ".join(parts)
    return text[:1].upper() + text[1:] + "."


# ---------------------------------------------------------------- the one form


def record_form(frame: Frame, team: TeamInfo, latest: pd.DataFrame, today: dt.date) -> None:
    """The release (optional) and every metric's new value in one `st.form`, one save."""
    form = FormState(f"record.{team.id}", entity="reading")
    rows = metric_rows(latest)
    names = {r.metric_id: r.name for r in rows}
    with read_session(frame.engine) as session:
        hypotheses = edit_queries.open_hypotheses(session, team_id=team.id, on=today)
    labels = {h.id: h.label for h in hypotheses}
    pending_key = f"{form.form_key}#pending"  # a replace to confirm; ends with the cycle
    # Enter in a text box never submits: a release name typed and Enter pressed would
    # otherwise save a half-filled form.
    with st.form(form.form_key, border=True, enter_to_submit=False):
        st.subheader("1 · The release (optional)", anchor=False)
        a, b = st.columns([2, 1])
        name = a.text_input(
            "Release name", key=form.init("name", ""), placeholder="e.g. v2.3 or 2026-11 checkout"
        )
        when = b.date_input("Release date", key=form.init("date", today), format="YYYY-MM-DD")
        a, b = st.columns([1, 1])
        link = a.text_input("Link", key=form.init("link", ""), placeholder="https://…")
        notes = b.text_input("Notes", key=form.init("notes", ""))
        shipped: list[int] = []
        if hypotheses:
            shipped = st.multiselect(
                "Hypotheses it ships",
                list(labels),
                key=form.init("hypotheses", []),
                format_func=lambda i: labels.get(i, str(i)),
                placeholder="Choose the hypotheses this release tests",
                help="Open hypotheses of the PI running today; their verdicts start "
                "measuring from the release date",
            )
        else:
            st.caption("No open hypotheses of the current PI to link.")
        st.subheader("2 · This week's readings", anchor=False)
        st.caption(
            "Type the new value of each metric you measured (Tab moves to the next), or "
            "paste them all at once below; leave the others blank. Dates and notes are "
            "below."
        )
        # The metric's name is shown as text beside a box whose label is hidden: a
        # widget's label is rendered as markdown (so user text would need escaping) and
        # is also its aria-label (where escaping backslashes would be read aloud).
        values: dict[int, str] = {}
        for row in rows:
            shown, box, last = st.columns([3, 2, 2], vertical_alignment="center")
            label = row.name + (f" ({row.unit})" if row.unit else "")
            shown.text(label)
            values[row.metric_id] = box.text_input(
                label,
                key=form.init(f"value.{row.metric_id}", ""),
                placeholder="new value",
                label_visibility="collapsed",
            )
            last.text(f"last {row.last}" if row.last else "no reading yet")
        pasted = st.text_area(
            "Or paste the values",
            key=form.init("pasted", ""),
            height=68,
            placeholder="A column copied from a spreadsheet: one value per line in the "
            "order above, or a metric's name and its value on each line",
            help="One paste instead of one box per metric. An empty line leaves that "
            "metric out. A metric given a different value in its box and here is not "
            "saved until one of them is cleared.",
        )
        dates: dict[int, dt.date | None] = {}
        notes_by_metric: dict[int, str] = {}
        with st.expander("Dates and notes of these readings (optional)"):
            for row in rows:
                shown, day, note = st.columns([2, 1, 2], vertical_alignment="center")
                shown.text(row.name)
                dates[row.metric_id] = day.date_input(
                    f"{row.name}: date",
                    key=form.init(f"date.{row.metric_id}", today),
                    format="YYYY-MM-DD",
                    label_visibility="collapsed",
                )
                notes_by_metric[row.metric_id] = note.text_input(
                    f"{row.name}: note",
                    key=form.init(f"note.{row.metric_id}", ""),
                    placeholder="note",
                    label_visibility="collapsed",
                )
        submitted = st.form_submit_button("Save", type="primary", icon=":material/save:")

    release = ReleaseDraft(name=name, date=when, notes=notes, link=link, hypothesis_ids=shipped)

    def write(entries: list[ReadingEntry], draft: ReleaseDraft, replace: bool) -> None:
        try:
            save(
                frame,
                form,
                lambda session, key: record_after_release(
                    session,
                    actor=frame.actor,
                    team_id=team.id,
                    release=draft,
                    entries=entries,
                    replace=replace,
                    source="bulk",
                    submission_key=key,
                ),
                success=lambda result: saved_note(
                    result, entries, names, len(draft.hypothesis_ids)
                ),
                labels=RECORD_LABELS,
                passthrough=(ReplaceNeeded,),
            )
        except ReplaceNeeded as needed:
            st.session_state[pending_key] = (entries, draft, needed.conflicts)

    if submitted:
        st.session_state.pop(pending_key, None)
        values, problems = with_pasted(rows, values, pasted)
        entries: list[ReadingEntry] = []
        if not problems:
            entries, problems = typed_entries(rows, values, dates, notes_by_metric)
        if problems:
            show_problems(ValidationError(problems), RECORD_LABELS)
        elif not entries and not release.given:
            st.info(
                "Nothing to save yet: type a release name, or type or paste at least one new value."
            )
        else:
            write(entries, release, replace=False)

    pending = st.session_state.get(pending_key)
    if pending:
        replace_step(form, pending, pending_key, write)

    if form.show_status():
        st.page_link(
            "pages/team.py",
            label="See them on the team page",
            icon=":material/groups:",
            query_params={**shared_query_params(), "team": team.key},
        )


def replace_step(
    form: FormState,
    pending: tuple[list[ReadingEntry], ReleaseDraft, list],
    pending_key: str,
    write: Callable[[list[ReadingEntry], ReleaseDraft, bool], None],
) -> None:
    """Stored readings that differ: show old and new, save everything again with a yes."""
    entries, draft, conflicts = pending
    st.warning(
        "Some of these metrics already have a different reading on that date. Nothing "
        "was saved yet (the release neither): replace the stored values?",
        icon=":material/warning:",
    )
    # A changed note alone needs the replace too: show the notes when any differ.
    with_notes = any(c.stored_note or c.new_note for c in conflicts)
    st.dataframe(
        pd.DataFrame(
            [
                {"Metric": c.metric, "Date": c.date, "Stored": c.stored, "New": c.new}
                | ({"Stored note": c.stored_note, "New note": c.new_note} if with_notes else {})
                for c in conflicts
            ]
        ),
        hide_index=True,
    )
    yes, no, _ = st.columns([2, 1, 3])
    if yes.button("Replace these readings", type="primary", key=f"{form.name}#replace"):
        write(entries, draft, True)
    if no.button("Keep the stored ones", key=f"{form.name}#cancel"):
        st.session_state.pop(pending_key, None)
        st.rerun()


# ---------------------------------------------------------------- import preview

IMPORT_STATUS_WORDS = {
    NEW_READING: "new",
    IDENTICAL: "identical: skipped",
    REPLACE: "replaces the stored value",
    BAD: "bad",
}
PREVIEW_COLUMNS = ["row", "status", "problem", "team", "metric", "date", "value", "stored", "note"]


def _text(value: object) -> str:
    """A preview cell as text: empty for nothing (never "None" or "nan"), a value as it
    reads back exactly, a date in ISO form."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return exact_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def import_preview(
    parsed: ParsedReadings, plan: ImportPlan, may_edit: Callable[[int], bool]
) -> tuple[pd.DataFrame, list[Problem]]:
    """Every row of an uploaded file with what importing it would do, and every bad row
    with its reasons (rows of teams the user may not change included); plus the problems
    of the whole file. Bad rows come first. Cells are text: a bad row's missing parts
    show empty."""
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
                "team": _text(reading.team),
                "metric": _text(reading.metric),
                "date": _text(reading.date),
                "value": _text(reading.value),
                "stored": _text(reading.old_value),
                "note": _text(reading.note),
            }
        )
    blank = dict.fromkeys(PREVIEW_COLUMNS, "")
    for row in sorted(set(reasons) - planned_rows):
        records.append(blank | {"row": row, "status": "bad", "problem": "; ".join(reasons[row])})
    preview = pd.DataFrame.from_records(records, columns=PREVIEW_COLUMNS)
    if not preview.empty:
        preview["_bad"] = preview["status"] != "bad"
        preview = preview.sort_values(["_bad", "row"]).drop(columns="_bad").reset_index(drop=True)
    return preview, file_problems
