"""Iterations made from a PI's dates, their validity, the current one, and goal rules."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from core.iterations import (
    IterationSpan,
    can_judge,
    current_iteration,
    goal_checks,
    iteration_problems,
    plan_iterations,
)

D = dt.date


def _spans(*rows: tuple[str, str, str]) -> tuple[IterationSpan, ...]:
    return tuple(IterationSpan(n, D.fromisoformat(s), D.fromisoformat(e)) for n, s, e in rows)


@pytest.mark.parametrize(
    ("start", "end", "length", "expected"),
    [
        # exactly four iterations of 14 days
        (
            "2026-01-05",
            "2026-03-01",
            14,
            _spans(
                ("I1", "2026-01-05", "2026-01-18"),
                ("I2", "2026-01-19", "2026-02-01"),
                ("I3", "2026-02-02", "2026-02-15"),
                ("I4", "2026-02-16", "2026-03-01"),
            ),
        ),
        # PRODUCT.md's PI 26.4 (75 days): a 5-day remainder joins the last iteration
        (
            "2026-10-05",
            "2026-12-18",
            14,
            _spans(
                ("I1", "2026-10-05", "2026-10-18"),
                ("I2", "2026-10-19", "2026-11-01"),
                ("I3", "2026-11-02", "2026-11-15"),
                ("I4", "2026-11-16", "2026-11-29"),
                ("I5", "2026-11-30", "2026-12-18"),
            ),
        ),
        # a 12-week PI, Monday to Friday (82 days): a 12-day remainder stands alone
        (
            "2026-09-14",
            "2026-12-04",
            14,
            _spans(
                ("I1", "2026-09-14", "2026-09-27"),
                ("I2", "2026-09-28", "2026-10-11"),
                ("I3", "2026-10-12", "2026-10-25"),
                ("I4", "2026-10-26", "2026-11-08"),
                ("I5", "2026-11-09", "2026-11-22"),
                ("I6", "2026-11-23", "2026-12-04"),
            ),
        ),
        # a remainder of exactly half an iteration stands alone
        (
            "2026-01-01",
            "2026-01-21",
            14,
            _spans(("I1", "2026-01-01", "2026-01-14"), ("I2", "2026-01-15", "2026-01-21")),
        ),
        # a PI shorter than one iteration is one iteration
        ("2026-01-01", "2026-01-10", 14, _spans(("I1", "2026-01-01", "2026-01-10"))),
        # another length
        (
            "2026-01-01",
            "2026-01-21",
            7,
            _spans(
                ("I1", "2026-01-01", "2026-01-07"),
                ("I2", "2026-01-08", "2026-01-14"),
                ("I3", "2026-01-15", "2026-01-21"),
            ),
        ),
    ],
)
def test_plan_iterations(start: str, end: str, length: int, expected: tuple) -> None:
    assert plan_iterations(D.fromisoformat(start), D.fromisoformat(end), length_days=length) == (
        expected
    )


@pytest.mark.parametrize("length", [1, 5, 10, 14, 21, 30])
@pytest.mark.parametrize("days", [1, 13, 14, 15, 60, 75, 82, 84, 200])
def test_planned_iterations_tile_the_pi(length: int, days: int) -> None:
    start = D(2026, 1, 5)
    end = start + dt.timedelta(days=days - 1)
    spans = plan_iterations(start, end, length_days=length)
    assert spans[0].start == start and spans[-1].end == end
    for before, after in itertools.pairwise(spans):
        assert after.start == before.end + dt.timedelta(days=1)
    assert all(s.days <= length * 1.5 for s in spans)
    assert [s.name for s in spans] == [f"I{n}" for n in range(1, len(spans) + 1)]


def test_plan_refuses_a_length_below_one_day() -> None:
    with pytest.raises(ValueError, match="length_days"):
        plan_iterations(D(2026, 1, 1), D(2026, 2, 1), length_days=0)


PI_START, PI_END = D(2026, 1, 5), D(2026, 3, 1)
OTHERS = _spans(("I1", "2026-01-05", "2026-01-18"), ("I2", "2026-01-19", "2026-02-01"))


@pytest.mark.parametrize(
    ("start", "end", "fields"),
    [
        ("2026-02-02", "2026-02-15", []),
        ("2026-02-02", "2026-02-01", ["end_date"]),
        ("2026-01-01", "2026-01-04", ["start_date"]),
        ("2026-02-20", "2026-03-02", ["end_date"]),
        ("2026-01-30", "2026-02-10", ["start_date"]),  # overlaps I2
        ("2026-01-01", "2026-01-10", ["start_date", "start_date"]),  # before the PI, overlaps
    ],
)
def test_iteration_problems(start: str, end: str, fields: list[str]) -> None:
    span = IterationSpan("I3", D.fromisoformat(start), D.fromisoformat(end))
    problems = iteration_problems(span, pi_start=PI_START, pi_end=PI_END, others=OTHERS)
    assert [p.where for p in problems] == fields


def test_current_iteration_contains_the_day() -> None:
    assert current_iteration(OTHERS, D(2026, 1, 18)) == OTHERS[0]
    assert current_iteration(OTHERS, D(2026, 1, 19)) == OTHERS[1]
    assert current_iteration(OTHERS, D(2026, 2, 2)) is None


def test_met_is_judged_once_the_last_day_is_over() -> None:
    end = D(2026, 1, 18)
    assert not can_judge(end, end - dt.timedelta(days=1))
    assert not can_judge(end, end)
    assert can_judge(end, end + dt.timedelta(days=1))


@pytest.mark.parametrize(
    ("goal", "codes"),
    [
        ("Build the one-click pay button", ["task_phrased"]),
        ("Set up the fraud rules", ["task_phrased"]),
        ("Returning customers finish checkout in one click", []),
        ("Address churn of new merchants", []),
        ("", []),
    ],
)
def test_goal_checks_apply_the_title_rule(goal: str, codes: list[str]) -> None:
    assert [c.code for c in goal_checks(goal)] == codes
