"""Shared dashboard widgets: safe text, health and verdict badges as words, tiles, the
filter row (train, PI, team, as-of) bound to the URL, and small formatters."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import altair as alt
import streamlit as st
from streamlit import dataframe_util

from core.errors import ConflictError, PermissionDenied, ValidationError
from core.model import (
    CheckInInfo,
    HypothesisSpec,
    HypothesisVerdict,
    MetricInfo,
    OutcomeSpec,
    OutcomeStatus,
    PIInfo,
    PISnapshot,
    PIStatus,
    TargetStatus,
    TeamInfo,
    TeamStatus,
)
from core.validate import bounded_int
from db.engine import write_session
from db.writes import DuplicateSubmission, claim_submission, score_outcome
from ui import reads
from ui.charts import (
    predictability_chart,
    progress_bars,
    readings_frame,
    sparkline,
    target_chart_for,
    track_record_chart,
)
from ui.data import clear_reads
from ui.filters import as_of_picker, copy_link, param_select
from ui.forms import show_conflict, show_problems
from ui.frame import Frame, flash
from ui.idempotency import rotate, submission_key
from ui.text import escape_markdown
from ui.theme import (
    PREDICTABILITY_BAND_LABEL,
    format_value,
    health_label,
    verdict_label,
)

# ---------------------------------------------------------------- safe text

# escape_markdown, safe_url and WORD_JOINER live in ui.text (one copy for every page).


# ---------------------------------------------------------------- dates and numbers


def day_text(day: dt.date | None, *, year: bool = True) -> str:
    """ "2 Nov 2026" (or "2 Nov"); "—" when unknown."""
    if day is None:
        return "—"
    return f"{day.day} {day:%b %Y}" if year else f"{day.day} {day:%b}"


def pi_span_text(pi: PIInfo) -> str:
    return f"{day_text(pi.start_date, year=False)} – {day_text(pi.end_date)}"


def pi_progress_text(pi: PIInfo, as_of: dt.date) -> str:
    """Where `as_of` falls in the PI: "day 29 of 75", "starts in 5 days", "ended"."""
    total = (pi.end_date - pi.start_date).days + 1
    if as_of < pi.start_date:
        days = (pi.start_date - as_of).days
        return f"starts in {days} day{'s' if days != 1 else ''}"
    if as_of > pi.end_date:
        return "ended"
    return f"day {(as_of - pi.start_date).days + 1} of {total}"


def percent_text(fraction: float | None) -> str:
    return "—" if fraction is None else f"{fraction * 100:.0f}%"


# ---------------------------------------------------------------- badges

_HEALTH_BADGE: dict[str, tuple[str, str]] = {
    "missed": ("red", ":material/cancel:"),
    "off_track": ("red", ":material/trending_down:"),
    "at_risk": ("orange", ":material/warning:"),
    "stale": ("gray", ":material/schedule:"),
    "no_data": ("gray", ":material/help:"),
    "on_track": ("green", ":material/check_circle:"),
    "achieved": ("blue", ":material/verified:"),
    "unmeasurable": ("gray", ":material/block:"),
}
_VERDICT_BADGE: dict[str, tuple[str, str]] = {
    "supported": ("green", ":material/thumb_up:"),
    "refuted": ("red", ":material/thumb_down:"),
    "inconclusive": ("orange", ":material/help:"),
    "measuring": ("blue", ":material/hourglass_top:"),
    "untested": ("gray", ":material/radio_button_unchecked:"),
}
_BAND_BADGE: dict[str, str] = {
    "healthy": "green",
    "over_committed": "orange",
    "under_committed": "violet",
}


def health_badge_md(health: str, *, prefix: str = "") -> str:
    """Inline markdown for a health badge: icon, colour and always the word."""
    color, icon = _HEALTH_BADGE.get(health, ("gray", ":material/help:"))
    return f":{color}-badge[{icon} {prefix}{health_label(health)}]"


def verdict_badge_md(verdict: str, *, prefix: str = "") -> str:
    color, icon = _VERDICT_BADGE.get(verdict, ("gray", ":material/help:"))
    return f":{color}-badge[{icon} {prefix}{verdict_label(verdict)}]"


def band_badge_md(band: str | None) -> str:
    if band is None:
        return ""
    return f":{_BAND_BADGE.get(band, 'gray')}-badge[{PREDICTABILITY_BAND_LABEL.get(band, band)}]"


def count_badges_md(counts: Counter[str], *, order: Sequence[str], kind: str) -> str:
    """ "2 × At risk  5 × On track" as badges, worst first, only non-zero counts."""
    parts = []
    for code in [*order, *sorted(set(counts) - set(order))]:
        if counts.get(code):
            if kind == "health":
                parts.append(health_badge_md(code, prefix=f"{counts[code]} "))
            else:
                parts.append(verdict_badge_md(code, prefix=f"{counts[code]} "))
    return " ".join(parts)


def health_counts(outcomes: Iterable[OutcomeStatus]) -> Counter[str]:
    return Counter(o.health for o in outcomes)


def verdict_counts(outcomes: Iterable[OutcomeStatus]) -> Counter[str]:
    return Counter(h.verdict for o in outcomes for h in o.hypotheses)


def mean_progress(outcomes: Iterable[OutcomeStatus]) -> float | None:
    """Mean of the outcomes' progress (each already clamped by the rules), leaving out
    outcomes without any measured target."""
    values = [o.progress for o in outcomes if o.progress is not None]
    return sum(values) / len(values) if values else None


def predictability_text(percent: float | None, band: str | None, not_yet_scored: int) -> str:
    if percent is None:
        return "not yet scored" if not_yet_scored else "nothing committed"
    text = f"{percent:.0f}% · {PREDICTABILITY_BAND_LABEL.get(band or '', '')}"
    if not_yet_scored:
        text += f" ({not_yet_scored} not yet scored)"
    return text


# ---------------------------------------------------------------- layout pieces


def tile(label: str, value: str, detail: str = "", *, help: str | None = None) -> None:
    """A bordered tile: a label, one big value, and a line of detail (trusted markdown:
    callers escape any user text in it)."""
    with st.container(border=True):
        st.metric(label, value, help=help)
        if detail:
            st.markdown(detail)


def page_params(**values: str | None) -> dict[str, str]:
    """Query parameters for a link to another page: the shared context, overridden."""
    params = {
        name: st.query_params[name]
        for name in ("train", "pi", "team", "outcome", "as_of")
        if name in st.query_params
    }
    for name, value in values.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return params


def no_data_message(what: str) -> None:
    st.info(what, icon=":material/info:")


# ---------------------------------------------------------------- filters


@dataclass(frozen=True)
class Filters:
    """What a dashboard shows: the chosen train (None in a train-less install), PI and
    as-of date."""

    train: str | None
    pi: PIInfo | None
    as_of: dt.date
    top: Top


def today() -> dt.date:
    return dt.date.today()


def _train_of_requested_pi(pis: Sequence[PIInfo]) -> str | None:
    requested = st.query_params.get("pi")
    return next((p.train_name for p in pis if p.name == requested), None)


def _pi_label(pis: Sequence[PIInfo]) -> Any:
    by_name = {p.name: p for p in pis}

    def label(name: str) -> str:
        pi = by_name.get(name)
        return f"{name} ({pi_span_text(pi)})" if pi else name

    return label


def train_select(where: Any, *, page: str) -> str | None:
    """The Train select box (skipped when the workspace has no trains). Changing the train
    drops a PI of another train from the URL, so the PI default applies."""
    names = reads.train_names()
    if not names:
        st.query_params.pop("train", None)
        return None
    default = _train_of_requested_pi(reads.list_pis()) if "train" not in st.query_params else None
    train = param_select("Train", names, param="train", default=default, container=where)
    seen_key = f"views.train_seen.{page}"
    seen = st.session_state.get(seen_key)
    if seen is not None and seen != train:
        st.query_params.pop("pi", None)
    st.session_state[seen_key] = train
    return train


def pi_select(
    where: Any, *, train: str | None, as_of: dt.date, pis: Sequence[PIInfo] | None = None
) -> PIInfo | None:
    """The PI select box, defaulting to the PI running on `as_of` (else the next, else
    the last); None with a message when there is no PI."""
    pis = list(pis) if pis is not None else reads.list_pis(train)
    if not pis:
        st.query_params.pop("pi", None)
        return None
    current = reads.current_pi(today=as_of, train_name=train)
    names = [p.name for p in reversed(pis)]  # newest first: the likely choices on top
    chosen = param_select(
        "PI",
        names,
        param="pi",
        default=current.name if current else names[0],
        format_func=_pi_label(pis),
        container=where,
        noun="PI",
    )
    return next((p for p in pis if p.name == chosen), None)


@dataclass(frozen=True)
class Top:
    """The top of a dashboard: a slot for the title row (filled once the names are known,
    so it still sits above the filters) and one column per filter."""

    head: Any
    columns: Sequence[Any]
    as_of: dt.date


def page_top(widths: Sequence[float]) -> Top:
    """The title slot and a row of filter columns; the last column holds As of."""
    head = st.container()
    columns = st.columns(list(widths), vertical_alignment="bottom")
    as_of = as_of_picker(container=columns[-1], today=today())
    return Top(head=head, columns=columns, as_of=as_of)


def title_row(
    top: Top, title: str, *, caption: str = "", help: str | None = None, small: bool = False
) -> None:
    """The page title (user text, escaped) with Copy link beside it and a caption line;
    `small` for long titles (outcome statements). Call after every filter has written its
    parameter: the link is built from the URL."""
    with top.head:
        left, right = st.columns([6, 1.4], vertical_alignment="center")
        if small:
            # A sentence-long title reads better one size down (still the top heading).
            left.header(escape_markdown(title), anchor=False, help=help)
        else:
            left.title(escape_markdown(title), anchor=False, help=help)
        with right.container(horizontal_alignment="right"):
            copy_link()
        if caption:
            st.caption(escape_markdown(caption))


def filter_row(*, page: str) -> Filters:
    """Train, PI and As of in one row, all bound to the URL (the title slot above)."""
    top = page_top([2, 3, 2])
    train = train_select(top.columns[0], page=page)
    pi = pi_select(top.columns[1], train=train, as_of=top.as_of)
    return Filters(train=train, pi=pi, as_of=top.as_of, top=top)


def pi_caption(filters: Filters) -> str:
    """ "Payments train · 14 Sep – 4 Dec 2026 · day 50 of 82 · as of 2 Nov 2026"."""
    assert filters.pi is not None
    parts = (
        f"{filters.train} train" if filters.train else "",
        pi_span_text(filters.pi),
        pi_progress_text(filters.pi, filters.as_of),
        f"as of {day_text(filters.as_of)}",
    )
    return " · ".join(part for part in parts if part)


def team_filter_row() -> tuple[TeamInfo | None, Filters]:
    """Team, PI and As of; the team's train is written to the URL to keep links whole."""
    top = page_top([2, 3, 2])
    teams = reads.teams(train_name=None, include_inactive=True)
    key = param_select(
        "Team",
        [t.key for t in teams],
        param="team",
        format_func=team_label(teams),
        container=top.columns[0],
    )
    team = next((t for t in teams if t.key == key), None)
    train_names = {t.id: t.name for t in reads.list_trains()}
    train = train_names.get(team.train_id) if team and team.train_id is not None else None
    if train:
        st.query_params["train"] = train
    else:
        st.query_params.pop("train", None)
    pi = pi_select(top.columns[1], train=train, as_of=top.as_of) if team else None
    return team, Filters(train=train, pi=pi, as_of=top.as_of, top=top)


def team_label(teams: Sequence[TeamInfo]) -> Any:
    by_key = {t.key: t for t in teams}

    def label(key: str) -> str:
        team = by_key.get(key)
        if team is None:
            return key
        return team.name if team.active else f"{team.name} (inactive)"

    return label


def team_status(status_teams: Sequence[TeamStatus], key: str) -> TeamStatus | None:
    return next((t for t in status_teams if t.team.key == key), None)


# ---------------------------------------------------------------- outcome cards


def outcome_spec(snapshot: PISnapshot, outcome_id: int) -> OutcomeSpec | None:
    return next((o for o in snapshot.outcomes if o.id == outcome_id), None)


def outcome_badges_md(outcome: OutcomeStatus) -> str:
    """Health, commitment and business value as a row of badges (no user text)."""
    parts = [health_badge_md(outcome.health)]
    parts.append(":blue-badge[Committed]" if outcome.committed else ":gray-badge[Uncommitted]")
    if outcome.planned_bv is not None:
        value = f"BV {outcome.planned_bv} planned"
        if outcome.actual_bv is not None:
            value += f", {outcome.actual_bv} actual"
        parts.append(f":gray-badge[{value}]")
    if outcome.progress is not None:
        parts.append(f":gray-badge[{percent_text(outcome.progress)} progress]")
    return " ".join(parts)


def hypothesis_md(spec: HypothesisSpec) -> str:
    """ "If we build X, we expect Y because Z" with the user's words escaped."""
    text = (
        f"**If** {escape_markdown(spec.if_text)}, **we expect** {escape_markdown(spec.expect_text)}"
    )
    if spec.because_text:
        text += f" **because** {escape_markdown(spec.because_text)}"
    return text


def verdict_line_md(verdict: HypothesisVerdict) -> str:
    """The computed verdict, and a team's override beside it (never instead)."""
    line = verdict_badge_md(verdict.verdict)
    if verdict.override:
        line += " " + verdict_badge_md(verdict.override, prefix="Team says: ")
    return line


def checkin_text(checkin: CheckInInfo | None) -> str:
    if checkin is None:
        return "No check-in yet."
    who = f" by {checkin.by}" if checkin.by else ""
    text = f"Confidence {checkin.confidence}/10 on {day_text(checkin.date)}{who}"
    return f"{text}: “{checkin.comment}”" if checkin.comment else text


def target_rows(outcome: OutcomeStatus) -> list[dict[str, Any]]:
    """Rows for ui.charts.progress_bars: one per target."""
    return [
        {
            "label": t.metric,
            "progress": t.progress_raw,
            "expected": t.expected,
            "health": t.health,
        }
        for t in outcome.targets
    ]


def target_numbers(target: TargetStatus, metric: MetricInfo | None) -> str:
    """ "2.4% now → 2.6% by 4 Dec" (or the band for maintain)."""
    unit = metric.unit if metric else ""
    decimals = metric.decimals if metric else 1
    now = format_value(target.current, unit, decimals)
    if target.kind == "maintain":
        low = format_value(target.band_low, "", decimals)
        goal = f"keep {low}–{format_value(target.band_high, unit, decimals)}"
    else:
        goal = f"{format_value(target.target, unit, decimals)} by {day_text(target.target_date, year=False)}"
    return f"{now} now → {goal}"


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


# ---------------------------------------------------------------- outcome page pieces


def known_train() -> str | None:
    """The `train` of the URL when it names a train; an unknown one is said and dropped."""
    requested = st.query_params.get("train")
    if requested is None:
        return None
    if requested in reads.train_names():
        return requested
    st.warning(f"There is no train “{escape_markdown(requested)}” here; showing every train's PIs.")
    st.query_params.pop("train", None)
    return None


def outcome_select(
    where: Any, view: reads.PIView
) -> tuple[OutcomeStatus, OutcomeSpec, TeamInfo | None] | None:
    """The Outcome select box over every outcome of the PI (team outcomes by team, then the
    train's), defaulting to the first of the URL's team; writes `team` to match."""
    status = view.status
    entries: list[tuple[OutcomeStatus, TeamInfo | None]] = [
        (o, t.team) for t in status.teams for o in t.outcomes
    ]
    entries += [(o, None) for o in status.train_outcomes]
    if not entries:
        st.query_params.pop("outcome", None)
        return None
    by_key = {o.key: (o, team) for o, team in entries}
    team_key = st.query_params.get("team")
    default = next((o.key for o, team in entries if team and team.key == team_key), None)

    def label(key: str) -> str:
        outcome, team = by_key[key]
        return f"{key} · {outcome.title} ({team.name if team else 'train'})"

    key = param_select(
        "Outcome",
        list(by_key),
        param="outcome",
        default=default,
        format_func=label,
        container=where,
    )
    if key is None:
        return None
    outcome, team = by_key[key]
    spec = outcome_spec(view.snapshot, outcome.outcome_id)
    if spec is None:
        return None
    if team is not None:
        st.query_params["team"] = team.key
    else:
        st.query_params.pop("team", None)
    return outcome, spec, team


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


# ---------------------------------------------------------------- presentation

PRESENT_MIN_INTERVAL = 3
# Above this the browser's timer overflows (about 24.8 days, 2**31 ms) and fires at once:
# a shared link could make every open presentation rerun in a loop.
PRESENT_MAX_INTERVAL = 3600
PRESENT_DEFAULT_INTERVAL = 15

# A constant (no user text ever goes in here): big type and high contrast, readable from
# the back of a room on a 1280x720 projector.
PRESENT_CSS = """<style>
.stApp, .stApp [data-testid="stHeader"] { background: #ffffff; color: #000000; }
.stMainBlockContainer { max-width: 100%; padding: 3rem 3vw 1rem 3vw; }
.stMainBlockContainer h1 { font-size: max(3.2rem, 5vw); font-weight: 800; color: #000000;
  padding: 0 0 0.4rem 0; }
.stMainBlockContainer h3 { font-size: max(1.7rem, 2.3vw); font-weight: 650; color: #000000;
  line-height: 1.25; padding: 0.2rem 0; }
.stMainBlockContainer [data-testid="stMarkdownContainer"] p { font-size: max(1.3rem, 1.6vw);
  color: #000000; }
.stMainBlockContainer .stMarkdownBadge { font-size: max(1.4rem, 1.9vw) !important;
  font-weight: 700; padding: 0.1em 0.45em; }
.stMainBlockContainer p:has(> .stMarkdownBadge) { margin: 0; }
.stMainBlockContainer button p { font-size: max(1.1rem, 1.2vw); }
.stMainBlockContainer [data-testid="stHeaderActionElements"] { display: none; }
</style>"""


def present_interval(raw: str | None) -> int:
    """Seconds per slide from `interval=`: default 15, held to 3..3600."""
    return bounded_int(
        raw, default=PRESENT_DEFAULT_INTERVAL, low=PRESENT_MIN_INTERVAL, high=PRESENT_MAX_INTERVAL
    )


# ---------------------------------------------------------------- charts


# The chart builders a page draws through `show_chart`, by name (a cache key part).
CHARTS: dict[str, Callable[..., alt.TopLevelMixin]] = {
    "target": target_chart_for,
    "sparkline": sparkline,
    "progress_bars": progress_bars,
    "predictability": predictability_chart,
    "track_record": track_record_chart,
}


def chart_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """An Altair chart from ui.charts as the Vega-Lite spec the page draws. Converted
    without Altair's schema validation (the builders are validated by their own tests):
    validating costs about ten times the conversion itself."""
    with alt.theme.enable("none") if alt.theme.active == "default" else nullcontext():
        spec = chart.to_dict(validate=False)
    if "title" in spec:
        # Fitted to the page's width, Vega places a title with a subtitle partly above the
        # drawing area; room at the top keeps it whole.
        spec.setdefault("padding", {"top": 24, "left": 5, "right": 5, "bottom": 5})
    return spec


@st.cache_data(max_entries=2_000, show_spinner=False)
def _cached_spec(builder: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    spec = chart_spec(CHARTS[builder](*args, **kwargs))
    # st.vega_lite_chart turns each of the spec's datasets into Arrow bytes, on every run
    # (a target chart has a dozen layers); it passes bytes through as they are, so the
    # cache keeps them converted, by Streamlit's own converter.
    datasets = spec.get("datasets", {})
    for name, values in datasets.items():
        datasets[name] = dataframe_util.convert_anything_to_arrow_bytes(values)
    return spec


def show_chart(builder: str, *args: Any, **kwargs: Any) -> None:
    """Draw `CHARTS[builder](*args, **kwargs)`. The spec is cached by those arguments (the
    data itself, so a new reading is a new key): building an Altair chart of many layers
    took most of a warm run of the outcome and team pages (bench/RESULTS.md), and a
    rerun, another visitor or a presentation's next round draws the same charts."""
    st.vega_lite_chart(_cached_spec(builder, args, kwargs), width="stretch")


# ---------------------------------------------------------------- alignment


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
        line[1].markdown(escape_markdown(percent_text(child.progress)))
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
