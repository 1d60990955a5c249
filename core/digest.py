"""The weekly digest of a team or a train as Markdown: what changed since a date (new
readings per metric with old -> new, health and verdict changes), stale metrics with their
last date, sources that failed, hypotheses whose window closed without a decision, and the
current iteration goal. An empty week says so in one line.

Pure: `db/digest.py` gathers the facts, this shapes them; the command line, the chat
webhook, the e-mail and the team page's download all send the same text. User text is
escaped (`md_text`) so a title can form no link, image or markup in the chat."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from core.report import md_text


@dataclass(frozen=True)
class MetricChange:
    team: str
    metric: str
    unit: str
    decimals: int
    old: float | None  # the latest reading on or before the since-date; None: none
    new: float  # the latest reading after it
    new_date: dt.date
    count: int  # new readings after the since-date


@dataclass(frozen=True)
class StatusChange:
    """A health (outcome or target) or a verdict that differs between the two dates."""

    team: str
    what: str  # "CHK-1" or "CHK-1 · Checkout conversion"
    before: str
    after: str


@dataclass(frozen=True)
class StaleMetric:
    team: str
    metric: str
    last_date: dt.date | None
    interval_days: int


@dataclass(frozen=True)
class WaitingHypothesis:
    team: str
    outcome: str
    metric: str
    if_text: str
    verdict: str
    closed_on: dt.date


@dataclass(frozen=True)
class GoalLine:
    team: str
    iteration: str
    goal: str


@dataclass(frozen=True)
class Digest:
    scope: str  # "Checkout" or "Payments train"
    since: dt.date
    today: dt.date
    pi: str | None
    readings: list[MetricChange] = field(default_factory=list)
    health: list[StatusChange] = field(default_factory=list)
    verdicts: list[StatusChange] = field(default_factory=list)
    stale: list[StaleMetric] = field(default_factory=list)
    failed_sources: list[str] = field(default_factory=list)
    waiting: list[WaitingHypothesis] = field(default_factory=list)
    goals: list[GoalLine] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.readings
            or self.health
            or self.verdicts
            or self.stale
            or self.failed_sources
            or self.waiting
        )


def _number(value: float | None, decimals: int) -> str:
    if value is None:
        return "none"
    return f"{value:,.{max(0, min(decimals, 6))}f}"


def _day(day: dt.date) -> str:
    return day.isoformat()


def digest_title(digest: Digest) -> str:
    return f"{digest.scope} digest: {_day(digest.since)} to {_day(digest.today)}"


def digest_markdown(digest: Digest) -> str:
    """The digest as a Markdown document (also what a chat webhook and an e-mail carry)."""
    lines = [f"# {md_text(digest_title(digest))}", ""]
    if digest.pi:
        lines += [f"PI: {md_text(digest.pi)}", ""]
    if digest.empty:
        lines.append(
            f"Nothing changed since {_day(digest.since)}: no new readings, no health or "
            "verdict changes, nothing stale, no hypothesis waiting for a decision."
        )
    multi = len({c.team for c in digest.readings} | {s.team for s in digest.stale}) > 1

    def who(team: str) -> str:
        return f"{md_text(team)} · " if multi else ""

    if digest.readings:
        lines += ["## New readings", ""]
        for c in digest.readings:
            unit = f" {md_text(c.unit)}" if c.unit else ""
            count = f" ({c.count} new)" if c.count > 1 else ""
            lines.append(
                f"- {who(c.team)}{md_text(c.metric)}: {_number(c.old, c.decimals)} -> "
                f"{_number(c.new, c.decimals)}{unit} on {_day(c.new_date)}{count}"
            )
        lines.append("")
    for heading, changes in (
        ("Health changes", digest.health),
        ("Verdict changes", digest.verdicts),
    ):
        if changes:
            lines += [f"## {heading}", ""]
            lines += [
                f"- {md_text(c.team)} · {md_text(c.what)}: {md_text(c.before)} -> "
                f"{md_text(c.after)}"
                for c in changes
            ]
            lines.append("")
    if digest.stale:
        lines += ["## Stale metrics", ""]
        for s in digest.stale:
            last = _day(s.last_date) if s.last_date else "never"
            lines.append(
                f"- {who(s.team)}{md_text(s.metric)}: last reading {last} "
                f"(expected every {s.interval_days} days)"
            )
        lines.append("")
    if digest.failed_sources:
        lines += ["## Sources that failed", ""]
        lines += [f"- {md_text(line)}" for line in digest.failed_sources]
        lines.append("")
    if digest.waiting:
        lines += ["## Hypotheses waiting for a decision", ""]
        for h in digest.waiting:
            lines.append(
                f"- {md_text(h.team)} · {md_text(h.outcome)} · {md_text(h.metric)}: "
                f"if {md_text(h.if_text)} ({h.verdict}; window closed {_day(h.closed_on)})"
            )
        lines.append("")
    if digest.goals:
        lines += ["## Current iteration goal", ""]
        lines += [
            f"- {md_text(g.team)} · {md_text(g.iteration)}: {md_text(g.goal)}" for g in digest.goals
        ]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
