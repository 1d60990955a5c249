"""The digest's Markdown: sections only when they have lines, an empty week in one line,
user text escaped so it forms no link or markup in a chat."""

from __future__ import annotations

import datetime as dt

import pytest

from core.digest import (
    Digest,
    GoalLine,
    MetricChange,
    StaleMetric,
    StatusChange,
    WaitingHypothesis,
    digest_markdown,
)

SINCE, TODAY = dt.date(2026, 11, 26), dt.date(2026, 12, 3)


def digest(**parts: object) -> Digest:
    return Digest(scope="Checkout", since=SINCE, today=TODAY, pi="PI 26.4", **parts)  # type: ignore[arg-type]


def test_an_empty_week_says_so_in_one_line() -> None:
    text = digest_markdown(digest())
    body = [line for line in text.splitlines()[1:] if line and not line.startswith("PI:")]
    assert body == [
        "Nothing changed since 2026-11-26: no new readings, no health or verdict changes, "
        "nothing stale, no hypothesis waiting for a decision."
    ]


@pytest.mark.parametrize(
    ("parts", "line"),
    [
        (
            {"readings": [MetricChange("Checkout", "Conversion", "%", 2, 2.1, 2.25, TODAY, 2)]},
            "- Conversion: 2.10 -> 2.25 % on 2026-12-03 (2 new)",
        ),
        (
            {"readings": [MetricChange("Checkout", "Sign-ups", "", 0, None, 12, TODAY, 1)]},
            "- Sign-ups: none -> 12 on 2026-12-03",
        ),
        (
            {"health": [StatusChange("Checkout", "CHK-1", "on_track", "at_risk")]},
            "- Checkout · CHK-1: on\\_track -> at\\_risk",
        ),
        (
            {"stale": [StaleMetric("Checkout", "Errors", dt.date(2026, 11, 1), 14)]},
            "- Errors: last reading 2026-11-01 (expected every 14 days)",
        ),
        (
            {"stale": [StaleMetric("Checkout", "Errors", None, 14)]},
            "- Errors: last reading never (expected every 14 days)",
        ),
        (
            {
                "waiting": [
                    WaitingHypothesis(
                        "Checkout", "CHK-1", "Conversion", "we add pay", "refuted", TODAY
                    )
                ]
            },
            "- Checkout · CHK-1 · Conversion: if we add pay (refuted; window closed 2026-12-03)",
        ),
        ({"goals": [GoalLine("Checkout", "I4", "Buyers pay")]}, "- Checkout · I4: Buyers pay"),
    ],
)
def test_each_section_line(parts: dict, line: str) -> None:
    text = digest_markdown(digest(**parts))
    assert line in text.splitlines()
    assert ("Nothing changed" in text) == (set(parts) == {"goals"})


def test_user_text_cannot_form_a_link_or_markup() -> None:
    goal = GoalLine("Checkout", "I4", "[click](https://evil.example) <b>now</b>")
    text = digest_markdown(digest(goals=[goal]))
    assert "[click](" not in text and "<b>" not in text
