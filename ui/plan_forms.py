"""The Plan page's record forms (ui/forms.py's RecordForm): an outcome with its quality
checks live beside it, and an outcome's targets and hypotheses: add, edit, archive."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import streamlit as st

from core.checks import REWRITE_TEMPLATE, outcome_checks
from core.format import day_text
from core.model import OutcomeSpec, PIInfo, ReadingPoint
from db.edit_queries import EditRecord, PlanChecksInput
from db.engine import read_session
from db.models import DIRECTIONS, EFFECT_UNITS, OUTCOME_STATUSES
from db.queries import latest_readings_for
from db.writes import (
    add_hypothesis,
    add_target,
    archive_outcome,
    create_outcome,
    update_hypothesis,
    update_outcome,
    update_target,
)
from ui.forms import FormState, KeyedWrite, RecordForm
from ui.site import Frame
from ui.text import escape_markdown

KIND_CHOICES = ("", "increase", "decrease", "maintain")
KIND_WORDS = {"": "from baseline and target", "increase": "increase", "decrease": "decrease"}
UNIT_WORDS = {"absolute": "in metric units", "percent": "in percent"}
NUMBER_FORMAT = "%g"


@dataclasses.dataclass(frozen=True)
class Scope:
    """What the page edits: one PI, and one team's outcomes or the train-level ones."""

    pi: PIInfo
    team_id: int | None
    team_key: str
    team_name: str


# ---------------------------------------------------------------- outcomes


def suggested_key(scope: Scope, outcomes: list[EditRecord]) -> str:
    prefix = "TR" if scope.team_id is None else scope.team_key
    taken = {o["key"] for o in outcomes}
    number = len(outcomes) + 1
    while f"{prefix}-{number}" in taken:
        number += 1
    return f"{prefix}-{number}"


def outcome_editor(
    frame: Frame,
    scope: Scope,
    record: EditRecord | None,
    outcomes: list[EditRecord],
    parents: list[EditRecord],
    checks_input: PlanChecksInput,
) -> None:
    form = RecordForm(
        frame,
        "plan.outcome",
        entity="outcome",
        record=record,
        new=f"new.{scope.pi.id}.{scope.team_key}",
    )
    parent_labels = {p.id: p.label for p in parents}
    parent = form.values.get("parent_id")
    if parent is not None and parent not in parent_labels:
        parent_labels[parent] = f"outcome #{parent} (archived)"
    left, right = st.columns([2, 1], gap="large")
    with left:
        key_column, title_column = st.columns([1, 3])
        key = key_column.text_input("Key", key=form.field("key", suggested_key(scope, outcomes)))
        title = title_column.text_input(
            "Title",
            key=form.field("title", ""),
            help="The change you expect for users, not the work: "
            "“Raise checkout conversion”, not “Build one-click pay”",
        )
        why = st.text_area("Why", key=form.field("why", ""), height=68)
        a, b, c = st.columns(3)
        owner = a.text_input("Owner", key=form.field("owner", ""))
        planned_bv = b.number_input(
            "Planned business value",
            min_value=1,
            max_value=10,
            step=1,
            key=form.field("planned_bv"),
            help="1-10, set with the business owners; blank while drafting",
        )
        status = c.selectbox("Status", OUTCOME_STATUSES, key=form.field("status", "draft"))
        d, e = st.columns([1, 2])
        committed = d.checkbox(
            "Committed",
            key=form.field("committed", True),
            help="SAFe: committed outcomes count toward predictability",
        )
        parent_id = None
        if scope.team_id is not None:
            parent_id = e.selectbox(
                "Parent train outcome",
                [None, *parent_labels],
                key=form.field("parent_id"),
                format_func=lambda i: "None" if i is None else parent_labels.get(i, f"#{i}"),
                placeholder="None: it stands on its own",
            )
        fields = {
            "key": key,
            "title": title,
            "why": why,
            "owner": owner,
            "committed": committed,
            "planned_bv": planned_bv,
            "parent_id": parent_id,
            "status": status,
        }
        update = form.update_write(update_outcome, "outcome_id", actor=frame.actor)
        save_column, archive_column = st.columns([1, 1])
        if save_column.button(
            "Save outcome" if record else "Create outcome",
            type="primary",
            key=form.button_key("save"),
        ):
            form.submit(
                fields,
                create=KeyedWrite(
                    create_outcome,
                    actor=frame.actor,
                    pi_id=scope.pi.id,
                    team_id=scope.team_id,
                    **fields,
                ),
                update=update,
                created=_created,
                saved=_saved,
            )
        form.show_status()
        if record is not None:
            with archive_column:
                form.archive_button(
                    noun="outcome",
                    archived=form.values.get("status") == "archived",
                    archive=form.update_write(archive_outcome, "outcome_id", actor=frame.actor),
                    restore=update.with_changes(status="draft"),
                )
    with right:
        quality_checks(form, record, checks_input, fields)


def _saved(outcome: Any) -> str:
    st.query_params["outcome"] = outcome.key  # its key may have changed
    return f"Saved outcome {outcome.key}."


def _created(outcome: Any) -> str:
    """Open the outcome just created, its form telling what happened."""
    st.query_params["outcome"] = outcome.key
    FormState(f"plan.outcome.{outcome.id}").note(
        f"Created outcome {outcome.key}. Now add its targets and hypotheses below."
    )
    return ""


def quality_checks(
    form: FormState,
    record: EditRecord | None,
    checks_input: PlanChecksInput,
    fields: dict[str, Any],
) -> None:
    """The outcome's quality checks as the form reads now (advice; saving is never
    blocked by them)."""
    with st.container(border=True):
        st.markdown("**Quality checks**")
        stored = next((o for o in checks_input.outcomes if record and o.id == record.id), None)
        spec = stored or OutcomeSpec(id=0, pi_id=0, key=str(fields["key"]), title="")
        spec = dataclasses.replace(
            spec,
            title=str(fields["title"] or ""),
            committed=bool(fields["committed"]),
            planned_bv=fields["planned_bv"],
        )
        checks = outcome_checks(spec, checks_input.metrics, pi_end=checks_input.pi_end)
        if not checks:
            st.markdown(
                ":material/check_circle: Reads as a measurable change for users. No advice."
            )
        for check in checks:
            st.markdown(f":material/lightbulb: {escape_markdown(check.message)}")
            if check.rewrite:
                st.caption("Try a title like:")
                st.text(check.rewrite)
                if check.rewrite != REWRITE_TEMPLATE:
                    st.button(
                        "Use this title",
                        key=form.button_key("rewrite"),
                        on_click=_use_title,
                        args=(form.key("title"), check.rewrite),
                    )
        if record is None:
            st.caption("Targets and hypotheses come next, once the outcome is created.")


def _use_title(key: str, title: str) -> None:
    st.session_state[key] = title


# ---------------------------------------------------------------- targets


def target_summary(target: EditRecord) -> str:
    kind = target["kind"]
    if kind == "maintain":
        return f"{target.label}: keep between {target['band_low']:g} and {target['band_high']:g}"
    baseline = "?" if target["baseline"] is None else f"{target['baseline']:g}"
    goal = "?" if target["target"] is None else f"{target['target']:g}"
    when = f" by {target['target_date'].isoformat()}" if target["target_date"] else ""
    return f"{target.label}: {kind} from {baseline} to {goal}{when}"


def target_form(
    frame: Frame,
    pi_end: dt.date,
    outcome: EditRecord,
    record: EditRecord | None,
    metrics: list[EditRecord],
) -> None:
    form = RecordForm(frame, "plan.target", entity="target", record=record, new=f"new.{outcome.id}")
    metric_labels = metric_choices(record, metrics)
    if not metric_labels:
        st.info("Add a metric first (the Metrics tab).")
        return
    with read_session(frame.engine) as session:
        latest = latest_readings_for(session, metric_ids=metric_labels, as_of=dt.date.today())
    first = next(iter(metric_labels))
    offered = latest.get(form.values.get("metric_id", first)) if record is None else None
    metric_key = form.field("metric_id", first)
    baseline_key = form.field("baseline", offered.value if offered else None)
    baseline_date_key = form.field("baseline_date", offered.date if offered else None)
    if offered is not None:
        form.keep("offered", lambda: offered)
    # Outside the form, so choosing a metric reruns at once and offers its latest reading.
    a, b = st.columns(2)
    metric_id = a.selectbox(
        "Metric",
        list(metric_labels),
        key=metric_key,
        format_func=lambda i: metric_labels[i],
        on_change=_offer_baseline,
        args=(form, latest),
    )
    kind = b.selectbox(
        "Kind",
        KIND_CHOICES,
        key=form.field("kind", ""),
        format_func=lambda k: KIND_WORDS.get(k, "maintain (stay in a band)"),
    )
    # No st.form: every field is committed as it is left, so a metric chosen after typing
    # a baseline never meets a stale one (the offer below would overwrite it).
    with st.container():
        a, b = st.columns(2)
        baseline = a.number_input("Baseline", key=baseline_key, format=NUMBER_FORMAT)
        baseline_date = b.date_input("Baseline date", key=baseline_date_key, format="YYYY-MM-DD")
        st.caption(
            baseline_hint(
                metric_labels.get(metric_id, "This metric"),
                latest.get(metric_id),
                offered=record is None,
            )
        )
        a, b = st.columns(2)
        goal = a.number_input("Target value", key=form.field("target"), format=NUMBER_FORMAT)
        target_date = b.date_input(
            "Target date", key=form.field("target_date", pi_end), format="YYYY-MM-DD"
        )
        a, b = st.columns(2)
        band_low = a.number_input(
            "Band low (maintain only)", key=form.field("band_low"), format=NUMBER_FORMAT
        )
        band_high = b.number_input(
            "Band high (maintain only)", key=form.field("band_high"), format=NUMBER_FORMAT
        )
        submitted = st.button(
            "Save target" if record else "Add target", key=form.button_key("save")
        )
    fields = {
        "metric_id": metric_id,
        "kind": kind or None,
        "baseline": baseline,
        "baseline_date": baseline_date,
        "target": goal,
        "target_date": target_date,
        "band_low": band_low,
        "band_high": band_high,
    }
    form.actions(
        submitted,
        fields,
        create=KeyedWrite(add_target, actor=frame.actor, outcome_id=outcome.id, **fields),
        update=form.update_write(update_target, "target_id", actor=frame.actor),
        created=_target_added(metric_labels),
        saved="Saved the target.",
        archive="target",
    )


def baseline_hint(metric: str, reading: ReadingPoint | None, *, offered: bool = True) -> str:
    """What the form knows of the metric's level today (escaped: the name is user text);
    `offered`: a new target's form, where it is prefilled as the baseline."""
    if reading is None:
        return escape_markdown(
            f"{metric} has no reading yet: leave the baseline blank until it is measured."
        )
    return escape_markdown(
        f"Latest reading of {metric}: {reading.value:g} on {day_text(reading.date)}"
        + (", offered as the baseline." if offered else ".")
    )


def _offer_baseline(form: FormState, latest: dict[int, ReadingPoint]) -> None:
    """A newly chosen metric's latest reading becomes the baseline, unless the person has
    typed one of their own (a baseline that is still the last offer is replaced)."""
    if form.record_id is not None:
        return
    baseline_key, date_key = form.key("baseline"), form.key("baseline_date")
    offered_key = f"{form.form_key}#offered"  # form.keep's key for "offered"
    previous: ReadingPoint | None = st.session_state.get(offered_key)
    current = (st.session_state.get(baseline_key), st.session_state.get(date_key))
    untouched = current == (None, None) or (
        previous is not None and current == (previous.value, previous.date)
    )
    if not untouched:
        return
    offer = latest.get(st.session_state.get(form.key("metric_id")))
    st.session_state[baseline_key] = offer.value if offer else None
    st.session_state[date_key] = offer.date if offer else None
    st.session_state[offered_key] = offer


def _target_added(metric_labels: dict[int, str]) -> Any:
    def message(target: Any) -> str:
        return f"Added the target on {metric_labels.get(target.metric_id, 'the metric')}."

    return message


def new_form_name(kind: str, outcome_id: int) -> str:
    """The name of the form that adds a target or hypothesis (`kind`) to an outcome."""
    return f"plan.{kind}.new.{outcome_id}"


def just_added(kind: str, outcome_id: int) -> bool:
    """True right after a target or hypothesis was added to the outcome: its "Add" form
    (folded once the outcome has one) opens to show the confirmation."""
    return FormState(new_form_name(kind, outcome_id)).has_note()


def metric_choices(record: EditRecord | None, metrics: list[EditRecord]) -> dict[int, str]:
    """The metrics a target or hypothesis may name, with the one it names now (archived
    perhaps) kept."""
    labels = {m.id: m.label for m in metrics}
    if record is not None and record["metric_id"] not in labels:
        labels[record["metric_id"]] = record.label
    return labels


# ---------------------------------------------------------------- hypotheses


def hypothesis_summary(hypothesis: EditRecord) -> str:
    return f"{hypothesis.label}: if {hypothesis['if_text']}"


def _hypothesis_added(hypothesis: Any) -> str:
    return f"Added the hypothesis “If we build {hypothesis.if_text}”."


def hypothesis_form(
    frame: Frame,
    outcome: EditRecord,
    record: EditRecord | None,
    metrics: list[EditRecord],
    releases: list[EditRecord],
) -> None:
    form = RecordForm(
        frame, "plan.hypothesis", entity="hypothesis", record=record, new=f"new.{outcome.id}"
    )
    metric_labels = metric_choices(record, metrics)
    release_labels = {r.id: r.label for r in releases}
    if not metric_labels:
        st.info("Add a metric first (the Metrics tab).")
        return
    with st.form(form.form_key, border=False):
        metric_id = st.selectbox(
            "Metric",
            list(metric_labels),
            key=form.field("metric_id", next(iter(metric_labels))),
            format_func=lambda i: metric_labels[i],
            help="The metric this should move (usually one of the outcome's targets)",
        )
        if_text = st.text_input(
            "If we build",
            key=form.field("if_text", ""),
            placeholder="one-click pay for returning customers",
        )
        expect_text = st.text_input(
            "We expect",
            key=form.field("expect_text", ""),
            placeholder="more buyers to finish checkout",
        )
        because_text = st.text_input(
            "Because",
            key=form.field("because_text", ""),
            placeholder="form length is the top drop-off",
        )
        a, b, c = st.columns(3)
        direction = a.selectbox("Direction", DIRECTIONS, key=form.field("direction", "increase"))
        min_effect = b.number_input(
            "Minimum effect",
            min_value=0.0,
            key=form.init("min_effect", float(form.values.get("min_effect", 0.0))),
            format=NUMBER_FORMAT,
            help="The smallest change that would count as support",
        )
        min_effect_unit = c.selectbox(
            "Effect unit",
            EFFECT_UNITS,
            key=form.field("min_effect_unit", "absolute"),
            format_func=lambda u: UNIT_WORDS[u],
        )
        a, b = st.columns([2, 1])
        release_id = a.selectbox(
            "Release",
            [None, *release_labels],
            key=form.field("release_id"),
            format_func=lambda i: (
                "Not shipped yet" if i is None else release_labels.get(i, f"#{i}")
            ),
            placeholder="Not shipped yet",
        )
        window_days = b.number_input(
            "Window (days)",
            min_value=1,
            max_value=366,
            step=1,
            key=form.field("window_days", 28),
            help="Days of readings before and after the release that the verdict compares",
        )
        submitted = st.form_submit_button("Save hypothesis" if record else "Add hypothesis")
    fields = {
        "metric_id": metric_id,
        "if_text": if_text,
        "expect_text": expect_text,
        "because_text": because_text,
        "direction": direction,
        "min_effect": min_effect,
        "min_effect_unit": min_effect_unit,
        "release_id": release_id,
        "window_days": window_days,
    }
    form.actions(
        submitted,
        fields,
        create=KeyedWrite(add_hypothesis, actor=frame.actor, outcome_id=outcome.id, **fields),
        update=form.update_write(update_hypothesis, "hypothesis_id", actor=frame.actor),
        created=_hypothesis_added,
        saved="Saved the hypothesis.",
        archive="hypothesis",
    )
