"""A small hand-built PI for the query and report tests, scalable in teams and outcomes so
a test can show the statement count does not grow with them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from db.models import (
    PI,
    CheckIn,
    Hypothesis,
    Metric,
    Outcome,
    Reading,
    Release,
    Target,
    Team,
    Train,
)

PI_NAME = "PI 26.4"
PI_START = dt.date(2026, 10, 5)
PI_END = dt.date(2026, 12, 18)
AS_OF = dt.date(2026, 11, 2)


def build_small_pi(session: Session, *, teams: int = 2, outcomes_per_team: int = 2) -> None:
    """Train "Payments" with `teams` teams (CHK, T2, T3, ...), each with three metrics
    (conversion, leading; page load in s, lagging; support tickets, read once) read weekly
    from 14 Sep, and `outcomes_per_team` outcomes with one increase target, one decrease
    target and (the first) two hypotheses on releases of 20 Oct and 20 Nov; one
    train-level outcome, one archived; a PI before this one."""
    train = Train(name="Payments")
    session.add(train)
    session.flush()
    session.add(
        PI(
            name="PI 26.3",
            train_id=train.id,
            start_date=dt.date(2026, 7, 20),
            end_date=dt.date(2026, 10, 2),
        )
    )
    pi = PI(name=PI_NAME, train_id=train.id, start_date=PI_START, end_date=PI_END)
    session.add(pi)
    session.flush()
    for t in range(teams):
        add_team(
            session, train_id=train.id, pi_id=pi.id, index=t, outcomes_per_team=outcomes_per_team
        )
    train_outcome = Outcome(
        pi_id=pi.id,
        team_id=None,
        key="PAY-1",
        title="Fewer abandoned payments",
        committed=True,
        planned_bv=9,
        actual_bv=10,
        status="active",
    )
    archived = Outcome(pi_id=pi.id, team_id=None, key="PAY-0", title="Old idea", status="archived")
    session.add_all([train_outcome, archived])
    session.flush()


def add_team(
    session: Session, *, train_id: int, pi_id: int, index: int, outcomes_per_team: int
) -> None:
    """One team of the small PI (index 0 is Checkout, CHK) with its metrics, readings,
    releases, outcomes, targets, hypotheses and check-ins."""
    key = "CHK" if index == 0 else f"T{index + 1}"
    team = Team(name="Checkout" if index == 0 else f"Team {index + 1}", key=key, train_id=train_id)
    session.add(team)
    session.flush()
    conversion = Metric(
        team_id=team.id,
        name="Checkout conversion",
        unit="%",
        decimals=1,
        update_interval_days=14,
        leading=True,
    )
    load = Metric(
        team_id=team.id,
        name="Page load",
        unit="s",
        decimals=2,
        update_interval_days=14,
        leading=False,
    )
    idle = Metric(team_id=team.id, name="Support tickets", unit="tickets", decimals=0)
    session.add_all([conversion, load, idle])
    session.flush()
    day = dt.date(2026, 9, 14)
    week = 0
    while day <= dt.date(2026, 12, 28):
        # Conversion climbs after the release of 20 Oct; page load drops slowly.
        lift = 0.1 * max(0, (day - dt.date(2026, 10, 20)).days // 7 + 1)
        session.add(
            Reading(
                metric_id=conversion.id,
                date=day,
                value=round(2.1 + 0.01 * (week % 3) + lift, 3),
                source="cli",
            )
        )
        session.add(
            Reading(metric_id=load.id, date=day, value=round(3.0 - 0.05 * week, 3), source="cli")
        )
        day += dt.timedelta(days=7)
        week += 1
    session.add(Reading(metric_id=idle.id, date=dt.date(2026, 9, 1), value=40, source="cli"))
    release = Release(team_id=team.id, name="v2.3", date=dt.date(2026, 10, 20))
    later = Release(team_id=team.id, name="v2.4", date=dt.date(2026, 11, 20))
    session.add_all([release, later])
    session.flush()
    for n in range(outcomes_per_team):
        outcome = Outcome(
            pi_id=pi_id,
            team_id=team.id,
            key=f"{key}-{n + 1}",
            title="Raise checkout conversion" if n == 0 else f"Build feature {n + 1}",
            committed=n != 1,
            planned_bv=8 if n != 1 else 5,
            actual_bv=7 if n == 0 else None,
            status="active",
            position=n,
        )
        session.add(outcome)
        session.flush()
        session.add(
            Target(
                outcome_id=outcome.id,
                metric_id=conversion.id,
                baseline=2.1,
                baseline_date=PI_START,
                target=2.6 + 0.1 * n,
                kind="increase",
            )
        )
        session.add(
            Target(
                outcome_id=outcome.id,
                metric_id=load.id,
                baseline=3.0,
                baseline_date=PI_START,
                target=2.0,
                kind="decrease",
                position=1,
            )
        )
        if n == 0:
            session.add(
                Hypothesis(
                    outcome_id=outcome.id,
                    metric_id=conversion.id,
                    if_text="we offer one-click pay",
                    expect_text="more buyers finish checkout",
                    because_text="form length is the top drop-off",
                    direction="increase",
                    min_effect=0.2,
                    release_id=release.id,
                    window_days=28,
                )
            )
            session.add(
                Hypothesis(
                    outcome_id=outcome.id,
                    metric_id=load.id,
                    if_text="we lazy-load images",
                    expect_text="faster pages",
                    direction="decrease",
                    min_effect=10,
                    min_effect_unit="percent",
                    release_id=later.id,
                )
            )
        session.add(
            CheckIn(
                outcome_id=outcome.id,
                date=dt.date(2026, 10, 30),
                confidence=7,
                comment="going well",
            )
        )
        session.add(
            CheckIn(
                outcome_id=outcome.id,
                date=dt.date(2026, 11, 30),
                confidence=3,
                comment="after as-of",
            )
        )
    session.flush()
