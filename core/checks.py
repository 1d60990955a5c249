"""Outcome and team quality checks: advice shown while writing, never a reason to refuse."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

from core.format import format_value, short_day_text
from core.model import Check, MetricInfo, OutcomeSpec, TargetSpec

OUTPUT_VERBS: tuple[str, ...] = (
    "build",
    "implement",
    "create",
    "develop",
    "ship",
    "launch",
    "deliver",
    "release",
    "deploy",
    "migrate",
    "integrate",
    "add",
    "complete",
    "finish",
    "write",
    "design",
    "set up",
    "refactor",
    "upgrade",
    "install",
    "introduce",
    "roll out",
    "make",
)
MAX_TARGETS_PER_OUTCOME = 3
MAX_OUTCOMES_PER_TEAM = 10
REWRITE_TEMPLATE = "Increase/Reduce <metric> from <baseline> to <target> by <date>"

# Whole words only ("Address churn" is not "add"); "set up" / "roll out" with any spacing.
_TASK_VERB = re.compile(
    r"^\W*(?:" + "|".join(v.replace(" ", r"[\s-]+") for v in OUTPUT_VERBS) + r")\b",
    re.IGNORECASE,
)

OUTCOME_MESSAGES: dict[str, str] = {
    "task_phrased": "reads like a task: state the change you expect for users",
    "no_target": "no target: add a metric with a baseline and a target",
    "target_incomplete": "a target has no baseline or baseline date: it has no progress",
    "no_hypothesis": "no hypothesis: say what you will build and why you expect it to work",
    "no_planned_bv": "committed without planned business value",
    "too_many_targets": "more than 3 targets: focus on a few meaningful metrics",
}
TEAM_MESSAGES: dict[str, str] = {
    "too_many_outcomes": "more than 10 outcomes in this PI: focus on a few meaningful metrics",
    "no_leading_metric": "no leading metric among the team's targets: "
    "focus on a few meaningful metrics",
}


def is_task_phrased(title: str) -> bool:
    """The title starts with an output verb (build, implement, ..., roll out, make)."""
    return bool(_TASK_VERB.match(title.strip()))


def target_is_incomplete(target: TargetSpec) -> bool:
    """An increase/decrease target without a baseline value, a baseline date or a target
    value has no progress. A `maintain` target needs only its band (the database
    requires one), so it is never incomplete."""
    if target.kind == "maintain":
        return target.band_low is None or target.band_high is None
    return target.baseline is None or target.baseline_date is None or target.target is None


def rewrite_suggestion(
    outcome: OutcomeSpec,
    metrics: Mapping[int, MetricInfo] | None = None,
    *,
    pi_end: dt.date | None = None,
) -> str:
    """The rewrite template, filled from the outcome's first complete increase/decrease
    target when there is one ("Increase Checkout conversion from 2.1% to 2.6% by 18 Dec")."""
    for target in outcome.targets:
        if target.kind == "maintain" or target_is_incomplete(target):
            continue
        metric = (metrics or {}).get(target.metric_id)
        if metric is None or target.baseline is None or target.target is None:
            continue
        when = target.target_date or pi_end
        verb = "Increase" if target.target > target.baseline else "Reduce"
        text = (
            f"{verb} {metric.name} from {format_value(target.baseline, metric.unit, metric.decimals)}"
            f" to {format_value(target.target, metric.unit, metric.decimals)}"
        )
        return f"{text} by {short_day_text(when)}" if when else text
    return REWRITE_TEMPLATE


def outcome_checks(
    outcome: OutcomeSpec,
    metrics: Mapping[int, MetricInfo] | None = None,
    *,
    pi_end: dt.date | None = None,
) -> tuple[Check, ...]:
    """Outcome checks in a fixed order: task_phrased, no_target, target_incomplete,
    no_hypothesis, no_planned_bv, too_many_targets."""
    checks: list[Check] = []
    if is_task_phrased(outcome.title):
        checks.append(
            Check(
                code="task_phrased",
                message=OUTCOME_MESSAGES["task_phrased"],
                rewrite=rewrite_suggestion(outcome, metrics, pi_end=pi_end),
            )
        )
    if not outcome.targets:
        checks.append(Check(code="no_target", message=OUTCOME_MESSAGES["no_target"]))
    if any(target_is_incomplete(t) for t in outcome.targets):
        checks.append(
            Check(code="target_incomplete", message=OUTCOME_MESSAGES["target_incomplete"])
        )
    if not outcome.hypotheses:
        checks.append(Check(code="no_hypothesis", message=OUTCOME_MESSAGES["no_hypothesis"]))
    if outcome.committed and outcome.planned_bv is None:
        checks.append(Check(code="no_planned_bv", message=OUTCOME_MESSAGES["no_planned_bv"]))
    if len(outcome.targets) > MAX_TARGETS_PER_OUTCOME:
        checks.append(Check(code="too_many_targets", message=OUTCOME_MESSAGES["too_many_targets"]))
    return tuple(checks)


def team_checks(
    outcomes: Sequence[OutcomeSpec], metrics: Mapping[int, MetricInfo]
) -> tuple[Check, ...]:
    """Team checks over its outcomes in one PI: too_many_outcomes (more than 10), and
    no_leading_metric (the team has targets, none on a leading metric; a team without
    any target is told per outcome by `no_target` instead)."""
    checks: list[Check] = []
    if len(outcomes) > MAX_OUTCOMES_PER_TEAM:
        checks.append(Check(code="too_many_outcomes", message=TEAM_MESSAGES["too_many_outcomes"]))
    target_metrics = [metrics.get(t.metric_id) for o in outcomes for t in o.targets]
    if target_metrics and not any(m is not None and m.leading for m in target_metrics):
        checks.append(Check(code="no_leading_metric", message=TEAM_MESSAGES["no_leading_metric"]))
    return tuple(checks)
