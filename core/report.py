"""The PI report: PRODUCT.md's Report JSON built from a snapshot, and the same content as
a Markdown document to paste into a wiki after Inspect & Adapt."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from core.checks import OUTCOME_MESSAGES, TEAM_MESSAGES
from core.explain import plural
from core.format import NO_VALUE, format_percent, short_day_text
from core.model import (
    HEALTH_ORDER,
    HEALTH_WORDS,
    PREDICTABILITY_BANDS,
    UNMEASURABLE,
    VERDICTS,
    HypothesisSpec,
    HypothesisVerdict,
    MetricInfo,
    OutcomeSpec,
    OutcomeStatus,
    PISnapshot,
    PIStatus,
    TargetStatus,
    TeamPredictability,
)
from core.rules import evaluate_pi

FRACTION_DIGITS = 3  # progress 0.452: a tenth of a percent
PERCENT_DIGITS = 1  # predictability 92.3
EFFECT_DIGITS = 4
P_VALUE_SIGNIFICANT = 3
METHOD_WORDS = {
    "trend": "against the pre-release trend",
    "means": "before/after means",
}


def _fraction(value: float | None) -> float | None:
    return None if value is None else round(value, FRACTION_DIGITS)


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value, PERCENT_DIGITS)


def _p_value(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.{P_VALUE_SIGNIFICANT}g}")


def _date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


# ---------------------------------------------------------------- JSON


def _target_json(target: TargetStatus, details: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "metric": target.metric,
        "kind": target.kind,
        "baseline": target.baseline,
        "target": target.target,
        "current": target.current,
        # Raw progress: the report keeps overshoot and negative progress visible.
        "progress": _fraction(target.progress_raw),
        "expected": _fraction(target.expected),
        "forecast": _fraction(target.forecast),
        "health": target.health,
    }
    if details:
        data |= {
            "reason": target.reason,
            "band_low": target.band_low,
            "band_high": target.band_high,
            "target_date": _date(target.target_date),
            "current_date": _date(target.current_date),
        }
    return data


def _round(value: float | None, digits: int = EFFECT_DIGITS) -> float | None:
    return None if value is None else round(value, digits)


def _hypothesis_json(
    verdict: HypothesisVerdict, spec: HypothesisSpec, metric: str, details: bool
) -> dict[str, Any]:
    evidence = verdict.evidence
    interval = evidence.interval
    data: dict[str, Any] = {
        "metric": metric,
        "if": spec.if_text,
        "expect": spec.expect_text,
        "because": spec.because_text,
        "verdict": verdict.verdict,
        # A method only once there is something to measure: null while untested.
        "method": None if verdict.verdict == "untested" else evidence.method,
        "effect": _round(evidence.effect),
        "interval": None if interval is None else [_round(interval[0]), _round(interval[1])],
        "p_value": _p_value(evidence.p_value),
        "mean_difference": _round(evidence.mean_difference),
        "override": verdict.override,
        "override_reason": verdict.override_reason,
        "learning": spec.learning,
        "decision": spec.decision,
    }
    if details:
        data |= {
            "reason": verdict.reason,
            "release": evidence.release_name,
            "release_date": _date(evidence.release_date),
            "window_end": _date(evidence.window_end),
            "before_mean": evidence.before_mean,
            "before_count": evidence.before_count,
            "after_mean": evidence.after_mean,
            "after_count": evidence.after_count,
            "min_effect": evidence.min_effect,
        }
    return data


def _outcome_json(
    status: OutcomeStatus,
    spec: OutcomeSpec,
    metrics: Mapping[int, MetricInfo],
    details: bool,
) -> dict[str, Any]:
    hypotheses = []
    for verdict, hypothesis in zip(status.hypotheses, spec.hypotheses, strict=True):
        metric = metrics.get(hypothesis.metric_id)
        hypotheses.append(
            _hypothesis_json(verdict, hypothesis, metric.name if metric else "", details)
        )
    data: dict[str, Any] = {
        "key": status.key,
        "title": status.title,
        "committed": status.committed,
        "health": status.health,
        "progress": _fraction(status.progress),
        "checks": [c.code for c in status.checks],
        "targets": [_target_json(t, details) for t in status.targets],
        "hypotheses": hypotheses,
    }
    if details:
        rewrite = next((c.rewrite for c in status.checks if c.rewrite), None)
        data |= {
            "reason": status.reason,
            "planned_bv": status.planned_bv,
            "actual_bv": status.actual_bv,
            "rewrite": rewrite,
            "flag": status.flag.message if status.flag else None,
            "confidence": status.last_checkin.confidence if status.last_checkin else None,
        }
    return data


def _team_predictability_json(p: TeamPredictability, details: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "planned_bv": p.planned_bv,
        "actual_bv": p.actual_bv,
        "percent": _percent(p.percent),
    }
    if details:
        data |= {"band": p.band, "not_yet_scored": p.not_yet_scored}
    return data


def report_from_status(
    status: PIStatus, snapshot: PISnapshot, *, details: bool = False
) -> dict[str, Any]:
    """The Report JSON of PRODUCT.md: progress, expected and forecast as fractions (3
    decimals), predictability as percents (1 decimal), null where unknown. Target
    `progress` is the raw value (overshoot above 1 and negative progress stay visible);
    outcome `progress` is the mean of clamped target progress.

    `details=True` adds, beside those exact fields, what the Markdown document shows:
    reasons, evidence, bands, not-yet-scored counts, flags and dates."""
    specs = {o.id: o for o in snapshot.outcomes}
    metrics = snapshot.metrics
    train_p = status.train_predictability
    train: dict[str, Any] = {
        "predictability": {
            "pooled": _percent(train_p.pooled),
            "mean_of_teams": _percent(train_p.mean_of_teams),
        },
        "outcomes": [
            _outcome_json(o, specs[o.outcome_id], metrics, details) for o in status.train_outcomes
        ],
    }
    if details:
        team_outcomes = {o.outcome_id: o for t in status.teams for o in t.outcomes}
        for data, outcome in zip(train["outcomes"], status.train_outcomes, strict=True):
            data["rolled_up"] = outcome.rolled_up
            data["contributors"] = [
                {
                    "key": team_outcomes[c].key,
                    "title": team_outcomes[c].title,
                    "health": team_outcomes[c].health,
                    "progress": _fraction(team_outcomes[c].progress),
                }
                for c in outcome.contributors
                if c in team_outcomes
            ]
    if details:
        train["predictability"] |= {
            "pooled_band": train_p.pooled_band,
            "mean_band": train_p.mean_band,
            "planned_bv": train_p.planned_bv,
            "actual_bv": train_p.actual_bv,
            "not_yet_scored": train_p.not_yet_scored,
            "pi_ended": train_p.pi_ended,
        }
        train["name"] = snapshot.pi.train_name
    report: dict[str, Any] = {
        "pi": status.pi.name,
        "as_of": status.as_of.isoformat(),
        "train": train,
        "teams": [
            {
                "team": team.team.name,
                "checks": [c.code for c in team.checks],
                "predictability": _team_predictability_json(team.predictability, details),
                "outcomes": [
                    _outcome_json(o, specs[o.outcome_id], metrics, details) for o in team.outcomes
                ],
            }
            | ({"key": team.team.key} if details else {})
            for team in status.teams
        ],
    }
    if details:
        report["start"] = status.pi.start_date.isoformat()
        report["end"] = status.pi.end_date.isoformat()
    return report


def build_report(snapshot: PISnapshot, *, details: bool = False) -> dict[str, Any]:
    """Evaluate every rule on the snapshot and shape the Report JSON."""
    return report_from_status(evaluate_pi(snapshot), snapshot, details=details)


# ---------------------------------------------------------------- Markdown

# Brackets, backticks, emphasis, HTML, tables: enough that user text can neither form a
# link, an image, markup nor break a table row (bare URLs stay visible as text).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#!|~])")


def md_text(value: object) -> str:
    """User text as literal text: markdown and HTML characters escaped, one line, so a
    title can inject neither links nor markup into the wiki page."""
    text = " ".join(str(value).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("&", "&amp;")


def _num(value: float | None) -> str:
    if value is None:
        return NO_VALUE
    return f"{value:g}"


def _health(word: str | None) -> str:
    return HEALTH_WORDS.get(word or "", word or NO_VALUE)


def _band(band: str | None) -> str:
    return PREDICTABILITY_BANDS.get(band or "", NO_VALUE)


def _day(iso: str | None, reference: dt.date | None = None) -> str:
    if not iso:
        return NO_VALUE
    return short_day_text(dt.date.fromisoformat(iso), reference)


def _percent_text(percent: float | None) -> str:
    """Predictability, reported in percent to a tenth (92.3)."""
    return format_percent(None if percent is None else percent / 100, 1)


def _health_mix(outcomes: list[dict[str, Any]]) -> str:
    counts = Counter(o["health"] for o in outcomes)
    order = [*HEALTH_ORDER, UNMEASURABLE]
    return ", ".join(f"{counts[h]} {_health(h)}" for h in order if counts[h]) or "no outcomes"


def _mean_progress(outcomes: list[dict[str, Any]]) -> float | None:
    values = [o["progress"] for o in outcomes if o["progress"] is not None]
    return sum(values) / len(values) if values else None


def _outcome_markdown(outcome: dict[str, Any], as_of: dt.date) -> list[str]:
    lines = [f"### {md_text(outcome['key'])}: {md_text(outcome['title'])}", ""]
    facts = [
        f"**{_health(outcome['health'])}**",
        f"progress {format_percent(outcome['progress'])}",
        "committed" if outcome["committed"] else "uncommitted",
    ]
    if "planned_bv" in outcome:
        facts.append(
            f"business value planned {_num(outcome['planned_bv'])}, "
            f"actual {_num(outcome['actual_bv'])}"
        )
    if outcome.get("confidence") is not None:
        facts.append(f"confidence {outcome['confidence']}/10")
    lines.append(" · ".join(facts))
    if outcome.get("reason"):
        lines += ["", f"Health reason: {md_text(outcome['reason'])}."]
    if outcome.get("contributors"):
        source = (
            "Health and progress rolled up from its contributing team outcomes"
            if outcome.get("rolled_up")
            else "Judged by its own targets; contributing team outcomes"
        )
        lines += ["", f"{source}:", ""]
        lines += [
            f"- {md_text(c['key'])}: {md_text(c['title'])} ({_health(c['health'])}, "
            f"progress {format_percent(c['progress'])})"
            for c in outcome["contributors"]
        ]
    if outcome.get("flag"):
        lines += ["", f"> **Actual-actual:** {md_text(outcome['flag'])}."]
    if outcome["targets"]:
        with_reason = any("reason" in t for t in outcome["targets"])
        header = "| Target | Kind | Baseline | Target | Current | Progress | Expected | Forecast | Health |"
        rule = "|---|---|---:|---:|---:|---:|---:|---:|---|"
        if with_reason:
            header += " Why |"
            rule += "---|"
        lines += ["", header, rule]
        for t in outcome["targets"]:
            goal = _num(t["target"])
            if t["kind"] == "maintain" and t.get("band_low") is not None:
                goal = f"{_num(t['band_low'])}–{_num(t['band_high'])}"
            row = (
                f"| {md_text(t['metric'])} | {t['kind']} | {_num(t['baseline'])} | {goal} | "
                f"{_num(t['current'])} | {format_percent(t['progress'])} | {format_percent(t['expected'])} | "
                f"{format_percent(t['forecast'])} | {_health(t['health'])} |"
            )
            if with_reason:
                row += f" {md_text(t.get('reason', ''))} |"
            lines.append(row)
    if outcome["hypotheses"]:
        lines += ["", "Hypotheses:", ""]
        for h in outcome["hypotheses"]:
            statement = f"**If** {md_text(h['if'])}, **we expect** {md_text(h['expect'])}"
            if h["because"]:
                statement += f" **because** {md_text(h['because'])}"
            lines.append(f"- {statement} ({md_text(h['metric'])}).")
            verdict = f"  Verdict: **{h['verdict']}**"
            if h["method"] is not None:
                verdict += f" ({METHOD_WORDS.get(h['method'], h['method'])})"
            if h["effect"] is not None:
                verdict += f", effect {h['effect']:+g}"
            if h["interval"] is not None:
                verdict += f" (95% interval {h['interval'][0]:g} to {h['interval'][1]:g})"
            if h["p_value"] is not None:
                verdict += f", p = {h['p_value']:g}"
            if h["mean_difference"] is not None:
                verdict += f", mean difference {h['mean_difference']:+g}"
            if h["verdict"] != "untested" and h.get("release"):
                verdict += (
                    f"; {h['before_count']} readings before and {h['after_count']} after "
                    f"{md_text(h['release'])} ({_day(h.get('release_date'), as_of)})"
                )
            lines.append(verdict + ".")
            if h.get("reason"):
                lines.append(f"  Reason: {md_text(h['reason'])}.")
            if h["override"]:
                override = f"  Team override: **{h['override']}**"
                if h["override_reason"]:
                    override += f" ({md_text(h['override_reason'])})"
                lines.append(override + ".")
            if h["decision"]:
                lines.append(f"  Decision: **{md_text(h['decision'])}**.")
            if h["learning"]:
                lines.append(f"  Learning: {md_text(h['learning'])}.")
    if outcome["checks"]:
        lines += ["", "Checks:", ""]
        for code in outcome["checks"]:
            line = f"- `{code}`: {OUTCOME_MESSAGES.get(code, code)}"
            if code == "task_phrased" and outcome.get("rewrite"):
                line += f'; try "{md_text(outcome["rewrite"])}"'
            lines.append(line)
    return [*lines, ""]


def report_markdown(report: dict[str, Any]) -> str:
    """The report as a Markdown document for a wiki page: a summary, then one section per
    team (predictability with its band, checks, each outcome with a table of targets and
    its hypotheses with verdict and evidence), then the train-level outcomes. Reasons,
    bands and flags appear when the report was built with `details=True`."""
    as_of = dt.date.fromisoformat(report["as_of"])
    teams = report["teams"]
    train = report["train"]
    all_outcomes = [o for t in teams for o in t["outcomes"]] + train["outcomes"]
    verdicts = Counter(h["verdict"] for o in all_outcomes for h in o["hypotheses"])

    lines = [f"# Outcome report: {md_text(report['pi'])}", ""]
    subtitle = [f"As of {short_day_text(as_of)} {as_of.year}"]
    if report.get("start"):
        start, end = report["start"], report["end"]
        subtitle.append(f"PI from {_day(start, as_of)} to {_day(end, as_of)}")
    if train.get("name"):
        subtitle.append(f"train {md_text(train['name'])}")
    lines += [" · ".join(subtitle), "", "## Summary", ""]

    tp = train["predictability"]
    if tp["pooled"] is None:
        summary = "- Train predictability: not known yet (no committed outcome scored)"
    else:
        pooled = f"**{_percent_text(tp['pooled'])}** pooled"
        mean = f"{_percent_text(tp['mean_of_teams'])} mean of teams"
        if tp.get("pooled_band"):
            pooled += f" ({_band(tp['pooled_band'])})"
        if tp.get("mean_band"):
            mean += f" ({_band(tp['mean_band'])})"
        summary = f"- Train predictability: {pooled}, {mean}"
    if tp.get("not_yet_scored"):
        summary += f"; {plural(tp['not_yet_scored'], 'outcome')} not yet scored"
    lines += [
        summary + ".",
        f"- Outcomes by health: {_health_mix(all_outcomes)}.",
        "- Hypotheses: "
        + (", ".join(f"{verdicts[v]} {v}" for v in VERDICTS if verdicts[v]) or "none")
        + ".",
        "",
        "| Team | Outcomes | Health mix | Mean progress | Predictability |",
        "|---|---:|---|---:|---:|",
    ]
    for team in teams:
        p = team["predictability"]
        percent = _percent_text(p["percent"])
        if p.get("band"):
            percent += f" ({_band(p['band'])})"
        lines.append(
            f"| {md_text(team['team'])} | {len(team['outcomes'])} | "
            f"{_health_mix(team['outcomes'])} | {format_percent(_mean_progress(team['outcomes']))} | "
            f"{percent} |"
        )
    lines.append("")

    for team in teams:
        lines += [f"## {md_text(team['team'])}", ""]
        p = team["predictability"]
        if p["percent"] is None:
            text = "Predictability: not known yet (no committed outcome scored)"
        else:
            text = (
                f"Predictability: **{_percent_text(p['percent'])}** (actual {p['actual_bv']} "
                f"of {p['planned_bv']} committed planned business value"
            )
            if p.get("band"):
                text += f"; {_band(p['band'])}"
            text += ")"
        if p.get("not_yet_scored"):
            text += f"; {plural(p['not_yet_scored'], 'outcome')} not yet scored"
        lines += [text + ".", ""]
        if team["checks"]:
            lines += ["Team checks:", ""]
            lines += [f"- `{c}`: {TEAM_MESSAGES.get(c, c)}" for c in team["checks"]]
            lines.append("")
        if not team["outcomes"]:
            lines += ["No outcomes in this PI.", ""]
        for outcome in team["outcomes"]:
            lines += _outcome_markdown(outcome, as_of)

    if train["outcomes"]:
        lines += [
            "## Train-level outcomes",
            "",
            "Shown with the train; they enter neither predictability figure.",
            "",
        ]
        for outcome in train["outcomes"]:
            lines += _outcome_markdown(outcome, as_of)
    return "\n".join(lines).rstrip() + "\n"
