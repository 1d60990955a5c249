"""Inspect & Adapt: every hypothesis of a PI with its verdict, evidence, decision and
learning, grouped by decision, with those whose window closed without a decision first
(the ones the train has to talk about)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from core.format import format_signed
from core.model import HypothesisVerdict, PISnapshot, PIStatus

# Group codes in the order they are shown: what waits for a decision comes first.
WAITING = "waiting"  # window closed, no decision yet
OPEN = "open"  # no decision yet, window still open or nothing shipped
GROUP_ORDER = (WAITING, "persevere", "pivot", "stop", OPEN)
GROUP_TITLES = {
    WAITING: "Window closed, no decision yet",
    "persevere": "Persevere",
    "pivot": "Pivot",
    "stop": "Stop",
    OPEN: "Still open: no decision yet",
}


@dataclass(frozen=True)
class EvidenceFigures:
    """The verdict figures Inspect & Adapt shows: `interval` is None under the means
    method, `method` None while untested."""

    effect: float | None
    interval: tuple[float, float] | None
    method: str | None


def evidence_figures(verdict: HypothesisVerdict) -> EvidenceFigures:
    """The one place that reads a verdict's evidence for Inspect & Adapt (page, slide and
    tests)."""
    evidence = verdict.evidence
    interval = evidence.interval
    return EvidenceFigures(
        effect=evidence.effect,
        interval=(float(interval[0]), float(interval[1])) if interval else None,
        method=evidence.method,
    )


@dataclass(frozen=True)
class InspectRow:
    """One hypothesis as Inspect & Adapt lists it."""

    hypothesis_id: int
    team: str  # "Train" for a train-level outcome
    team_key: str | None
    outcome_key: str
    if_text: str
    expect_text: str
    metric: str
    unit: str
    decimals: int
    verdict: str
    override: str | None
    figures: EvidenceFigures
    window_end: dt.date | None
    decision: str | None
    learning: str
    group: str


@dataclass(frozen=True)
class InspectGroup:
    code: str
    title: str
    rows: tuple[InspectRow, ...]


def window_closed(verdict: HypothesisVerdict, as_of: dt.date) -> bool:
    """Shipped, and its measurement window ended on or before `as_of` (R + W <= d)."""
    evidence = verdict.evidence
    return (
        evidence.release_date is not None
        and evidence.release_date <= as_of
        and evidence.window_end is not None
        and evidence.window_end <= as_of
    )


def inspect_and_adapt(status: PIStatus, snapshot: PISnapshot) -> tuple[InspectGroup, ...]:
    """Every hypothesis of the PI's outcomes (team outcomes by team, then the train's),
    grouped in GROUP_ORDER; empty groups are left out."""
    specs = {h.id: h for o in snapshot.outcomes for h in o.hypotheses}
    outcomes = [(t.team.name, t.team.key, o) for t in status.teams for o in t.outcomes]
    outcomes += [("Train", None, o) for o in status.train_outcomes]
    rows: list[InspectRow] = []
    for team, team_key, outcome in outcomes:
        for verdict in outcome.hypotheses:
            spec = specs.get(verdict.hypothesis_id)
            if spec is None:
                continue
            metric = snapshot.metrics.get(spec.metric_id)
            if spec.decision is not None:
                group = spec.decision
            elif window_closed(verdict, status.as_of):
                group = WAITING
            else:
                group = OPEN
            rows.append(
                InspectRow(
                    hypothesis_id=spec.id,
                    team=team,
                    team_key=team_key,
                    outcome_key=outcome.key,
                    if_text=spec.if_text,
                    expect_text=spec.expect_text,
                    metric=metric.name if metric else "",
                    unit=metric.unit if metric else "",
                    decimals=metric.decimals if metric else 1,
                    verdict=verdict.verdict,
                    override=verdict.override,
                    figures=evidence_figures(verdict),
                    window_end=verdict.evidence.window_end,
                    decision=spec.decision,
                    learning=spec.learning or "",
                    group=group,
                )
            )
    return _grouped(rows)


def _grouped(rows: Sequence[InspectRow]) -> tuple[InspectGroup, ...]:
    groups = []
    for code in GROUP_ORDER:
        members = tuple(r for r in rows if r.group == code)
        if members:
            groups.append(InspectGroup(code, GROUP_TITLES[code], members))
    return tuple(groups)


def effect_text(row: InspectRow) -> str:
    """ "+0.4% (95% interval -0.1% to 0.9%)", "+0.4%" without an interval, "—" without
    an effect: in the expected direction, in the metric's unit."""
    figures = row.figures
    if figures.effect is None:
        return "—"
    text = format_signed(figures.effect, row.unit, row.decimals)
    if figures.interval is not None:
        low, high = figures.interval
        text += (
            f" (95% interval {format_signed(low, row.unit, row.decimals)} to "
            f"{format_signed(high, row.unit, row.decimals)})"
        )
    return text
