"""The Report JSON shape of PRODUCT.md and its Markdown rendering, from a hand-made
snapshot (no database)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from core.model import (
    HypothesisSpec,
    MetricInfo,
    OutcomeSpec,
    PIInfo,
    PISnapshot,
    ReadingPoint,
    TargetSpec,
    TeamInfo,
)
from core.report import build_report, md_text, report_markdown

D = dt.date
START, END, AS_OF = D(2026, 10, 5), D(2026, 12, 18), D(2026, 11, 2)


def weekly(start: D, values: list[float]) -> tuple[ReadingPoint, ...]:
    return tuple(ReadingPoint(start + dt.timedelta(days=7 * i), v) for i, v in enumerate(values))


def snapshot(as_of: D = AS_OF) -> PISnapshot:
    """Checkout: CHK-1 (conversion 10 -> 20, at 16; a supported hypothesis with a team
    override), CHK-2 (uncommitted, overshooting, scored 5). Search: one unscored
    outcome with a [link] in its title. One train-level outcome."""
    conversion = MetricInfo(id=1, team_id=1, name="Conversion", unit="%", leading=True)
    overshoot = MetricInfo(id=2, team_id=1, name="Signups", leading=False)
    ctr = MetricInfo(id=3, team_id=2, name="Search CTR", leading=False)
    outcomes = (
        OutcomeSpec(
            id=1, pi_id=1, key="CHK-1", title="Raise conversion", team_id=1, committed=True,
            planned_bv=8, actual_bv=7,
            targets=(TargetSpec(id=1, outcome_id=1, metric_id=1, kind="increase", baseline=10,
                                baseline_date=START, target=20),),
            hypotheses=(HypothesisSpec(
                id=1, outcome_id=1, metric_id=1, if_text="we add one-click pay",
                expect_text="more buyers finish", because_text="forms are long",
                min_effect=1.0, release_id=1, release_name="v2", release_date=D(2026, 10, 12),
                window_days=14, override="inconclusive", override_reason="seasonal",
                learning="returning [buyers](http://x.example) love it", decision="persevere",
            ),),
        ),
        OutcomeSpec(
            id=2, pi_id=1, key="CHK-2", title="More signups", team_id=1, committed=False,
            planned_bv=3, actual_bv=5,
            targets=(TargetSpec(id=2, outcome_id=2, metric_id=2, kind="increase", baseline=100,
                                baseline_date=START, target=200),),
        ),
        OutcomeSpec(
            id=3, pi_id=1, key="SRC-1", title="Find [it](http://evil.example) *fast*",
            team_id=2, committed=True, planned_bv=5,
            targets=(TargetSpec(id=3, outcome_id=3, metric_id=3, kind="increase", baseline=1,
                                baseline_date=START, target=2),),
        ),
        OutcomeSpec(id=4, pi_id=1, key="PAY-1", title="Fewer failed payments", team_id=None,
                    committed=True, planned_bv=10, actual_bv=2),
    )  # fmt: skip
    readings = {
        1: weekly(D(2026, 9, 28), [10, 10, 11, 13, 14, 16]),
        2: weekly(START, [100, 150, 250]),
    }
    return PISnapshot(
        pi=PIInfo(id=1, name="PI 26.4", start_date=START, end_date=END, train_name="Payments"),
        as_of=as_of,
        teams=(
            TeamInfo(id=1, name="Checkout", key="CHK"),
            TeamInfo(id=2, name="Search", key="SRC"),
        ),
        outcomes=outcomes,
        metrics={1: conversion, 2: overshoot, 3: ctr},
        readings=readings,
    )


OUTCOME_KEYS = {"key", "title", "committed", "health", "progress", "checks", "targets",
                "hypotheses"}  # fmt: skip
TARGET_KEYS = {"metric", "kind", "baseline", "target", "current", "progress", "expected",
               "forecast", "health"}  # fmt: skip
HYPOTHESIS_KEYS = {"metric", "if", "expect", "because", "verdict", "method", "effect",
                   "interval", "p_value", "mean_difference", "override", "override_reason",
                   "learning", "decision"}  # fmt: skip


def test_report_has_exactly_the_fields_of_the_spec() -> None:
    report = build_report(snapshot())
    assert set(report) == {"pi", "as_of", "train", "teams"}
    assert set(report["train"]) == {"predictability", "outcomes"}
    assert set(report["train"]["predictability"]) == {"pooled", "mean_of_teams"}
    for team in report["teams"]:
        assert set(team) == {"team", "checks", "predictability", "outcomes"}
        assert set(team["predictability"]) == {"planned_bv", "actual_bv", "percent"}
    outcomes = [o for t in report["teams"] for o in t["outcomes"]] + report["train"]["outcomes"]
    assert all(set(o) == OUTCOME_KEYS for o in outcomes)
    assert all(set(t) == TARGET_KEYS for o in outcomes for t in o["targets"])
    assert all(set(h) == HYPOTHESIS_KEYS for o in outcomes for h in o["hypotheses"])
    json.dumps(report, allow_nan=False)  # plain JSON: no NaN, no dates


def test_report_numbers_fractions_percents_and_nulls() -> None:
    report = build_report(snapshot())
    assert (report["pi"], report["as_of"]) == ("PI 26.4", "2026-11-02")
    checkout, search = report["teams"]
    # committed planned 8; actual 7 + 5 (uncommitted counts on the actual side)
    assert checkout["predictability"] == {"planned_bv": 8, "actual_bv": 12, "percent": 150.0}
    # Search is not scored yet and the PI runs: nothing to divide
    assert search["predictability"] == {"planned_bv": 0, "actual_bv": 0, "percent": None}
    assert report["train"]["predictability"] == {"pooled": 150.0, "mean_of_teams": 150.0}

    chk1, chk2 = checkout["outcomes"]
    (target,) = chk1["targets"]
    assert target["current"] == 16
    assert target["progress"] == 0.6
    assert target["expected"] == pytest.approx(0.378, abs=1e-3)
    assert target["health"] == "on_track"
    # overshoot stays raw on the target, clamped in the outcome's mean
    assert chk2["targets"][0]["progress"] == 1.5
    assert chk2["progress"] == 1.0
    assert chk2["health"] == "achieved"
    (src1,) = search["outcomes"]
    assert src1["targets"][0]["current"] is None
    assert src1["targets"][0]["progress"] is None
    assert src1["targets"][0]["forecast"] is None
    assert src1["progress"] is None
    assert src1["health"] == "no_data"


def test_verdict_is_the_computed_one_with_the_override_beside_it() -> None:
    (hypothesis,) = build_report(snapshot())["teams"][0]["outcomes"][0]["hypotheses"]
    assert hypothesis["verdict"] == "supported"
    assert (hypothesis["override"], hypothesis["override_reason"]) == ("inconclusive", "seasonal")
    # after (12 Oct, 26 Oct]: 13, 14; before [28 Sep, 12 Oct): 10, 10
    assert hypothesis["effect"] == pytest.approx(3.5)
    assert hypothesis["p_value"] is None  # only two readings before
    # two readings before: no line to project, so the means method and no interval
    assert (hypothesis["method"], hypothesis["interval"]) == ("means", None)
    assert hypothesis["mean_difference"] == pytest.approx(3.5)
    assert (hypothesis["learning"], hypothesis["decision"]) == (
        "returning [buyers](http://x.example) love it",
        "persevere",
    )
    assert (hypothesis["if"], hypothesis["expect"], hypothesis["because"]) == (
        "we add one-click pay",
        "more buyers finish",
        "forms are long",
    )


def test_trend_method_carries_its_interval_and_p() -> None:
    """Three readings before the release: the trend method. With a 21-day window around
    19 Oct: before 10, 10, 11 (28 Sep to 12 Oct, a line rising 1/14 a day), after 14, 16."""
    base = snapshot()
    (outcome, *others) = base.outcomes
    (hypothesis,) = outcome.hypotheses
    moved = dataclasses.replace(hypothesis, release_date=D(2026, 10, 19), window_days=21)
    shifted = dataclasses.replace(
        base, outcomes=(dataclasses.replace(outcome, hypotheses=(moved,)), *others)
    )

    (data,) = build_report(shifted)["teams"][0]["outcomes"][0]["hypotheses"]

    assert data["method"] == "trend"
    low, high = data["interval"]
    assert low < data["effect"] < high
    assert data["p_value"] is not None
    # means 10.33 and 15; the line was already heading up, so the effect is smaller
    assert data["mean_difference"] == pytest.approx(15 - 31 / 3, abs=1e-4)
    assert data["effect"] < data["mean_difference"]


def test_untested_hypothesis_has_no_method() -> None:
    base = snapshot(as_of=D(2026, 10, 10))  # before v2 shipped

    (data,) = build_report(base)["teams"][0]["outcomes"][0]["hypotheses"]

    assert data["verdict"] == "untested"
    assert (data["method"], data["effect"], data["interval"], data["mean_difference"]) == (
        None,
        None,
        None,
        None,
    )


def test_learning_and_decision_are_in_the_json_and_the_markdown() -> None:
    data = snapshot()
    chk1 = data.outcomes[0]
    logged = dataclasses.replace(
        chk1.hypotheses[0], learning="Mobile buyers [loved] it", decision="pivot"
    )
    data = dataclasses.replace(
        data, outcomes=(dataclasses.replace(chk1, hypotheses=(logged,)), *data.outcomes[1:])
    )

    report = build_report(data)
    markdown = report_markdown(report)

    hypothesis = report["teams"][0]["outcomes"][0]["hypotheses"][0]
    assert (hypothesis["learning"], hypothesis["decision"]) == ("Mobile buyers [loved] it", "pivot")
    assert "  Decision: **pivot**." in markdown
    assert "  Learning: Mobile buyers \\[loved\\] it" in markdown


def test_train_level_outcomes_are_with_the_train_and_in_no_team() -> None:
    report = build_report(snapshot())
    assert [o["key"] for o in report["train"]["outcomes"]] == ["PAY-1"]
    assert report["train"]["outcomes"][0]["health"] == "unmeasurable"
    team_keys = [o["key"] for t in report["teams"] for o in t["outcomes"]]
    assert "PAY-1" not in team_keys


def test_checks_are_listed_by_code() -> None:
    report = build_report(snapshot())
    checkout, search = report["teams"]
    assert checkout["checks"] == []
    assert search["checks"] == ["no_leading_metric"]
    assert checkout["outcomes"][1]["checks"] == ["no_hypothesis"]
    assert report["train"]["outcomes"][0]["checks"] == ["no_target", "no_hypothesis"]


def test_after_the_pi_end_unscored_outcomes_count_zero() -> None:
    report = build_report(snapshot(as_of=D(2026, 12, 19)))
    assert report["teams"][1]["predictability"] == {
        "planned_bv": 5,
        "actual_bv": 0,
        "percent": 0.0,
    }
    assert report["train"]["predictability"] == {"pooled": 92.3, "mean_of_teams": 75.0}


def test_details_add_reasons_without_changing_the_spec_fields() -> None:
    plain = build_report(snapshot())
    detailed = build_report(snapshot(), details=True)
    outcome = detailed["teams"][0]["outcomes"][0]
    assert outcome["reason"].startswith("Conversion is on track")
    assert (
        outcome["targets"][0]["reason"]
        == "on pace: 60% of the way at 38% of the time; forecast reaches 157% by 18 Dec"
    )
    assert "v2" in outcome["hypotheses"][0]["reason"]
    assert detailed["teams"][0]["predictability"]["band"] == "under_committed"
    assert {k: outcome[k] for k in OUTCOME_KEYS if k not in ("targets", "hypotheses")} == {
        k: plain["teams"][0]["outcomes"][0][k]
        for k in OUTCOME_KEYS
        if k not in ("targets", "hypotheses")
    }


def test_markdown_has_a_section_per_team_with_tables_verdicts_and_bands() -> None:
    text = report_markdown(build_report(snapshot(), details=True))
    assert text.startswith("# Outcome report: PI 26.4\n")
    assert "## Checkout\n" in text and "## Search\n" in text
    assert "## Train-level outcomes" in text
    assert "| Conversion | increase | 10 | 20 | 16 | 60% | 38% | 157% | on track |" in text
    assert "Verdict: **supported** (before/after means), effect +3.5" in text
    assert "mean difference +3.5" in text
    assert "Decision: **persevere**." in text
    # learning is user text: no link survives
    assert "Learning: returning \\[buyers\\](http://x.example) love it." in text
    assert "Team override: **inconclusive** (seasonal)" in text
    assert (
        "Predictability: **150.0%** (actual 12 of 8 committed planned business value; under-committed)"
        in text
    )
    assert "Predictability: not known yet" in text
    assert "on track" in text and "on_track" not in text.replace("`", "")


def test_markdown_shows_user_text_as_text() -> None:
    text = report_markdown(build_report(snapshot(), details=True))
    assert "[it](http" not in text
    assert r"Find \[it\](http://evil.example) \*fast\*" in text


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain words", "plain words"),
        ("![img](x)", r"\!\[img\](x)"),
        ("<script>", r"\<script\>"),
        ("a | b", r"a \| b"),
        ("two\nlines", "two lines"),
        ("_em_ `code`", r"\_em\_ \`code\`"),
    ],
)
def test_md_text_escapes_markdown_and_html(raw: str, escaped: str) -> None:
    assert md_text(raw) == escaped


def test_markdown_renders_the_exact_report_too() -> None:
    text = report_markdown(build_report(snapshot()))
    assert "## Checkout" in text and "reason:" not in text


def test_train_outcome_without_targets_reports_its_contributors_rollup() -> None:
    """PAY-1 has no targets; CHK-1 (on track, 60%) names it as parent."""
    base = snapshot()
    chk1, chk2, src1, pay1 = base.outcomes
    linked = dataclasses.replace(
        base, outcomes=(dataclasses.replace(chk1, parent_id=pay1.id), chk2, src1, pay1)
    )

    report = build_report(linked)
    detailed = build_report(linked, details=True)

    (train_outcome,) = report["train"]["outcomes"]
    assert (train_outcome["health"], train_outcome["progress"]) == ("on_track", 0.6)
    assert set(train_outcome) == OUTCOME_KEYS  # the spec's fields, no more
    (detail,) = detailed["train"]["outcomes"]
    assert detail["contributors"] == [
        {"key": "CHK-1", "title": "Raise conversion", "health": "on_track", "progress": 0.6}
    ]
    text = report_markdown(detailed)
    assert "rolled up from its contributing team outcomes:" in text
    assert "- CHK-1: Raise conversion (on track, progress 60%)" in text
