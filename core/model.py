"""Plain values the rules read and return: a PI's data as of a date, and the computed
statuses (health, progress, verdicts, predictability, checks), free of SQLAlchemy."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

# Health words, from worst to best: an outcome takes its worst target's health.
HEALTH_ORDER: tuple[str, ...] = (
    "missed",
    "off_track",
    "at_risk",
    "stale",
    "no_data",
    "on_track",
    "achieved",
)
UNMEASURABLE = "unmeasurable"  # an outcome with no targets
HEALTH_WORDS: dict[str, str] = {
    "missed": "missed",
    "off_track": "off track",
    "at_risk": "at risk",
    "stale": "stale",
    "no_data": "no data",
    "on_track": "on track",
    "achieved": "achieved",
    UNMEASURABLE: "unmeasurable",
}
VERDICTS: tuple[str, ...] = ("untested", "measuring", "supported", "refuted", "inconclusive")
PREDICTABILITY_BANDS: dict[str, str] = {
    "over_committed": "over-committed",
    "healthy": "healthy",
    "under_committed": "under-committed",
}


# ---------------------------------------------------------------- inputs


class ReadingPoint(NamedTuple):
    """One value of a metric on a date. A named tuple rather than a frozen dataclass: a PI
    snapshot holds one per reading in its windows (about 8,600 at 50 teams), and a
    dataclass took four times as long to build (bench/RESULTS.md, report queries)."""

    date: dt.date
    value: float


@dataclass(frozen=True, kw_only=True)
class TrainInfo:
    id: int
    name: str


@dataclass(frozen=True, kw_only=True)
class TeamInfo:
    id: int
    name: str
    key: str
    train_id: int | None = None
    active: bool = True


@dataclass(frozen=True, kw_only=True)
class PIInfo:
    id: int
    name: str
    start_date: dt.date
    end_date: dt.date
    train_id: int | None = None
    train_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class MetricInfo:
    id: int
    team_id: int
    name: str
    unit: str = ""
    decimals: int = 1
    update_interval_days: int = 14
    leading: bool = False
    description: str = ""
    source: str = ""
    archived: bool = False


@dataclass(frozen=True, kw_only=True)
class TargetSpec:
    """What "better" means for one metric inside one outcome. `target_date` None means
    the PI's end (the rules take the PI end date for it)."""

    id: int
    outcome_id: int
    metric_id: int
    kind: str  # increase, decrease, maintain
    baseline: float | None = None
    baseline_date: dt.date | None = None
    target: float | None = None
    target_date: dt.date | None = None
    band_low: float | None = None
    band_high: float | None = None
    position: int = 0


@dataclass(frozen=True, kw_only=True)
class HypothesisSpec:
    """ "If we build X, we expect Y because Z", with the release that shipped X (its name
    and date are carried here so a verdict needs no lookup)."""

    id: int
    outcome_id: int
    metric_id: int
    if_text: str
    expect_text: str
    because_text: str = ""
    direction: str = "increase"  # increase, decrease
    min_effect: float = 0.0
    min_effect_unit: str = "absolute"  # absolute, percent
    release_id: int | None = None
    release_name: str | None = None
    release_date: dt.date | None = None
    window_days: int = 28
    override: str | None = None
    override_reason: str | None = None
    learning: str = ""
    decision: str | None = None
    position: int = 0


@dataclass(frozen=True, kw_only=True)
class OutcomeSpec:
    """A PI objective with its targets and hypotheses. `team_id` None: train-level."""

    id: int
    pi_id: int
    key: str
    title: str
    team_id: int | None = None
    why: str = ""
    owner: str = ""
    committed: bool = True
    planned_bv: int | None = None
    actual_bv: int | None = None
    parent_id: int | None = None
    status: str = "active"
    position: int = 0
    version: int = 1
    targets: tuple[TargetSpec, ...] = ()
    hypotheses: tuple[HypothesisSpec, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ReleaseInfo:
    id: int
    team_id: int
    name: str
    date: dt.date
    notes: str = ""
    link: str = ""


@dataclass(frozen=True, kw_only=True)
class CheckInInfo:
    id: int
    outcome_id: int
    date: dt.date
    confidence: int
    comment: str = ""
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class PISnapshot:
    """Everything one PI's rules need, as the data stood on `as_of`.

    - `teams`: the PI's teams (those of its train, plus any team with an outcome in it),
      ordered by name; only the asked-for team when the snapshot was filtered by team.
    - `outcomes`: the PI's outcomes that are not archived, team and train-level, ordered
      by team, position, key; each carries its targets and hypotheses.
    - `metrics`: by id, every metric of those teams plus any metric a target or
      hypothesis names.
    - `readings`: by metric id, sorted by date, all on or before `as_of`: every reading a
      rule looks at (from the earliest baseline date or hypothesis window start of that
      metric), and always ending with the metric's latest reading on or before `as_of`
      (so `readings[m][-1]` is the latest). Metrics with no reading are absent.
    - `releases`: the teams' releases from the earliest day a rule looks at (the PI start,
      a baseline date or a hypothesis window start) up to `as_of`, ordered by date;
      `checkins`: the outcomes' check-ins on or before `as_of`, ordered by date.
    Business value scores are as currently recorded (never "as of")."""

    pi: PIInfo
    as_of: dt.date
    teams: tuple[TeamInfo, ...] = ()
    outcomes: tuple[OutcomeSpec, ...] = ()
    metrics: Mapping[int, MetricInfo] = field(default_factory=dict)
    readings: Mapping[int, tuple[ReadingPoint, ...]] = field(default_factory=dict)
    releases: tuple[ReleaseInfo, ...] = ()
    checkins: tuple[CheckInInfo, ...] = ()

    def team_outcomes(self, team_id: int | None) -> tuple[OutcomeSpec, ...]:
        """A team's outcomes; `None` gives the train-level outcomes."""
        return tuple(o for o in self.outcomes if o.team_id == team_id)

    def latest_reading(self, metric_id: int) -> ReadingPoint | None:
        series = self.readings.get(metric_id)
        return series[-1] if series else None


# ---------------------------------------------------------------- results


@dataclass(frozen=True, kw_only=True)
class TargetStatus:
    """A target's numbers and health as of a date, with a one-sentence reason.

    `progress_raw` can be negative or above 1; `progress` is clamped to 0..1 (bars and
    averages use it). `target_date` is the effective date (the PI end when unset)."""

    target_id: int
    outcome_id: int
    metric_id: int
    metric: str
    kind: str
    baseline: float | None
    target: float | None
    band_low: float | None
    band_high: float | None
    target_date: dt.date
    current: float | None
    current_date: dt.date | None
    progress_raw: float | None
    progress: float | None
    expected: float | None
    forecast: float | None
    health: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class HypothesisEvidence:
    """What a verdict rests on. `effect` is signed so that positive means the expected
    direction; `min_effect` is the threshold in metric units (percent already applied)."""

    release_name: str | None
    release_date: dt.date | None
    window_end: dt.date | None
    before_mean: float | None
    before_count: int
    after_mean: float | None
    after_count: int
    effect: float | None
    min_effect: float | None
    p_value: float | None
    # "trend" (3+ before, 2+ after: the effect is measured against the projected
    # pre-release line) or "means"; None while untested.
    method: str | None = None
    # Sign-adjusted mean(after) - mean(before), shown beside a trend effect so a team sees
    # how much of a raw rise the pre-release trend already explains.
    mean_difference: float | None = None
    # 95% interval of `effect` (trend method only), in the effect's signed units.
    interval: tuple[float, float] | None = None
    # The least-squares pre-release line value = trend_intercept + trend_slope x (days
    # from the release), for the chart's projection across the after window.
    trend_intercept: float | None = None
    trend_slope: float | None = None


@dataclass(frozen=True, kw_only=True)
class HypothesisVerdict:
    """The computed verdict with its evidence and reason; a team's override stands beside
    it, never replacing it."""

    hypothesis_id: int
    outcome_id: int
    metric_id: int
    verdict: str
    reason: str
    evidence: HypothesisEvidence
    override: str | None = None
    override_reason: str | None = None

    @property
    def shown_verdict(self) -> str:
        """What a page headlines: the override if any, else the computed verdict."""
        return self.override or self.verdict


@dataclass(frozen=True, kw_only=True)
class Check:
    """One piece of quality advice (never blocks saving). `rewrite` is set for
    `task_phrased`: a suggested outcome-style title."""

    code: str
    message: str
    rewrite: str | None = None


@dataclass(frozen=True, kw_only=True)
class ActualActualFlag:
    """Business value score and metric verdict disagree."""

    code: str  # high_score_targets_missed, low_score_targets_achieved
    message: str


@dataclass(frozen=True, kw_only=True)
class OutcomeStatus:
    outcome_id: int
    key: str
    title: str
    team_id: int | None
    committed: bool
    planned_bv: int | None
    actual_bv: int | None
    health: str
    reason: str
    progress: float | None
    targets: tuple[TargetStatus, ...] = ()
    hypotheses: tuple[HypothesisVerdict, ...] = ()
    checks: tuple[Check, ...] = ()
    flag: ActualActualFlag | None = None
    last_checkin: CheckInInfo | None = None
    # Train outcomes: the team outcomes that name this one as parent (ids, in page
    # order), and whether health and progress come from them (no targets of its own).
    contributors: tuple[int, ...] = ()
    rolled_up: bool = False


@dataclass(frozen=True, kw_only=True)
class TeamPredictability:
    """SAFe predictability of one team. `percent` None when nothing committed is planned;
    `not_yet_scored` counts outcomes left out because the PI has not ended."""

    team_id: int
    planned_bv: int
    actual_bv: int
    percent: float | None
    band: str | None
    not_yet_scored: int
    pi_ended: bool


@dataclass(frozen=True, kw_only=True)
class TrainPredictability:
    """`pooled` (all teams' actual / all teams' committed planned) is the headline;
    `mean_of_teams` is the mean of the team percents that exist. Train-level outcomes
    enter neither."""

    planned_bv: int
    actual_bv: int
    pooled: float | None
    pooled_band: str | None
    mean_of_teams: float | None
    mean_band: str | None
    teams_counted: int
    not_yet_scored: int
    pi_ended: bool


@dataclass(frozen=True, kw_only=True)
class TeamStatus:
    team: TeamInfo
    outcomes: tuple[OutcomeStatus, ...]
    checks: tuple[Check, ...]
    predictability: TeamPredictability


@dataclass(frozen=True, kw_only=True)
class PIStatus:
    """Every computed number of a PI as of a date: what pages, the CLI and the report
    show."""

    pi: PIInfo
    as_of: dt.date
    teams: tuple[TeamStatus, ...]
    train_outcomes: tuple[OutcomeStatus, ...]
    train_predictability: TrainPredictability
