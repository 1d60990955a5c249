"""The digest's facts from the database (shaped by `core/digest.py`), and where each team's
or train's digest is sent: digest destinations, configured by admins.

"What changed" is computed, not stored: the PI report as of the since-date and as of
today, compared outcome by outcome, target by target and hypothesis by hypothesis, so a
digest for any past week can be made again with the same rules as every page."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, aliased

from core.access import Actor, can_administer
from core.digest import (
    Digest,
    GoalLine,
    MetricChange,
    StaleMetric,
    StatusChange,
    WaitingHypothesis,
)
from core.errors import PermissionDenied, Problem, ValidationError
from core.report import build_report
from core.sources import FAILED
from core.validate import unstorable
from db.audit import record_audit, utcnow
from db.iterations import current_goals
from db.models import (
    DIGEST_KINDS,
    DigestDestination,
    Hypothesis,
    Metric,
    Outcome,
    Reading,
    Release,
    Team,
    Train,
)
from db.queries import current_pi, load_pi_snapshot
from db.sources import list_sources
from db.submissions import claim_submission

DEFAULT_DAYS = 7
# A webhook destination names a secret, never a URL: letters, digits, - and _.
SECRET_NAME = re.compile(r"[A-Za-z0-9_-]{1,80}")
EMAIL = re.compile(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+")


@dataclass(frozen=True)
class Scope:
    """The teams a digest covers: one team, or the active teams of a train."""

    label: str
    teams: dict[int, str]  # id -> name
    train_name: str | None
    team_key: str | None  # set for a one-team digest
    team_id: int | None
    train_id: int | None


def digest_scope(session: Session, *, team_key: str | None, train_name: str | None) -> Scope:
    """The team (by key, any case) or train (by name) a digest is for; exactly one."""
    if (team_key is None) == (train_name is None):
        raise ValidationError(Problem("--team/--train", "give exactly one of them"))
    if team_key is not None:
        team = session.scalar(select(Team).where(func.lower(Team.key) == team_key.strip().lower()))
        if team is None:
            raise ValidationError(Problem("team", f"no team has the key '{team_key}'"))
        train = session.get(Train, team.train_id) if team.train_id else None
        return Scope(
            team.name,
            {team.id: team.name},
            train.name if train else None,
            team.key,
            team.id,
            None,
        )
    train = session.scalar(select(Train).where(Train.name == (train_name or "").strip()))
    if train is None:
        raise ValidationError(Problem("train", f"no train is named '{train_name}'"))
    teams = session.execute(
        select(Team.id, Team.name).where(Team.train_id == train.id, Team.active.is_(True))
    ).all()
    return Scope(
        f"{train.name} train", {t.id: t.name for t in teams}, train.name, None, None, train.id
    )


# ---------------------------------------------------------------- the digest


def _new_readings(
    session: Session, scope: Scope, since: dt.date, today: dt.date
) -> list[MetricChange]:
    metrics = session.execute(
        select(Metric.id, Metric.team_id, Metric.name, Metric.unit, Metric.decimals)
        .where(Metric.team_id.in_(sorted(scope.teams)), Metric.archived.is_(False))
        .order_by(Metric.team_id, Metric.name)
    ).all()
    if not metrics:
        return []
    ids = [m.id for m in metrics]
    new: dict[int, list[tuple[dt.date, float]]] = defaultdict(list)
    for metric_id, date, value in session.execute(
        select(Reading.metric_id, Reading.date, Reading.value)
        .where(Reading.metric_id.in_(ids), Reading.date > since, Reading.date <= today)
        .order_by(Reading.metric_id, Reading.date)
    ):
        new[metric_id].append((date, value))
    old = _latest(session, [m for m in ids if m in new], on_or_before=since)
    changes: list[MetricChange] = []
    for m in metrics:
        if m.id not in new:
            continue
        last_date, last_value = new[m.id][-1]
        before = old.get(m.id)
        changes.append(
            MetricChange(
                scope.teams[m.team_id],
                m.name,
                m.unit or "",
                m.decimals,
                before[1] if before else None,
                last_value,
                last_date,
                len(new[m.id]),
            )
        )
    return changes


def _latest(
    session: Session, metric_ids: list[int], *, on_or_before: dt.date
) -> dict[int, tuple[dt.date, float]]:
    """The latest reading of each metric on or before a date: the correlated subquery
    on the (metric_id, date) index that FACTS.md measured fastest."""
    if not metric_ids:
        return {}
    inner = aliased(Reading)
    latest_id = (
        select(inner.id)
        .where(inner.metric_id == Reading.metric_id, inner.date <= on_or_before)
        .order_by(inner.date.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Reading.metric_id, Reading.date, Reading.value).where(
            Reading.metric_id.in_(metric_ids), Reading.id == latest_id
        )
    )
    return {metric_id: (date, value) for metric_id, date, value in rows}


def _stale(session: Session, scope: Scope, today: dt.date) -> list[StaleMetric]:
    metrics = session.execute(
        select(Metric.id, Metric.team_id, Metric.name, Metric.update_interval_days)
        .where(Metric.team_id.in_(sorted(scope.teams)), Metric.archived.is_(False))
        .order_by(Metric.team_id, Metric.name)
    ).all()
    latest = _latest(session, [m.id for m in metrics], on_or_before=today)
    stale: list[StaleMetric] = []
    for m in metrics:
        last = latest.get(m.id)
        # The health rule's "stale": more days since the latest reading than the interval.
        if last is None or (today - last[0]).days > m.update_interval_days:
            stale.append(
                StaleMetric(
                    scope.teams[m.team_id],
                    m.name,
                    last[0] if last else None,
                    m.update_interval_days,
                )
            )
    return stale


def _statuses(report: dict[str, Any], teams: set[str]) -> dict[tuple[str, str, str], str]:
    """(kind, team, what) -> health or verdict, for every outcome, target and hypothesis
    of the named teams in a Report JSON."""
    found: dict[tuple[str, str, str], str] = {}
    for team in report["teams"]:
        if team["team"] not in teams:
            continue
        for outcome in team["outcomes"]:
            key = outcome["key"]
            found[("health", team["team"], key)] = outcome["health"]
            for target in outcome["targets"]:
                found[("health", team["team"], f"{key} · {target['metric']}")] = target["health"]
            for h in outcome["hypotheses"]:
                what = f"{key} · {h['metric']} · if {h['if']}"
                found[("verdict", team["team"], what)] = h["verdict"]
    return found


def _changes(
    before: dict[tuple[str, str, str], str], after: dict[tuple[str, str, str], str], kind: str
) -> list[StatusChange]:
    return [
        StatusChange(team, what, before[(k, team, what)], now)
        for (k, team, what), now in after.items()
        if k == kind and (k, team, what) in before and before[(k, team, what)] != now
    ]


def _waiting(
    session: Session, scope: Scope, pi_id: int, today: dt.date, verdicts: dict[Any, str]
) -> list[WaitingHypothesis]:
    rows = session.execute(
        select(
            Team.name,
            Outcome.key,
            Metric.name,
            Hypothesis.if_text,
            Release.date,
            Hypothesis.window_days,
        )
        .join(Outcome, Hypothesis.outcome_id == Outcome.id)
        .join(Team, Outcome.team_id == Team.id)
        .join(Metric, Hypothesis.metric_id == Metric.id)
        .join(Release, Hypothesis.release_id == Release.id)
        .where(
            Outcome.pi_id == pi_id,
            Outcome.team_id.in_(sorted(scope.teams)),
            Outcome.status != "archived",
            Hypothesis.archived.is_(False),
            Hypothesis.decision.is_(None),
        )
        .order_by(Team.name, Outcome.key, Hypothesis.position, Hypothesis.id)
    ).all()
    waiting: list[WaitingHypothesis] = []
    for team, key, metric, if_text, released, window in rows:
        closed = released + dt.timedelta(days=window)
        if closed <= today:
            verdict = verdicts.get(("verdict", team, f"{key} · {metric} · if {if_text}"), "")
            waiting.append(
                WaitingHypothesis(team, key, metric, if_text, verdict or "closed", closed)
            )
    return waiting


def _failed_sources(session: Session, scope: Scope) -> list[str]:
    """The scope's metric sources whose last sync failed, with the (redacted) error."""
    lines = []
    for row in list_sources(session):
        if row.team_id not in scope.teams or row.last_outcome != FAILED:
            continue
        since = row.failing_since or row.last_sync_at
        when = f" since {since.date().isoformat()}" if since else ""
        lines.append(
            f"{row.team} / {row.metric} ({row.spec.kind}): failing{when}: {row.last_error}"
        )
    return lines


def build_digest(
    session: Session,
    *,
    team_key: str | None = None,
    train_name: str | None = None,
    since: dt.date | None = None,
    today: dt.date | None = None,
) -> Digest:
    """The digest of a team or a train for the days after `since` (default 7 days before
    `today`) up to `today`. The PI is the train's current one (`current_pi`)."""
    today = today or dt.date.today()
    since = since or today - dt.timedelta(days=DEFAULT_DAYS)
    if since > today:
        raise ValidationError(Problem("--since", "must not be after today"))
    scope = digest_scope(session, team_key=team_key, train_name=train_name)
    pi = current_pi(session, today=today, train_name=scope.train_name)
    health: list[StatusChange] = []
    verdicts: list[StatusChange] = []
    waiting: list[WaitingHypothesis] = []
    goals: list[GoalLine] = []
    if pi is not None:
        names = set(scope.teams.values())
        # As of the day before the window and as of today: what moved inside it.
        now = build_report(
            load_pi_snapshot(session, pi_name=pi.name, as_of=today, team_key=scope.team_key)
        )
        then = build_report(
            load_pi_snapshot(session, pi_name=pi.name, as_of=since, team_key=scope.team_key)
        )
        after, before = _statuses(now, names), _statuses(then, names)
        health = _changes(before, after, "health")
        verdicts = _changes(before, after, "verdict")
        waiting = _waiting(session, scope, pi.id, today, after)
        current = current_goals(session, pi_id=pi.id, day=today)
        if current.iteration is not None:
            goals = [
                GoalLine(scope.teams[team_id], goal.iteration, goal.goal)
                for team_id, goal in sorted(
                    current.goals.items(), key=lambda g: scope.teams.get(g[0], "")
                )
                if team_id in scope.teams
            ]
    return Digest(
        scope=scope.label,
        since=since,
        today=today,
        pi=pi.name if pi else None,
        readings=_new_readings(session, scope, since, today),
        health=health,
        verdicts=verdicts,
        stale=_stale(session, scope, today),
        failed_sources=_failed_sources(session, scope),
        waiting=waiting,
        goals=goals,
    )


# ---------------------------------------------------------------- destinations


@dataclass(frozen=True)
class DestinationInfo:
    id: int
    scope: str  # "team Checkout" or "train Payments"
    kind: str  # webhook or email
    target: str  # the webhook's secret name, or the addresses


def _describe(row: DigestDestination, teams: dict[int, str], trains: dict[int, str]) -> str:
    if row.team_id is not None:
        return f"team {teams.get(row.team_id, row.team_id)}"
    return f"train {trains.get(row.train_id or 0, row.train_id)}"


def list_destinations(
    session: Session, *, team_id: int | None = None, train_id: int | None = None
) -> list[DestinationInfo]:
    """Destinations of one team or train, or all of them when neither is given."""
    query = select(DigestDestination).order_by(DigestDestination.id)
    if team_id is not None:
        query = query.where(DigestDestination.team_id == team_id)
    if train_id is not None:
        query = query.where(DigestDestination.train_id == train_id)
    teams = {i: n for i, n in session.execute(select(Team.id, Team.name))}
    trains = {i: n for i, n in session.execute(select(Train.id, Train.name))}
    return [
        DestinationInfo(row.id, _describe(row, teams, trains), row.kind, row.target)
        for row in session.scalars(query)
    ]


def _clean_target(kind: str, target: str) -> str:
    target = (target or "").strip()
    if kind == "webhook":
        if not SECRET_NAME.fullmatch(target):
            raise ValidationError(
                Problem(
                    "target",
                    "the name of a webhook in secrets ([webhooks] in .streamlit/secrets.toml): "
                    "letters, digits, - and _ (never the URL itself)",
                )
            )
        return target
    addresses = [a.strip() for a in re.split(r"[,;\s]+", target) if a.strip()]
    bad = [a for a in addresses if not EMAIL.fullmatch(a)]
    if not addresses or bad:
        shown = ", ".join(bad) if bad else "none given"
        raise ValidationError(Problem("target", f"not e-mail addresses: {shown}"))
    return ", ".join(addresses)


def set_digest_destination(
    session: Session,
    *,
    actor: Actor,
    team_id: int | None = None,
    train_id: int | None = None,
    kind: str,
    target: str,
    submission_key: str | None = None,
) -> DestinationInfo:
    """Add where a team's or a train's digest goes (admins only). The same destination
    twice is stored once."""
    if not can_administer(actor):
        raise PermissionDenied(
            f"{actor.username} ({actor.role}) may not configure digests: admins only."
        )
    problems: list[Problem] = []
    if (team_id is None) == (train_id is None):
        problems.append(Problem("scope", "choose a team or a train"))
    if kind not in DIGEST_KINDS:
        problems.append(Problem("kind", f"must be one of {', '.join(DIGEST_KINDS)}"))
    if isinstance(target, str) and unstorable(target):
        problems.append(Problem("target", unstorable(target) or ""))
    if problems:
        raise ValidationError(problems)
    target = _clean_target(kind, target)
    if team_id is not None and session.get(Team, team_id) is None:
        raise ValidationError(Problem("team", "does not exist"))
    if train_id is not None and session.get(Train, train_id) is None:
        raise ValidationError(Problem("train", "does not exist"))
    claim_submission(session, key=submission_key)
    existing = session.scalar(
        select(DigestDestination).where(
            DigestDestination.team_id.is_(None)
            if team_id is None
            else DigestDestination.team_id == team_id,
            DigestDestination.train_id.is_(None)
            if train_id is None
            else DigestDestination.train_id == train_id,
            DigestDestination.kind == kind,
            DigestDestination.target == target,
        )
    )
    if existing is None:
        existing = DigestDestination(
            team_id=team_id,
            train_id=train_id,
            kind=kind,
            target=target,
            created_by=actor.username,
            created_at=utcnow(),
        )
        session.add(existing)
        session.flush()
        record_audit(
            session,
            actor=actor,
            action="create",
            entity="digest_destination",
            entity_id=existing.id,
            summary=f"digest destination: {kind} {target}",
            after={"team_id": team_id, "train_id": train_id, "kind": kind, "target": target},
        )
    return next(d for d in list_destinations(session) if d.id == existing.id)


def delete_digest_destination(
    session: Session, *, actor: Actor, destination_id: int, submission_key: str | None = None
) -> None:
    """Stop sending a digest to a destination (admins only)."""
    if not can_administer(actor):
        raise PermissionDenied(
            f"{actor.username} ({actor.role}) may not configure digests: admins only."
        )
    row = (
        session.get(DigestDestination, destination_id) if isinstance(destination_id, int) else None
    )
    if row is None:
        raise ValidationError(Problem("destination", f"no digest destination {destination_id}"))
    claim_submission(session, key=submission_key)
    before = {
        "team_id": row.team_id,
        "train_id": row.train_id,
        "kind": row.kind,
        "target": row.target,
    }
    session.execute(delete(DigestDestination).where(DigestDestination.id == destination_id))
    record_audit(
        session,
        actor=actor,
        action="delete",
        entity="digest_destination",
        entity_id=destination_id,
        summary=f"removed digest destination: {before['kind']} {before['target']}",
        before=before,
    )


def destinations_for(session: Session, scope: Scope) -> list[DestinationInfo]:
    """Where the digest of a scope (one team, or one train) is sent."""
    if scope.team_id is not None:
        return list_destinations(session, team_id=scope.team_id)
    return list_destinations(session, train_id=scope.train_id)
