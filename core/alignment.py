"""Alignment rollup (PRODUCT.md): a train-level outcome without targets of its own takes
its health and progress from the team outcomes that name it as their parent.

- with targets: judged by them (unchanged);
- without targets, with contributing team outcomes: health = the worst of theirs (in
  HEALTH_ORDER; a contributor that is itself `unmeasurable` says nothing and only counts
  when every contributor is), progress = the mean of their progress (None when none has);
- with neither: `unmeasurable`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from core.health import health_rank
from core.model import HEALTH_WORDS, UNMEASURABLE, OutcomeSpec, OutcomeStatus
from core.predictability import actual_actual_flag


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rollup:
    """A train outcome's health and progress as its contributors give them."""

    health: str
    progress: float | None
    reason: str


def rollup(children: Sequence[OutcomeStatus]) -> Rollup:
    """Health and progress of a train outcome without targets, from its contributing team
    outcomes (in their order; ties in health go to the first)."""
    if not children:
        return Rollup(
            health=UNMEASURABLE,
            progress=None,
            reason="no targets and no team outcome contributes to it",
        )
    measured = [c for c in children if c.health != UNMEASURABLE]
    values = [c.progress for c in children if c.progress is not None]
    progress = sum(values) / len(values) if values else None
    count = f"{len(children)} contributing team outcome" + ("" if len(children) == 1 else "s")
    if not measured:
        return Rollup(
            health=UNMEASURABLE,
            progress=progress,
            reason=f"rolled up from {count}, none of them measurable",
        )
    worst = min(measured, key=lambda c: health_rank(c.health))
    return Rollup(
        health=worst.health,
        progress=progress,
        reason=f"rolled up from {count}: the worst, {worst.key}, is {HEALTH_WORDS[worst.health]}",
    )


def contributors_of(
    outcome_id: int, outcomes: Sequence[OutcomeStatus], specs: Sequence[OutcomeSpec]
) -> tuple[OutcomeStatus, ...]:
    """The team outcomes whose parent is `outcome_id`, in the given order."""
    children = {s.id for s in specs if s.parent_id == outcome_id and s.team_id is not None}
    return tuple(o for o in outcomes if o.outcome_id in children)


def rolled_up_train_outcome(
    status: OutcomeStatus, spec: OutcomeSpec, children: Sequence[OutcomeStatus]
) -> OutcomeStatus:
    """The train outcome's status with the rollup applied when it has no targets of its
    own; with targets it keeps its own health and progress. Either way it lists its
    contributors."""
    contributors = tuple(c.outcome_id for c in children)
    if spec.targets:
        return dataclasses.replace(status, contributors=contributors)
    rolled = rollup(children)
    return dataclasses.replace(
        status,
        health=rolled.health,
        progress=rolled.progress,
        reason=rolled.reason,
        contributors=contributors,
        rolled_up=bool(children),
        flag=actual_actual_flag(status.actual_bv, rolled.health),
    )
