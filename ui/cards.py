"""Dashboard building blocks drawn with Streamlit: tiles, an outcome's card, a
hypothesis's evidence, and the links between a train outcome and its team outcomes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import streamlit as st

from core.format import day_text, format_percent, format_value
from core.model import (
    HypothesisSpec,
    HypothesisVerdict,
    MetricInfo,
    OutcomeSpec,
    OutcomeStatus,
    PIInfo,
    PISnapshot,
    PIStatus,
    TeamStatus,
)
from ui.chart_cache import show_chart
from ui.charts import readings_frame
from ui.filters import page_params
from ui.format import (
    checkin_text,
    health_badge_md,
    hypothesis_md,
    outcome_badges_md,
    outcome_spec,
    target_numbers,
    target_rows,
    verdict_line_md,
)
from ui.text import escape_markdown


def tile(label: str, value: str, detail: str = "", *, help: str | None = None) -> None:
    """A bordered tile: a label, one big value, and a line of detail (trusted markdown:
    callers escape any user text in it)."""
    with st.container(border=True):
        st.metric(label, value, help=help)
        if detail:
            st.markdown(detail)


def no_data_message(what: str) -> None:
    st.info(what, icon=":material/info:")


def team_status(status_teams: Sequence[TeamStatus], key: str) -> TeamStatus | None:
    return next((t for t in status_teams if t.team.key == key), None)


def outcome_card(
    outcome: OutcomeStatus, snapshot: PISnapshot, *, pi: PIInfo, as_of: dt.date, team_key: str
) -> None:
    """One outcome on the team page: title, health with its reason, a progress bar and a
    sparkline per target, hypotheses with verdicts, quality checks, last confidence and a
    link to the outcome page."""
    spec = outcome_spec(snapshot, outcome.outcome_id)
    with st.container(border=True):
        st.subheader(
            f"{escape_markdown(outcome.key)} · {escape_markdown(outcome.title)}", anchor=False
        )
        st.markdown(outcome_badges_md(outcome))
        st.caption(f"Why this health: {escape_markdown(outcome.reason)}")

        if outcome.targets:
            left, right = st.columns([3, 2], gap="medium")
            with left:
                show_chart("progress_bars", target_rows(outcome), width=320)
            with right:
                for target in outcome.targets:
                    metric = snapshot.metrics.get(target.metric_id)
                    st.caption(
                        f"**{escape_markdown(target.metric)}** · "
                        f"{escape_markdown(target_numbers(target, metric))}",
                        help=escape_markdown(target.reason),
                    )
                    show_chart(
                        "sparkline",
                        # A frame, which the cache hashes in one go, not point by point.
                        readings_frame(snapshot.readings.get(target.metric_id, ())),
                        as_of=as_of,
                        health=target.health,
                        unit=metric.unit if metric else "",
                        decimals=metric.decimals if metric else 1,
                        height=34,
                    )

        hypotheses = {h.id: h for h in spec.hypotheses} if spec else {}
        for verdict in outcome.hypotheses:
            hypothesis = hypotheses.get(verdict.hypothesis_id)
            if hypothesis is None:
                continue
            st.markdown(
                f"{verdict_line_md(verdict)} {hypothesis_md(hypothesis)}",
                help=escape_markdown(verdict.reason),
            )

        for check in outcome.checks:
            text = f":material/lightbulb: {escape_markdown(check.message)}"
            if check.rewrite:
                text += f" — try: *{escape_markdown(check.rewrite)}*"
            st.markdown(text)

        bottom = st.columns([4, 1.3], vertical_alignment="center")
        bottom[0].caption(f"Last check-in: {escape_markdown(checkin_text(outcome.last_checkin))}")
        bottom[1].page_link(
            "pages/outcome.py",
            label=f"Open {escape_markdown(outcome.key)}",
            icon=":material/open_in_new:",
            query_params=page_params(pi=pi.name, team=team_key, outcome=outcome.key),
        )


def evidence_columns(
    verdict: HypothesisVerdict, hypothesis: HypothesisSpec, metric: MetricInfo | None
) -> None:
    """The release and windows, the method, then before and after means with counts,
    the effect against its minimum, its 95% interval and the p-value."""
    evidence = verdict.evidence
    unit = metric.unit if metric else ""
    decimals = metric.decimals if metric else 1

    def value(number: float | None) -> str:
        # st.metric renders its value as Markdown, and the unit is an editor's text.
        return escape_markdown(format_value(number, unit, decimals))

    if evidence.release_name and evidence.release_date:
        st.caption(
            f"Shipped in {escape_markdown(evidence.release_name)} on "
            f"{day_text(evidence.release_date)} · compared over {hypothesis.window_days} days "
            f"before and after"
            + (f" (until {day_text(evidence.window_end)})" if evidence.window_end else "")
        )
    else:
        st.caption("No release linked yet: link the release that shipped it on the Plan page.")
        return
    effect = "—"
    if evidence.effect is not None:
        effect = ("+" if evidence.effect >= 0 else "−") + value(abs(evidence.effect))
    minimum = f"+{value(evidence.min_effect)}" if evidence.min_effect is not None else "—"
    trend = evidence.method == "trend"
    if evidence.method is not None:
        st.caption(
            "Method: against the pre-release trend (on the chart, the “Pre-release trend” "
            "line, dashed after the release, is where the metric was heading without it)"
            if trend
            else "Method: before/after means (3 readings before and 2 after are needed "
            "to measure against the trend)"
        )
    columns = st.columns(5)
    columns[0].metric(f"Before · {evidence.before_count} readings", value(evidence.before_mean))
    columns[1].metric(f"After · {evidence.after_count} readings", value(evidence.after_mean))
    columns[2].metric(
        "Effect",
        effect,
        help=(
            "Mean distance of the after readings from the projected pre-release trend, "
            "positive in the expected direction."
            if trend
            else "Mean after minus mean before, positive in the expected direction."
        ),
        delta=f"minimum {minimum}",
        delta_color="off",
        delta_arrow="off",
    )
    interval = "—"
    if evidence.interval is not None:
        low, high = evidence.interval
        interval = f"{format_value(low, '', decimals)} to {format_value(high, '', decimals)}"
    columns[3].metric(
        "95% interval",
        interval,
        help="Student t interval of the trend effect; none for the means method.",
    )
    columns[4].metric(
        "p-value",
        "—" if evidence.p_value is None else f"{evidence.p_value:.3f}",
        help=(
            "Two-sided Student t test of the trend effect."
            if trend
            else "Welch's t-test, when each side has 3 or more readings."
        ),
    )


def outcome_team_keys(status: PIStatus) -> dict[int, tuple[OutcomeStatus, str | None]]:
    """Every outcome of the PI by id, with its team's key (None: train-level)."""
    found: dict[int, tuple[OutcomeStatus, str | None]] = {
        o.outcome_id: (o, team.team.key) for team in status.teams for o in team.outcomes
    }
    found.update({o.outcome_id: (o, None) for o in status.train_outcomes})
    return found


def contributor_links(status: PIStatus, outcome: OutcomeStatus, pi_name: str) -> None:
    """A train outcome's contributing team outcomes, each with health, progress and a
    link to its outcome page; says whether the train outcome's own health is rolled up
    from them (PRODUCT.md's alignment rollup)."""
    by_id = outcome_team_keys(status)
    children = [by_id[c] for c in outcome.contributors if c in by_id]
    if not children:
        st.caption("No team outcome contributes to it yet (teams name it as parent on Plan).")
        return
    st.caption(
        "Health and progress are rolled up from these team outcomes (worst health, mean progress)."
        if outcome.rolled_up
        else "Judged by its own targets; these team outcomes contribute to it."
    )
    for child, team_key in children:
        line = st.columns([1.2, 1, 5], vertical_alignment="center")
        line[0].markdown(health_badge_md(child.health))
        line[1].markdown(escape_markdown(format_percent(child.progress)))
        line[2].page_link(
            "pages/outcome.py",
            label=f"{escape_markdown(child.key)} · {escape_markdown(child.title)}",
            query_params=page_params(pi=pi_name, team=team_key, outcome=child.key),
        )


def parent_link(status: PIStatus, spec: OutcomeSpec, pi_name: str) -> None:
    """For a team outcome that contributes to a train outcome: a link up to it."""
    if spec.parent_id is None:
        return
    found = outcome_team_keys(status).get(spec.parent_id)
    if found is None:
        return
    parent, team_key = found
    st.page_link(
        "pages/outcome.py",
        label=f"Contributes to {escape_markdown(parent.key)} · {escape_markdown(parent.title)}",
        icon=":material/account_tree:",
        query_params=page_params(pi=pi_name, team=team_key, outcome=parent.key),
    )
