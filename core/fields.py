"""Each entity's editable fields and their limits, declared once.

The write functions (db/writes.py) validate against these limits, the edit forms
(db/edit_queries.py) open exactly these fields, and the workspace importer
(db/workspace.py) refuses what a form would refuse, so a record that imports can always
be edited again. A field's name is the write function's keyword and the column's name;
`label` is how a problem names it when that differs. Lengths of VARCHAR columns in
db/models.py are at least these (a test compares them).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Field:
    """One editable field: a text's longest length, or an integer's range."""

    name: str
    max_length: int | None = None
    low: int | None = None
    high: int | None = None
    label: str | None = None

    @property
    def where(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class Entity:
    name: str
    fields: tuple[Field, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def __getitem__(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    def max_length(self, name: str) -> int:
        length = self[name].max_length
        assert length is not None, f"{self.name}.{name} is not text"
        return length

    def bounds(self, name: str) -> dict[str, int]:
        """An integer field's range, as the validators take it: low=..., high=..."""
        found = self[name]
        assert found.low is not None and found.high is not None, f"{self.name}.{name}"
        return {"low": found.low, "high": found.high}


NAME = 120  # names of trains, teams, metrics, releases; people
LONG_TEXT = 5000  # why, notes, learning
SHORT_TEXT = 2000  # a metric's description, a comment, a reason
INTERVAL_DAYS = (1, 366)  # a metric's update interval, a hypothesis's window

TRAIN = Entity("train", (Field("name", max_length=NAME), Field("archived")))
TEAM = Entity(
    "team",
    (
        Field("name", max_length=NAME),
        Field("key", max_length=20),
        Field("train_id", label="train"),
        Field("active"),
    ),
)
PI = Entity(
    "pi",
    (
        Field("name", max_length=60),
        Field("train_id", label="train"),
        Field("start_date"),
        Field("end_date"),
    ),
)
METRIC = Entity(
    "metric",
    (
        Field("name", max_length=NAME),
        Field("unit", max_length=20),
        Field("description", max_length=SHORT_TEXT),
        Field("source", max_length=200),
        Field("update_interval_days", low=INTERVAL_DAYS[0], high=INTERVAL_DAYS[1]),
        Field("decimals", low=0, high=6),
        Field("leading"),
        Field("archived"),
    ),
)
RELEASE = Entity(
    "release",
    (
        Field("name", max_length=NAME),
        Field("date"),
        Field("notes", max_length=LONG_TEXT),
        Field("link", max_length=500),
        Field("archived"),
    ),
)
OUTCOME = Entity(
    "outcome",
    (
        Field("key", max_length=30),
        Field("title", max_length=300),
        Field("why", max_length=LONG_TEXT),
        Field("owner", max_length=NAME),
        Field("committed"),
        Field("planned_bv", low=1, high=10),
        Field("parent_id", label="parent"),
        Field("status"),
        Field("team_id", label="team"),
    ),
)
# Scored at the PI's end (score_outcome), not in the outcome form.
ACTUAL_BV = Field("actual_bv", low=0, high=10)
TARGET = Entity(
    "target",
    (
        Field("metric_id", label="metric"),
        Field("baseline"),
        Field("baseline_date"),
        Field("target"),
        Field("target_date"),
        Field("kind"),
        Field("band_low"),
        Field("band_high"),
        Field("archived"),
    ),
)
HYPOTHESIS = Entity(
    "hypothesis",
    (
        Field("metric_id", label="metric"),
        Field("if_text", max_length=1000, label="if"),
        Field("expect_text", max_length=1000, label="expect"),
        Field("because_text", max_length=1000, label="because"),
        Field("direction"),
        Field("min_effect"),
        Field("min_effect_unit"),
        Field("release_id", label="release"),
        Field("window_days", low=INTERVAL_DAYS[0], high=INTERVAL_DAYS[1]),
        Field("learning", max_length=LONG_TEXT),
        Field("decision"),
        Field("archived"),
    ),
)
# A verdict override is its own write (override_verdict), with its reason.
OVERRIDE_REASON = Field("override_reason", max_length=SHORT_TEXT)
CHECKIN = Entity(
    "checkin",
    (
        Field("confidence", low=1, high=10),
        Field("comment", max_length=SHORT_TEXT),
        Field("date"),
        Field("by", max_length=NAME),
    ),
)

ENTITIES = (TRAIN, TEAM, PI, METRIC, RELEASE, OUTCOME, TARGET, HYPOTHESIS, CHECKIN)
