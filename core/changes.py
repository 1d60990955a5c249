"""Typed change objects for the update writes: one frozen dataclass per entity, every
field optional, UNCHANGED (the default) meaning "leave it as stored". A field may be
changed to None where the entity allows it (a PI without a train, an outcome without a
parent), which is why "unchanged" is its own value. The fields are the ones core/fields.py
declares (a test compares them); the write functions validate the values."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final, Self

from core.errors import Problem, ValidationError


class Unchanged(enum.Enum):
    UNCHANGED = "unchanged"

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = Unchanged.UNCHANGED


@dataclass(frozen=True)
class Changes:
    """The base of every change object."""

    def values(self) -> dict[str, Any]:
        """The fields this change sets, by name."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) is not UNCHANGED
        }

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Self:
        """From a form's changed fields; a field this entity has not is a problem."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValidationError([Problem(name, "cannot be changed here") for name in unknown])
        return cls(**values)


@dataclass(frozen=True)
class TrainChanges(Changes):
    name: str | Unchanged = UNCHANGED
    archived: bool | Unchanged = UNCHANGED


@dataclass(frozen=True)
class TeamChanges(Changes):
    name: str | Unchanged = UNCHANGED
    key: str | Unchanged = UNCHANGED
    train_id: int | Unchanged | None = UNCHANGED
    active: bool | Unchanged = UNCHANGED


@dataclass(frozen=True)
class PIChanges(Changes):
    name: str | Unchanged = UNCHANGED
    train_id: int | Unchanged | None = UNCHANGED
    start_date: dt.date | Unchanged = UNCHANGED
    end_date: dt.date | Unchanged = UNCHANGED


@dataclass(frozen=True)
class MetricChanges(Changes):
    name: str | Unchanged = UNCHANGED
    unit: str | Unchanged = UNCHANGED
    description: str | Unchanged = UNCHANGED
    source: str | Unchanged = UNCHANGED
    update_interval_days: int | Unchanged = UNCHANGED
    decimals: int | Unchanged = UNCHANGED
    leading: bool | Unchanged = UNCHANGED
    archived: bool | Unchanged = UNCHANGED


@dataclass(frozen=True)
class ReleaseChanges(Changes):
    name: str | Unchanged = UNCHANGED
    date: dt.date | Unchanged = UNCHANGED
    notes: str | Unchanged = UNCHANGED
    link: str | Unchanged = UNCHANGED
    archived: bool | Unchanged = UNCHANGED


@dataclass(frozen=True)
class OutcomeChanges(Changes):
    key: str | Unchanged = UNCHANGED
    title: str | Unchanged = UNCHANGED
    why: str | Unchanged = UNCHANGED
    owner: str | Unchanged = UNCHANGED
    committed: bool | Unchanged = UNCHANGED
    planned_bv: int | Unchanged | None = UNCHANGED
    parent_id: int | Unchanged | None = UNCHANGED
    status: str | Unchanged = UNCHANGED
    team_id: int | Unchanged | None = UNCHANGED


@dataclass(frozen=True)
class TargetChanges(Changes):
    metric_id: int | Unchanged = UNCHANGED
    baseline: float | Unchanged | None = UNCHANGED
    baseline_date: dt.date | Unchanged | None = UNCHANGED
    target: float | Unchanged | None = UNCHANGED
    target_date: dt.date | Unchanged | None = UNCHANGED
    kind: str | Unchanged | None = UNCHANGED
    band_low: float | Unchanged | None = UNCHANGED
    band_high: float | Unchanged | None = UNCHANGED
    archived: bool | Unchanged = UNCHANGED


@dataclass(frozen=True)
class HypothesisChanges(Changes):
    metric_id: int | Unchanged = UNCHANGED
    if_text: str | Unchanged = UNCHANGED
    expect_text: str | Unchanged = UNCHANGED
    because_text: str | Unchanged = UNCHANGED
    direction: str | Unchanged = UNCHANGED
    min_effect: float | Unchanged = UNCHANGED
    min_effect_unit: str | Unchanged = UNCHANGED
    release_id: int | Unchanged | None = UNCHANGED
    window_days: int | Unchanged = UNCHANGED
    learning: str | Unchanged = UNCHANGED
    decision: str | Unchanged | None = UNCHANGED
    archived: bool | Unchanged = UNCHANGED


@dataclass(frozen=True)
class IterationChanges(Changes):
    name: str | Unchanged = UNCHANGED
    start_date: dt.date | Unchanged = UNCHANGED
    end_date: dt.date | Unchanged = UNCHANGED


@dataclass(frozen=True)
class IterationGoalChanges(Changes):
    goal: str | Unchanged = UNCHANGED
    outcome_id: int | Unchanged | None = UNCHANGED
    metric_id: int | Unchanged | None = UNCHANGED
    met: bool | Unchanged | None = UNCHANGED
