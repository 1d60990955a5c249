"""The train's track record across PIs: the same figures the rules give each PI on its
own (cross-checked against `evaluate_pi` on a full snapshot), from four statements."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, event

from core.rules import evaluate_pi
from core.track_record import judged_on
from db.engine import read_session
from db.queries import load_pi_snapshot
from db.track_record import train_pis, train_track_record
from seed.demo import load_demo
from tests.conftest import DEMO_TODAY

LATER = DEMO_TODAY + dt.timedelta(days=120)  # the demo's next PI has started, too


@pytest.mark.parametrize(
    ("which", "as_of", "count"),
    [
        (1, DEMO_TODAY, 2),  # the current PI and the one before it
        (2, DEMO_TODAY, 2),  # the next PI has not started: up to the current one
        (2, LATER, 3),  # now it has
        (0, LATER, 1),  # the past PI: nothing after it
    ],
)
def test_each_pi_matches_its_own_review(
    engine: Engine, which: int, as_of: dt.date, count: int
) -> None:
    summary = load_demo(engine, today=DEMO_TODAY)
    pi_name = summary.pis[which]

    with read_session(engine) as session:
        records = train_track_record(session, pi_name=pi_name, as_of=as_of)
        pis = train_pis(session, pi_name=pi_name, as_of=as_of)
        expected = []
        for pi in pis:
            status = evaluate_pi(
                load_pi_snapshot(session, pi_name=pi.name, as_of=judged_on(pi, as_of))
            )
            outcomes = [o for t in status.teams for o in t.outcomes]
            expected.append(
                (
                    pi.name,
                    status.train_predictability.pooled,
                    status.train_predictability.mean_of_teams,
                    len(outcomes),
                    sum(o.health == "achieved" for o in outcomes),
                )
            )

    assert [(r.pi, r.pooled, r.mean_of_teams, r.outcomes, r.achieved) for r in records] == [
        (name, pytest.approx(pooled) if pooled is not None else None,
         pytest.approx(mean) if mean is not None else None, n, achieved)
        for name, pooled, mean, n, achieved in expected
    ]  # fmt: skip
    assert [r.pi for r in records] == [p.name for p in pis]
    assert len(records) == count
    assert records[0].ended and records[0].pooled is not None
    assert any(r.achieved for r in records)


def test_only_the_last_pis_and_a_fixed_number_of_statements(engine: Engine) -> None:
    summary = load_demo(engine, today=DEMO_TODAY)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        with read_session(engine) as session:
            one = train_track_record(session, pi_name=summary.pis[-1], as_of=LATER, count=1)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert [r.pi for r in one] == [summary.pis[-1]]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) <= 5  # the PI, its train's PIs, outcomes, targets, metrics
