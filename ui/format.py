"""Dashboard words and markdown without Streamlit: PI spans and progress, health, verdict
and band badges, counts, and the texts of an outcome card. Numbers, percents and days
come from core/format.py (one formatter per kind of value); user text is escaped here."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from core.format import day_text, format_percent, format_value
from core.model import (
    CheckInInfo,
    HypothesisSpec,
    HypothesisVerdict,
    MetricInfo,
    OutcomeSpec,
    OutcomeStatus,
    PIInfo,
    PISnapshot,
    TargetStatus,
    TeamPredictability,
    TrainPredictability,
)
from ui.text import escape_markdown
from ui.theme import PREDICTABILITY_BAND_LABEL, health_label, verdict_label


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


def predictability_text(p: TeamPredictability | TrainPredictability, outcomes: int) -> str:
    """A team's (or, pooled, the train's) predictability in words, for every page.

    Before the PI ends only the scored outcomes enter the sums, so a band from 1 of 15
    scored would mislead: while any outcome is unscored the text says "Partial: N of M
    scored" and no band, with the scored ones' percent labelled as partial. `outcomes`
    is M, the outcomes the figure is about (the team's, or every team's for the train)."""
    if isinstance(p, TrainPredictability):
        percent, band = p.pooled, p.pooled_band
    else:
        percent, band = p.percent, p.band
    if p.not_yet_scored and not p.pi_ended:
        total = max(outcomes, p.not_yet_scored)
        # PRODUCT.md's words for the unscored ones ("not yet scored") stay in the text.
        text = (
            f"Partial: {total - p.not_yet_scored} of {total} scored "
            f"({p.not_yet_scored} not yet scored)"
        )
        if percent is not None:
            text += f" · {percent:.0f}% of the scored so far"
        return text
    if percent is None:
        return "not yet scored" if p.not_yet_scored else "nothing committed"
    return f"{percent:.0f}% · {PREDICTABILITY_BAND_LABEL.get(band or '', '')}"


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
        parts.append(f":gray-badge[{format_percent(outcome.progress)} progress]")
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


def outcome_spec(snapshot: PISnapshot, outcome_id: int) -> OutcomeSpec | None:
    return next((o for o in snapshot.outcomes if o.id == outcome_id), None)
