"""The one builder of test workspaces: records made through `db.writes`, so they are
validated and audited as a user's would be, with the product's defaults filled in by the
same code. Every test module that needs a few trains, teams, PIs, metrics, readings,
outcomes, targets, hypotheses, releases and check-ins describes them with `Builder`; the
named recipes below (`small_pi`, `checkout_and_search`) are the workspaces several modules
share. A change to a write function's signature is then one edit here, not one per test
module."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from core.access import Actor
from core.changes import MetricChanges
from db import writes
from db.models import PI, CheckIn, Hypothesis, Metric, Outcome, Release, Target, Team, Train
from db.readings import ReadingEntry, record_readings

SETUP = Actor.system("test-admin")  # who builds: an admin, so no permission gets in the way


class Builder:
    """Adds records to a workspace inside the caller's write session and returns them
    (their ids are set: each write flushes). Team, PI and outcome arguments are records,
    so a recipe reads like the workspace it describes."""

    def __init__(self, session: Session, *, actor: Actor = SETUP) -> None:
        self.session = session
        self.actor = actor

    def train(self, name: str = "Payments") -> Train:
        return writes.create_train(self.session, actor=self.actor, name=name)

    def team(self, name: str, key: str, *, train: Train | None = None, **fields: Any) -> Team:
        train_id = train.id if train is not None else None
        return writes.create_team(
            self.session, actor=self.actor, name=name, key=key, train_id=train_id, **fields
        )

    def pi(self, name: str, start: dt.date, end: dt.date, *, train: Train | None = None) -> PI:
        """A PI; the product cuts it into iterations as it does for a user's."""
        train_id = train.id if train is not None else None
        return writes.create_pi(
            self.session,
            actor=self.actor,
            name=name,
            train_id=train_id,
            start_date=start,
            end_date=end,
        )

    def metric(self, team: Team, name: str, **fields: Any) -> Metric:
        return writes.create_metric(
            self.session, actor=self.actor, team_id=team.id, name=name, **fields
        )

    def archive_metric(self, metric: Metric) -> Metric:
        return writes.update_metric(
            self.session,
            actor=self.actor,
            metric_id=metric.id,
            expected_version=None,
            changes=MetricChanges(archived=True),
        )

    def readings(
        self, metric: Metric, values: Mapping[dt.date, float], *, source: str = "cli"
    ) -> None:
        """Readings of one metric, {date: value}, in one write."""
        entries = [ReadingEntry(metric.id, day, value) for day, value in values.items()]
        record_readings(self.session, actor=self.actor, entries=entries, source=source)

    def release(self, team: Team, name: str, date: dt.date, **fields: Any) -> Release:
        return writes.create_release(
            self.session, actor=self.actor, team_id=team.id, name=name, date=date, **fields
        )

    def outcome(self, pi: PI, team: Team | None, key: str, title: str, **fields: Any) -> Outcome:
        """A team outcome, or a train-level one with `team=None`."""
        team_id = team.id if team is not None else None
        return writes.create_outcome(
            self.session,
            actor=self.actor,
            pi_id=pi.id,
            team_id=team_id,
            key=key,
            title=title,
            **fields,
        )

    def score(self, outcome: Outcome, actual_bv: int | None) -> Outcome:
        return writes.score_outcome(
            self.session,
            actor=self.actor,
            outcome_id=outcome.id,
            actual_bv=actual_bv,
            expected_version=None,
        )

    def archive(self, outcome: Outcome) -> Outcome:
        return writes.archive_outcome(
            self.session, actor=self.actor, outcome_id=outcome.id, expected_version=None
        )

    def target(self, outcome: Outcome, metric: Metric, **fields: Any) -> Target:
        return writes.add_target(
            self.session, actor=self.actor, outcome_id=outcome.id, metric_id=metric.id, **fields
        )

    def hypothesis(
        self,
        outcome: Outcome,
        metric: Metric,
        *,
        release: Release | None = None,
        **fields: Any,
    ) -> Hypothesis:
        release_id = release.id if release is not None else None
        return writes.add_hypothesis(
            self.session,
            actor=self.actor,
            outcome_id=outcome.id,
            metric_id=metric.id,
            release_id=release_id,
            **fields,
        )

    def checkin(
        self, outcome: Outcome, date: dt.date, confidence: int, comment: str = ""
    ) -> CheckIn:
        return writes.add_checkin(
            self.session,
            actor=self.actor,
            outcome_id=outcome.id,
            confidence=confidence,
            comment=comment,
            date=date,
        )


# ----------------------------------------------------------------------- shared recipes


def checkout_and_search(b: Builder) -> tuple[Train, Team, Team]:
    """Train Payments with team Checkout (CHK) and team Search (SRC): the two teams the
    permission, write and page tests tell apart (an editor of one is a stranger to the
    other)."""
    train = b.train("Payments")
    return train, b.team("Checkout", "CHK", train=train), b.team("Search", "SRC", train=train)


SMALL_PI_NAME = "PI 26.4"
SMALL_PI_START = dt.date(2026, 10, 5)
SMALL_PI_END = dt.date(2026, 12, 18)
SMALL_PI_AS_OF = dt.date(2026, 11, 2)
RELEASED = dt.date(2026, 10, 20)  # the small PI's first release, which lifts conversion


def small_pi(b: Builder, *, teams: int = 2, outcomes_per_team: int = 2) -> PI:
    """Train "Payments" with `teams` teams (CHK, T2, T3, ...), each with three metrics
    (conversion, leading; page load in s, lagging; support tickets, read once) read weekly
    from 14 Sep, and `outcomes_per_team` outcomes with one increase target, one decrease
    target and (the first) two hypotheses on releases of 20 Oct and 20 Nov; one
    train-level outcome, one archived; a PI before this one. For the query and report
    tests, scalable so a test can show the statement count does not grow."""
    train = b.train("Payments")
    b.pi("PI 26.3", dt.date(2026, 7, 20), dt.date(2026, 10, 2), train=train)
    pi = b.pi(SMALL_PI_NAME, SMALL_PI_START, SMALL_PI_END, train=train)
    for index in range(teams):
        small_pi_team(b, pi, index=index, outcomes_per_team=outcomes_per_team)
    train_outcome = b.outcome(
        pi, None, "PAY-1", "Fewer abandoned payments", planned_bv=9, status="active"
    )
    b.score(train_outcome, 10)
    b.archive(b.outcome(pi, None, "PAY-0", "Old idea"))
    return pi


def small_pi_team(b: Builder, pi: PI, *, index: int, outcomes_per_team: int) -> Team:
    """One team of the small PI (index 0 is Checkout, CHK) with its metrics, readings,
    releases, outcomes, targets, hypotheses and check-ins."""
    key = "CHK" if index == 0 else f"T{index + 1}"
    team = b.team("Checkout" if index == 0 else f"Team {index + 1}", key, train=pi.train)
    conversion = b.metric(team, "Checkout conversion", unit="%", decimals=1, leading=True)
    load = b.metric(team, "Page load", unit="s", decimals=2)
    idle = b.metric(team, "Support tickets", unit="tickets", decimals=0)
    weeks = [dt.date(2026, 9, 14) + dt.timedelta(days=7 * week) for week in range(16)]
    # Conversion climbs after the release of 20 Oct; page load drops slowly.
    b.readings(
        conversion,
        {
            day: round(2.1 + 0.01 * (week % 3) + 0.1 * max(0, (day - RELEASED).days // 7 + 1), 3)
            for week, day in enumerate(weeks)
        },
    )
    b.readings(load, {day: round(3.0 - 0.05 * week, 3) for week, day in enumerate(weeks)})
    b.readings(idle, {dt.date(2026, 9, 1): 40})
    release = b.release(team, "v2.3", RELEASED)
    later = b.release(team, "v2.4", dt.date(2026, 11, 20))
    for n in range(outcomes_per_team):
        outcome = b.outcome(
            pi,
            team,
            f"{key}-{n + 1}",
            "Raise checkout conversion" if n == 0 else f"Build feature {n + 1}",
            committed=n != 1,
            planned_bv=8 if n != 1 else 5,
            status="active",
        )
        if n == 0:
            b.score(outcome, 7)
        start = pi.start_date
        b.target(outcome, conversion, baseline=2.1, baseline_date=start, target=2.6 + 0.1 * n)
        b.target(outcome, load, baseline=3.0, baseline_date=start, target=2.0)
        if n == 0:
            b.hypothesis(
                outcome,
                conversion,
                if_text="we offer one-click pay",
                expect_text="more buyers finish checkout",
                because_text="form length is the top drop-off",
                min_effect=0.2,
                release=release,
            )
            b.hypothesis(
                outcome,
                load,
                if_text="we lazy-load images",
                expect_text="faster pages",
                direction="decrease",
                min_effect=10,
                min_effect_unit="percent",
                release=later,
            )
        b.checkin(outcome, dt.date(2026, 10, 30), 7, "going well")
        b.checkin(outcome, dt.date(2026, 11, 30), 3, "after as-of")
    return team
