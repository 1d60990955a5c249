"""Iterations and iteration goals, as pure rules (PRODUCT.md "Iteration", "Iteration goal").

An iteration is a time-box inside a PI; both its dates belong to it (as a PI's do). A PI's
iterations are made from its dates by `plan_iterations`: `length_days` each (default 14),
named I1, I2, ...; the last one ends on the PI's last day. A remainder shorter than half
an iteration joins the last full one instead of standing alone, so a 75-day PI gets five
iterations (the last 19 days), not five and a 5-day stub; a longer remainder is its own,
shorter, last iteration (an 82-day PI: five of 14 days and a sixth of 12).

Iterations of a PI do not overlap and lie within the PI (`iteration_problems`).

An iteration goal is one outcome-focused sentence per team per iteration. The title
checks of outcomes apply to it (`goal_checks`). Whether it was met is judged at the
iteration's end: `met` can be set to yes or no only once the iteration has ended
(`can_judge`); before that it stays unknown and the form says "judge at the end".
Judging a goal before its time-box is over invites a claim the data cannot back yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from core.checks import OUTCOME_MESSAGES, is_task_phrased
from core.errors import Problem
from core.model import Check

DEFAULT_LENGTH_DAYS = 14
MIN_LENGTH_DAYS = 1
MAX_LENGTH_DAYS = 366
NAME_PREFIX = "I"
GOAL_MAX_LENGTH = 500
GOAL_REWRITE = "Increase/Reduce <metric> from <baseline> to <target> by the iteration's end"
# How `met` reads: None is "unknown" (not judged yet).
MET_WORDS: dict[bool | None, str] = {True: "yes", False: "no", None: "unknown"}


@dataclass(frozen=True)
class IterationSpan:
    """An iteration's name and dates (both days inclusive)."""

    name: str
    start: dt.date
    end: dt.date

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def plan_iterations(
    start: dt.date, end: dt.date, *, length_days: int = DEFAULT_LENGTH_DAYS
) -> tuple[IterationSpan, ...]:
    """The iterations of a PI from `start` to `end` (inclusive): see the module's head."""
    if length_days < MIN_LENGTH_DAYS:
        raise ValueError(f"length_days must be at least {MIN_LENGTH_DAYS}")
    if end < start:
        return ()
    step = dt.timedelta(days=length_days)
    spans: list[tuple[dt.date, dt.date]] = []
    first = start
    while first <= end:
        last = min(first + step - dt.timedelta(days=1), end)
        spans.append((first, last))
        first = last + dt.timedelta(days=1)
    remainder = (spans[-1][1] - spans[-1][0]).days + 1
    if len(spans) > 1 and remainder < length_days and remainder * 2 < length_days:
        spans[-2:] = [(spans[-2][0], spans[-1][1])]
    return tuple(
        IterationSpan(f"{NAME_PREFIX}{number}", first, last)
        for number, (first, last) in enumerate(spans, start=1)
    )


def iteration_problems(
    span: IterationSpan,
    *,
    pi_start: dt.date,
    pi_end: dt.date,
    others: Sequence[IterationSpan],
) -> list[Problem]:
    """Why `span` cannot be one of a PI's iterations beside `others` (the PI's other
    iterations): dates in order, inside the PI, overlapping none."""
    problems: list[Problem] = []
    if span.end < span.start:
        problems.append(Problem("end_date", "must not be before the start date"))
        return problems
    if span.start < pi_start:
        problems.append(Problem("start_date", f"must not be before the PI starts ({pi_start})"))
    if span.end > pi_end:
        problems.append(Problem("end_date", f"must not be after the PI ends ({pi_end})"))
    for other in others:
        if other.start <= span.end and span.start <= other.end:
            problems.append(
                Problem("start_date", f"overlaps {other.name} ({other.start} to {other.end})")
            )
            break
    return problems


def current_iteration(spans: Sequence[IterationSpan], day: dt.date) -> IterationSpan | None:
    """The iteration that contains `day`, or None (before, after or between them)."""
    return next((span for span in spans if span.contains(day)), None)


def can_judge(iteration_end: dt.date, today: dt.date) -> bool:
    """`met` is judged at the iteration's end: once its last day is over."""
    return today > iteration_end


def goal_checks(goal: str) -> tuple[Check, ...]:
    """The outcome title checks that apply to a goal sentence: it must not read like a
    task (the same rule and words as an outcome's title)."""
    if goal.strip() and is_task_phrased(goal):
        return (
            Check(
                code="task_phrased",
                message=OUTCOME_MESSAGES["task_phrased"],
                rewrite=GOAL_REWRITE,
            ),
        )
    return ()
