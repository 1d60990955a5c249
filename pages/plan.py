"""Plan: write a team's outcomes with targets and hypotheses, with the quality checks live
beside the form; keep the team's metrics; copy unfinished work into the next PI."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import streamlit as st

from core.access import can_administer, can_edit_team
from core.changes import HypothesisChanges, OutcomeChanges, TargetChanges
from core.checks import REWRITE_TEMPLATE, outcome_checks, team_checks
from core.model import OutcomeSpec, PIInfo
from db import edit_queries, queries
from db.edit_queries import EditRecord, PlanChecksInput
from db.engine import read_session
from db.models import DIRECTIONS, EFFECT_UNITS, OUTCOME_STATUSES
from db.writes import (
    CopyResult,
    add_hypothesis,
    add_target,
    archive_outcome,
    copy_to_next_pi,
    create_outcome,
    update_hypothesis,
    update_outcome,
    update_target,
)
from ui.data import cached_read
from ui.filters import param_select
from ui.forms import (
    FormState,
    archive_button,
    escape_markdown,
    metrics_editor,
    save,
    save_changes,
)
from ui.frame import Frame, page_frame
from ui.iterations import goals_section

frame = page_frame("plan")

# `?team=train` selects the train-level outcomes: team keys are upper case, so no team
# can be called that. `?outcome=_new` is a new outcome: outcome keys start alphanumeric.
TRAIN_LEVEL = "train"
NEW = "_new"
KIND_CHOICES = ("", "increase", "decrease", "maintain")
KIND_WORDS = {"": "from baseline and target", "increase": "increase", "decrease": "decrease"}
UNIT_WORDS = {"absolute": "in metric units", "percent": "in percent"}
NUMBER_FORMAT = "%g"

list_pis = cached_read(queries.list_pis)
list_teams = cached_read(queries.list_teams)
current_pi = cached_read(queries.current_pi)


@dataclasses.dataclass(frozen=True)
class Scope:
    """What the page edits: one PI, and one team's outcomes or the train-level ones."""

    pi: PIInfo
    team_id: int | None
    team_key: str
    team_name: str


def pick_scope(frame: Frame, today: dt.date) -> Scope:
    pis = list_pis()
    if not pis:
        st.info("There is no PI yet: an admin adds PIs on the Admin page.")
        st.stop()
    teams = [t for t in list_teams() if can_edit_team(frame.actor, t.id)]
    names = {t.key: t.name for t in teams}
    if can_administer(frame.actor):
        names[TRAIN_LEVEL] = "Train-level outcomes"
    if not names:
        st.info("You may not change any team's plan. Ask an admin to add you to your team.")
        st.stop()
    requested = st.query_params.get("team")
    if requested and requested not in names:
        st.warning(
            f"You may not plan for team {escape_markdown(requested)}: pick one of your teams."
        )
        st.query_params.pop("team", None)
    default = current_pi(today=today)
    left, middle, _ = st.columns([1, 1, 2])
    pi_name = param_select(
        "PI",
        [p.name for p in pis],
        param="pi",
        default=default.name if default else None,
        container=left,
    )
    team_key = param_select(
        "Team", list(names), param="team", format_func=lambda k: names[k], container=middle
    )
    pi = next(p for p in pis if p.name == pi_name)
    team = next((t for t in teams if t.key == team_key), None)
    return Scope(pi, team.id if team else None, str(team_key), names[str(team_key)])


# ---------------------------------------------------------------- outcomes


def suggested_key(scope: Scope, outcomes: list[EditRecord]) -> str:
    prefix = "TR" if scope.team_id is None else scope.team_key
    taken = {o["key"] for o in outcomes}
    number = len(outcomes) + 1
    while f"{prefix}-{number}" in taken:
        number += 1
    return f"{prefix}-{number}"


def pick_outcome(outcomes: list[EditRecord]) -> EditRecord | None:
    by_key = {o["key"]: o for o in outcomes}
    if st.query_params.get("outcome") not in (*by_key, NEW, None):
        st.query_params.pop("outcome", None)  # from another team or PI: start afresh
    column, _ = st.columns([2, 2])
    choice = param_select(
        "Outcome",
        [*by_key, NEW],
        param="outcome",
        format_func=lambda k: (
            "+ New outcome"
            if k == NEW
            else f"{by_key[k].label}{' (archived)' if by_key[k]['status'] == 'archived' else ''}"
        ),
        container=column,
    )
    return by_key.get(str(choice))


def outcome_editor(
    frame: Frame,
    scope: Scope,
    record: EditRecord | None,
    outcomes: list[EditRecord],
    parents: list[EditRecord],
    checks_input: PlanChecksInput,
) -> None:
    form = FormState(
        f"plan.outcome.{record.id if record else f'new.{scope.pi.id}.{scope.team_key}'}",
        entity="outcome",
        record_id=record.id if record else None,
    )
    version = form.open(record)
    values: dict[str, Any] = dict(record.values) if record else {}
    parent_labels = {p.id: p.label for p in parents}
    if values.get("parent_id") is not None and values["parent_id"] not in parent_labels:
        parent_labels[values["parent_id"]] = f"outcome #{values['parent_id']} (archived)"
    left, right = st.columns([2, 1], gap="large")
    with left:
        key_column, title_column = st.columns([1, 3])
        key = key_column.text_input(
            "Key", key=form.init("key", values.get("key", suggested_key(scope, outcomes)))
        )
        title = title_column.text_input(
            "Title",
            key=form.init("title", values.get("title", "")),
            help="The change you expect for users, not the work: "
            "“Raise checkout conversion”, not “Build one-click pay”",
        )
        why = st.text_area("Why", key=form.init("why", values.get("why", "")), height=68)
        a, b, c = st.columns(3)
        owner = a.text_input("Owner", key=form.init("owner", values.get("owner", "")))
        planned_bv = b.number_input(
            "Planned business value",
            min_value=1,
            max_value=10,
            step=1,
            key=form.init("planned_bv", values.get("planned_bv")),
            help="1-10, set with the business owners; blank while drafting",
        )
        status = c.selectbox(
            "Status", OUTCOME_STATUSES, key=form.init("status", values.get("status", "draft"))
        )
        d, e = st.columns([1, 2])
        committed = d.checkbox(
            "Committed",
            key=form.init("committed", values.get("committed", True)),
            help="SAFe: committed outcomes count toward predictability",
        )
        parent_id = None
        if scope.team_id is not None:
            parent_id = e.selectbox(
                "Parent train outcome",
                [None, *parent_labels],
                key=form.init("parent_id", values.get("parent_id")),
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
        save_column, archive_column = st.columns([1, 1])
        if save_column.button(
            "Save outcome" if record else "Create outcome",
            type="primary",
            key=f"{form.name}#{form.generation}#save",
        ):
            if record is None:
                save(
                    frame,
                    form,
                    lambda session, submission: create_outcome(
                        session,
                        actor=frame.actor,
                        pi_id=scope.pi.id,
                        team_id=scope.team_id,
                        submission_key=submission,
                        **fields,
                    ),
                    success=_created,
                )
            else:
                save_changes(
                    frame,
                    form,
                    fields,
                    lambda session, changes, key: update_outcome(
                        session,
                        actor=frame.actor,
                        outcome_id=record.id,
                        expected_version=version,
                        submission_key=key,
                        changes=OutcomeChanges.of(changes),
                    ),
                    success=_saved,
                )
        form.show_status()
        if record is not None:
            with archive_column:
                archive_button(
                    frame,
                    form,
                    archived=values.get("status") == "archived",
                    noun="outcome",
                    write=lambda session, archived, key: (
                        archive_outcome(
                            session,
                            actor=frame.actor,
                            outcome_id=record.id,
                            expected_version=version,
                            submission_key=key,
                        )
                        if archived
                        else update_outcome(
                            session,
                            actor=frame.actor,
                            outcome_id=record.id,
                            expected_version=version,
                            submission_key=key,
                            changes=OutcomeChanges(status="draft"),
                        )
                    ),
                    help=None,
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
                        key=f"{form.name}#{form.generation}#rewrite",
                        on_click=_use_title,
                        args=(form.key("title"), check.rewrite),
                    )
        if record is None:
            st.caption("Targets and hypotheses come next, once the outcome is created.")


def _use_title(key: str, title: str) -> None:
    st.session_state[key] = title


def team_advice(scope: Scope, checks_input: PlanChecksInput) -> None:
    if scope.team_id is None:
        return
    live = [o for o in checks_input.outcomes if o.status != "archived"]
    for check in team_checks(live, checks_input.metrics):
        st.warning(
            escape_markdown(f"{scope.team_name}: {check.message}"), icon=":material/lightbulb:"
        )


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
    scope: Scope,
    outcome: EditRecord,
    record: EditRecord | None,
    metrics: list[EditRecord],
) -> None:
    form = FormState(
        f"plan.target.{record.id if record else f'new.{outcome.id}'}",
        entity="target",
        record_id=record.id if record else None,
    )
    version = form.open(record)
    values: dict[str, Any] = dict(record.values) if record else {}
    metric_labels = {m.id: m.label for m in metrics}
    if record is not None and record["metric_id"] not in metric_labels:
        metric_labels[record["metric_id"]] = record.label
    if not metric_labels:
        st.info("Add a metric first (the Metrics tab).")
        return
    with st.form(f"{form.name}#{form.generation}", border=False):
        a, b = st.columns(2)
        metric_id = a.selectbox(
            "Metric",
            list(metric_labels),
            key=form.init("metric_id", values.get("metric_id", next(iter(metric_labels)))),
            format_func=lambda i: metric_labels[i],
        )
        kind = b.selectbox(
            "Kind",
            KIND_CHOICES,
            key=form.init("kind", values.get("kind", "")),
            format_func=lambda k: KIND_WORDS.get(k, "maintain (stay in a band)"),
        )
        a, b = st.columns(2)
        baseline = a.number_input(
            "Baseline", key=form.init("baseline", values.get("baseline")), format=NUMBER_FORMAT
        )
        baseline_date = b.date_input(
            "Baseline date",
            key=form.init("baseline_date", values.get("baseline_date")),
            format="YYYY-MM-DD",
        )
        a, b = st.columns(2)
        goal = a.number_input(
            "Target value", key=form.init("target", values.get("target")), format=NUMBER_FORMAT
        )
        target_date = b.date_input(
            "Target date",
            key=form.init("target_date", values.get("target_date", scope.pi.end_date)),
            format="YYYY-MM-DD",
        )
        a, b = st.columns(2)
        band_low = a.number_input(
            "Band low (maintain only)",
            key=form.init("band_low", values.get("band_low")),
            format=NUMBER_FORMAT,
        )
        band_high = b.number_input(
            "Band high (maintain only)",
            key=form.init("band_high", values.get("band_high")),
            format=NUMBER_FORMAT,
        )
        submitted = st.form_submit_button("Save target" if record else "Add target")
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
    if submitted:
        if record is None:
            save(
                frame,
                form,
                lambda session, key: add_target(
                    session, actor=frame.actor, outcome_id=outcome.id, submission_key=key, **fields
                ),
                success="Added the target.",
            )
        else:
            save_changes(
                frame,
                form,
                fields,
                lambda session, changes, key: update_target(
                    session,
                    actor=frame.actor,
                    target_id=record.id,
                    expected_version=version,
                    submission_key=key,
                    changes=TargetChanges.of(changes),
                ),
                success="Saved the target.",
            )
    form.show_status()
    if record is not None:
        archive_button(
            frame,
            form,
            archived=False,
            noun="target",
            write=lambda session, archived, key: update_target(
                session,
                actor=frame.actor,
                target_id=record.id,
                expected_version=version,
                submission_key=key,
                changes=TargetChanges(archived=archived),
            ),
        )


# ---------------------------------------------------------------- hypotheses


def hypothesis_summary(hypothesis: EditRecord) -> str:
    return f"{hypothesis.label}: if {hypothesis['if_text']}"


def hypothesis_form(
    frame: Frame,
    outcome: EditRecord,
    record: EditRecord | None,
    metrics: list[EditRecord],
    releases: list[EditRecord],
) -> None:
    form = FormState(
        f"plan.hypothesis.{record.id if record else f'new.{outcome.id}'}",
        entity="hypothesis",
        record_id=record.id if record else None,
    )
    version = form.open(record)
    values: dict[str, Any] = dict(record.values) if record else {}
    metric_labels = {m.id: m.label for m in metrics}
    if record is not None and record["metric_id"] not in metric_labels:
        metric_labels[record["metric_id"]] = record.label
    release_labels = {r.id: r.label for r in releases}
    if not metric_labels:
        st.info("Add a metric first (the Metrics tab).")
        return
    with st.form(f"{form.name}#{form.generation}", border=False):
        metric_id = st.selectbox(
            "Metric",
            list(metric_labels),
            key=form.init("metric_id", values.get("metric_id", next(iter(metric_labels)))),
            format_func=lambda i: metric_labels[i],
            help="The metric this should move (usually one of the outcome's targets)",
        )
        if_text = st.text_input(
            "If we build",
            key=form.init("if_text", values.get("if_text", "")),
            placeholder="one-click pay for returning customers",
        )
        expect_text = st.text_input(
            "We expect",
            key=form.init("expect_text", values.get("expect_text", "")),
            placeholder="more buyers to finish checkout",
        )
        because_text = st.text_input(
            "Because",
            key=form.init("because_text", values.get("because_text", "")),
            placeholder="form length is the top drop-off",
        )
        a, b, c = st.columns(3)
        direction = a.selectbox(
            "Direction", DIRECTIONS, key=form.init("direction", values.get("direction", "increase"))
        )
        min_effect = b.number_input(
            "Minimum effect",
            min_value=0.0,
            key=form.init("min_effect", float(values.get("min_effect", 0.0))),
            format=NUMBER_FORMAT,
            help="The smallest change that would count as support",
        )
        min_effect_unit = c.selectbox(
            "Effect unit",
            EFFECT_UNITS,
            key=form.init("min_effect_unit", values.get("min_effect_unit", "absolute")),
            format_func=lambda u: UNIT_WORDS[u],
        )
        a, b = st.columns([2, 1])
        release_id = a.selectbox(
            "Release",
            [None, *release_labels],
            key=form.init("release_id", values.get("release_id")),
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
            key=form.init("window_days", values.get("window_days", 28)),
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
    if submitted:
        if record is None:
            save(
                frame,
                form,
                lambda session, key: add_hypothesis(
                    session, actor=frame.actor, outcome_id=outcome.id, submission_key=key, **fields
                ),
                success="Added the hypothesis.",
            )
        else:
            save_changes(
                frame,
                form,
                fields,
                lambda session, changes, key: update_hypothesis(
                    session,
                    actor=frame.actor,
                    hypothesis_id=record.id,
                    expected_version=version,
                    submission_key=key,
                    changes=HypothesisChanges.of(changes),
                ),
                success="Saved the hypothesis.",
            )
    form.show_status()
    if record is not None:
        archive_button(
            frame,
            form,
            archived=False,
            noun="hypothesis",
            write=lambda session, archived, key: update_hypothesis(
                session,
                actor=frame.actor,
                hypothesis_id=record.id,
                expected_version=version,
                submission_key=key,
                changes=HypothesisChanges(archived=archived),
            ),
        )


def targets_and_hypotheses(frame: Frame, scope: Scope, outcome: EditRecord) -> None:
    with read_session(frame.engine) as session:
        targets = edit_queries.outcome_targets(session, outcome_id=outcome.id)
        hypotheses = edit_queries.outcome_hypotheses(session, outcome_id=outcome.id)
        metrics = edit_queries.metric_choices(session, team_id=scope.team_id)
        releases = edit_queries.team_releases(session, team_id=scope.team_id)
    st.subheader("Targets", anchor=False)
    st.caption("What “better” means: a metric, its baseline and its target.")
    for target in targets:
        with st.expander(escape_markdown(target_summary(target))):
            target_form(frame, scope, outcome, target, metrics)
    with st.expander("Add a target", icon=":material/add:", expanded=not targets):
        target_form(frame, scope, outcome, None, metrics)
    st.subheader("Hypotheses", anchor=False)
    st.caption("If we build X, we expect Y, because Z.")
    for hypothesis in hypotheses:
        with st.expander(escape_markdown(hypothesis_summary(hypothesis))):
            hypothesis_form(frame, outcome, hypothesis, metrics, releases)
    with st.expander("Add a hypothesis", icon=":material/add:", expanded=not hypotheses):
        hypothesis_form(frame, outcome, None, metrics, releases)


# ---------------------------------------------------------------- copy


def copy_note(result: CopyResult) -> str:
    """What a copy did, outcome by outcome (shown as the form's note)."""
    count = len(result.copied)
    head = f"Copied {count} outcome{'' if count == 1 else 's'} into {result.to_pi}"
    if not result.copied and not result.skipped:
        return head + " (none were left to copy)."
    return f"{head}. " + " ".join(result.lines())


def copy_section(frame: Frame, scope: Scope, checks_input: PlanChecksInput) -> None:
    with read_session(frame.engine) as session:
        later = edit_queries.later_pis(session, pi_id=scope.pi.id)
    if not later:
        st.info("There is no later PI to copy into yet: an admin adds it on the Admin page.")
        return
    names = {p.id: p.name for p in later}
    unfinished = [o for o in checks_input.outcomes if o.status in ("draft", "active")]
    column, _ = st.columns([1, 2])
    to_pi = column.selectbox(
        "Copy into", list(names), format_func=lambda i: names[i], key="plan.copy.to"
    )
    whose = (
        "every team's and the train's"
        if scope.team_id is None
        else f"{escape_markdown(scope.team_name)}'s"
    )
    st.caption(
        f"Copies {whose} unfinished outcomes in {escape_markdown(scope.pi.name)} (draft or active: "
        f"{len(unfinished)} here) with their targets and open hypotheses, as drafts. An "
        "outcome whose key is already used in the other PI gets the next free key; one "
        "already copied there (same title) is skipped. The result lists each."
    )
    form = FormState(f"plan.copy.{scope.pi.id}.{scope.team_key}")
    if st.button(
        f"Copy unfinished outcomes and open hypotheses to {escape_markdown(names[to_pi])}",
        type="primary",
        key=f"{form.name}#{form.generation}#go",
    ):
        save(
            frame,
            form,
            lambda session, key: copy_to_next_pi(
                session,
                actor=frame.actor,
                from_pi_id=scope.pi.id,
                to_pi_id=to_pi,
                team_id=scope.team_id,
                submission_key=key,
            ),
            success=copy_note,
        )
    if form.show_status():
        st.page_link(
            "pages/plan.py",
            label=f"Open {escape_markdown(names[to_pi])}",
            icon=":material/arrow_forward:",
            query_params={"pi": names[to_pi], "team": scope.team_key},
        )


# ---------------------------------------------------------------- the page

st.title("Plan", anchor=False)
st.caption(
    "Write outcomes as changes for users, with targets you can measure and hypotheses you "
    "can test. The checks beside the form are advice; they never stop a save."
)
today = dt.date.today()
scope = pick_scope(frame, today)
with read_session(frame.engine) as session:
    outcomes = edit_queries.pi_outcomes(session, pi_id=scope.pi.id, team_id=scope.team_id)
    parents = edit_queries.train_outcomes(session, pi_id=scope.pi.id)
    checks_input = edit_queries.plan_checks_input(session, pi_id=scope.pi.id, team_id=scope.team_id)
outcomes_tab, goals_tab, metrics_tab, copy_tab = st.tabs(
    ["Outcomes", "Iteration goals", "Metrics", "Copy to the next PI"]
)
with outcomes_tab:
    team_advice(scope, checks_input)
    outcome = pick_outcome(outcomes)
    outcome_editor(frame, scope, outcome, outcomes, parents, checks_input)
    if outcome is not None:
        st.divider()
        targets_and_hypotheses(frame, scope, outcome)
with goals_tab:
    goals_section(frame, pi=scope.pi, team_id=scope.team_id, team_name=scope.team_name, today=today)
with metrics_tab:
    if scope.team_id is None:
        st.info("Metrics belong to teams: pick a team to change its metrics.")
    else:
        metrics_editor(frame, team_id=scope.team_id, team_name=scope.team_name, context="plan")
with copy_tab:
    copy_section(frame, scope, checks_input)
