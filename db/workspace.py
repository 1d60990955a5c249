"""Workspace JSON ("outcome-board/1"): export the whole workspace by natural keys, and
import a document, validated whole first, then merged by natural key in one transaction."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core import fields as declared
from core.access import Actor, can_administer
from core.errors import PermissionDenied, Problem, ValidationError
from core.iterations import GOAL_MAX_LENGTH, IterationSpan, iteration_problems
from core.sources import parse_spec, spec_from_json
from core.validate import KEY_PATTERN, OUTCOME_KEY_PATTERN, target_problems, unstorable
from db.audit import record_audit
from db.models import (
    DECISIONS,
    DIRECTIONS,
    EFFECT_UNITS,
    OUTCOME_STATUSES,
    PI,
    READING_SOURCES,
    TARGET_KINDS,
    VERDICTS,
    CheckIn,
    Hypothesis,
    Iteration,
    IterationGoal,
    Metric,
    MetricSource,
    Outcome,
    Reading,
    Release,
    Target,
    Team,
    Train,
)
from db.readings import plan_resolved, write_plan
from db.submissions import claim_submission

FORMAT = "outcome-board/1"
SECTIONS = (
    "trains",
    "teams",
    "pis",
    "metrics",
    "releases",
    "outcomes",
    "readings",
    "checkins",
    "iterations",
    "iteration_goals",
)
KINDS = (*SECTIONS[:6], "targets", "hypotheses", *SECTIONS[6:])
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FREE_TEXT = 20_000  # Text columns have no SQL limit; a sane ceiling for a document

# The fields of each record kind. Beyond PRODUCT.md's list, two optional fields keep an
# export lossless and are written only when they differ from their default: `archived`
# (trains, metrics, releases, targets, hypotheses: soft-deleted records) and `team` on a
# target or hypothesis of a train-level outcome (the team owning its metric; a team
# outcome's targets use its own team's metrics).
FIELDS: dict[str, tuple[str, ...]] = {
    "trains": ("name", "archived"),
    "teams": ("name", "key", "train", "active"),
    "pis": ("name", "train", "start", "end"),
    "metrics": (
        "team",
        "name",
        "unit",
        "description",
        "source",
        "update_interval_days",
        "decimals",
        "leading",
        "archived",
        "source_spec",  # issue 12: the metric's source, connection names only
    ),
    "releases": ("team", "name", "date", "notes", "link", "archived"),
    "outcomes": (
        "pi",
        "key",
        "team",
        "title",
        "why",
        "owner",
        "committed",
        "planned_bv",
        "actual_bv",
        "parent",
        "status",
        "targets",
        "hypotheses",
    ),
    "targets": (
        "metric",
        "team",
        "baseline",
        "baseline_date",
        "target",
        "target_date",
        "kind",
        "band_low",
        "band_high",
        "archived",
    ),
    "hypotheses": (
        "metric",
        "team",
        "if",
        "expect",
        "because",
        "direction",
        "min_effect",
        "min_effect_unit",
        "release",
        "window_days",
        "override",
        "override_reason",
        "learning",
        "decision",
        "archived",
    ),
    "readings": ("team", "metric", "date", "value", "note", "source"),
    "checkins": ("pi", "outcome", "date", "confidence", "comment", "by"),
    "iterations": ("pi", "name", "start", "end"),
    "iteration_goals": ("pi", "iteration", "team", "goal", "outcome", "metric", "met"),
}
DEFAULT_READING_SOURCE = "import"
NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "trains": ("name",),
    "teams": ("name",),
    "pis": ("name",),
    "metrics": ("team", "name"),
    "releases": ("team", "name"),
    "outcomes": ("pi", "key"),
    "iterations": ("pi", "name"),
    "iteration_goals": ("pi", "iteration", "team"),
}
# `met` of an iteration goal: JSON true/false/null; the words yes/no/unknown are read too.
MET_VALUES: dict[object, bool | None] = {"yes": True, "no": False, "unknown": None}


@dataclass(frozen=True)
class ImportSummary:
    """How many records of each kind an import created, updated, left as they were, and
    archived (targets and hypotheses of an imported outcome that the document omits)."""

    created: Mapping[str, int] = field(default_factory=dict)
    updated: Mapping[str, int] = field(default_factory=dict)
    unchanged: Mapping[str, int] = field(default_factory=dict)
    archived: Mapping[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        parts = []
        for label, counts in (
            ("created", self.created),
            ("updated", self.updated),
            ("unchanged", self.unchanged),
            ("archived", self.archived),
        ):
            items = [f"{counts[kind]} {kind}" for kind in KINDS if counts.get(kind)]
            if items:
                parts.append(f"{label} {', '.join(items)}")
        return "; ".join(parts) or "nothing to import"


# ---------------------------------------------------------------- export


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def parse_document(raw: bytes, *, where: str = "file") -> Any:
    """The JSON value in `raw` (UTF-8, a byte order mark allowed). Not text, not JSON, or
    nested deeper than Python's parser goes (about 1,000 levels: RecursionError) is a
    ValidationError naming `where`, not a crash."""
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValidationError(Problem(where, f"is not a JSON document ({error})")) from error
    except RecursionError as error:
        raise ValidationError(Problem(where, "is nested too deeply to be a workspace")) from error


def export_workspace(session: Session) -> dict[str, Any]:
    """The whole workspace as an "outcome-board/1" document. Every list is sorted by
    natural key in code-point order (never the database's collation), so both databases
    export the same document; outcomes, targets and hypotheses keep their display order."""
    trains = {t.id: t for t in session.scalars(select(Train))}
    teams = {t.id: t for t in session.scalars(select(Team))}
    pis = {p.id: p for p in session.scalars(select(PI))}
    metrics = {m.id: m for m in session.scalars(select(Metric))}
    releases = {r.id: r for r in session.scalars(select(Release))}
    outcomes = {o.id: o for o in session.scalars(select(Outcome))}
    train_name = {i: t.name for i, t in trains.items()}
    team_name = {i: t.name for i, t in teams.items()}

    doc: dict[str, Any] = {"format": FORMAT}
    doc["trains"] = [
        {"name": t.name, **({"archived": True} if t.archived else {})}
        for t in sorted(trains.values(), key=lambda t: t.name)
    ]
    doc["teams"] = [
        {
            "name": t.name,
            "key": t.key,
            "train": train_name.get(t.train_id) if t.train_id else None,
            "active": bool(t.active),
        }
        for t in sorted(teams.values(), key=lambda t: t.name)
    ]
    doc["pis"] = [
        {
            "name": p.name,
            "train": train_name.get(p.train_id) if p.train_id else None,
            "start": _iso(p.start_date),
            "end": _iso(p.end_date),
        }
        for p in sorted(pis.values(), key=lambda p: p.name)
    ]
    metric_order = sorted(metrics.values(), key=lambda m: (team_name[m.team_id], m.name))
    source_specs = {
        s.metric_id: spec_from_json(s.spec).to_json() for s in session.scalars(select(MetricSource))
    }
    doc["metrics"] = [
        {
            "team": team_name[m.team_id],
            "name": m.name,
            "unit": m.unit,
            "description": m.description,
            "source": m.source,
            "update_interval_days": m.update_interval_days,
            "decimals": m.decimals,
            "leading": bool(m.leading),
            **({"archived": True} if m.archived else {}),
            **({"source_spec": source_specs[m.id]} if m.id in source_specs else {}),
        }
        for m in metric_order
    ]
    doc["releases"] = [
        {
            "team": team_name[r.team_id],
            "name": r.name,
            "date": _iso(r.date),
            "notes": r.notes,
            "link": r.link,
            **({"archived": True} if r.archived else {}),
        }
        for r in sorted(releases.values(), key=lambda r: (team_name[r.team_id], r.name))
    ]

    targets: dict[int, list[Target]] = defaultdict(list)
    for target in session.scalars(select(Target)):
        targets[target.outcome_id].append(target)
    hypotheses: dict[int, list[Hypothesis]] = defaultdict(list)
    for hypothesis in session.scalars(select(Hypothesis)):
        hypotheses[hypothesis.outcome_id].append(hypothesis)

    def metric_ref(metric_id: int, outcome_team_id: int | None) -> dict[str, Any]:
        metric = metrics[metric_id]
        ref: dict[str, Any] = {"metric": metric.name}
        if metric.team_id != outcome_team_id:
            ref["team"] = team_name[metric.team_id]
        return ref

    def outcome_order(o: Outcome) -> tuple[Any, ...]:
        team = team_name.get(o.team_id) if o.team_id else None
        return (pis[o.pi_id].name, team is not None, team or "", o.position, o.key)

    doc["outcomes"] = []
    for o in sorted(outcomes.values(), key=outcome_order):
        record: dict[str, Any] = {
            "pi": pis[o.pi_id].name,
            "key": o.key,
            "team": team_name[o.team_id] if o.team_id else None,
            "title": o.title,
            "why": o.why,
            "owner": o.owner,
            "committed": bool(o.committed),
            "planned_bv": o.planned_bv,
            "actual_bv": o.actual_bv,
            "parent": outcomes[o.parent_id].key if o.parent_id else None,
            "status": o.status,
            "targets": [],
            "hypotheses": [],
        }
        for t in sorted(targets[o.id], key=lambda t: (t.position, metrics[t.metric_id].name)):
            ref = metric_ref(t.metric_id, o.team_id)
            record["targets"].append(
                {
                    "metric": ref["metric"],
                    **({"team": ref["team"]} if "team" in ref else {}),
                    "baseline": t.baseline,
                    "baseline_date": _iso(t.baseline_date),
                    "target": t.target,
                    "target_date": _iso(t.target_date),
                    "kind": t.kind,
                    "band_low": t.band_low,
                    "band_high": t.band_high,
                    **({"archived": True} if t.archived else {}),
                }
            )
        for h in sorted(hypotheses[o.id], key=lambda h: (h.position, h.id)):
            ref = metric_ref(h.metric_id, o.team_id)
            release = releases.get(h.release_id) if h.release_id else None
            hyp: dict[str, Any] = {
                "metric": ref["metric"],
                **({"team": ref["team"]} if "team" in ref else {}),
                "if": h.if_text,
                "expect": h.expect_text,
                "because": h.because_text,
                "direction": h.direction,
                "min_effect": h.min_effect,
                "min_effect_unit": h.min_effect_unit,
                "release": release.name if release else None,
            }
            hyp.update(
                {
                    "window_days": h.window_days,
                    "override": h.override,
                    "override_reason": h.override_reason,
                    "learning": h.learning,
                    "decision": h.decision,
                    **({"archived": True} if h.archived else {}),
                }
            )
            record["hypotheses"].append(hyp)
        doc["outcomes"].append(record)

    # Readings can run to millions: fetch plain rows in (metric, date) order and emit
    # them metric by metric in natural-key order, instead of sorting every row in Python.
    by_metric: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = session.execute(
        select(Reading.metric_id, Reading.date, Reading.value, Reading.note, Reading.source)
        .order_by(Reading.metric_id, Reading.date)
        .execution_options(yield_per=10_000)
    )
    for metric_id, day, value, note, source in rows:
        metric = metrics[metric_id]
        by_metric[metric_id].append(
            {
                "team": team_name[metric.team_id],
                "metric": metric.name,
                "date": day.isoformat(),
                "value": value,
                "note": note,
                "source": source,
            }
        )
    doc["readings"] = [row for m in metric_order for row in by_metric.get(m.id, [])]

    checkins = sorted(
        session.scalars(select(CheckIn)),
        key=lambda c: (
            pis[outcomes[c.outcome_id].pi_id].name,
            outcomes[c.outcome_id].key,
            c.date,
            c.id,
        ),
    )
    doc["checkins"] = [
        {
            "pi": pis[outcomes[c.outcome_id].pi_id].name,
            "outcome": outcomes[c.outcome_id].key,
            "date": _iso(c.date),
            "confidence": c.confidence,
            "comment": c.comment,
            "by": c.by,
        }
        for c in checkins
    ]
    _export_iterations(session, doc, pis, outcomes, metrics, team_name)
    return doc


def _export_iterations(
    session: Session,
    doc: dict[str, Any],
    pis: Mapping[int, PI],
    outcomes: Mapping[int, Outcome],
    metrics: Mapping[int, Metric],
    team_name: Mapping[int, str],
) -> None:
    """The optional `iterations` and `iteration_goals` sections, written only when the
    workspace has any: a document without them round-trips unchanged."""
    iterations = {i.id: i for i in session.scalars(select(Iteration))}
    order = sorted(iterations.values(), key=lambda i: (pis[i.pi_id].name, i.start_date, i.name))
    if order:
        doc["iterations"] = [
            {
                "pi": pis[i.pi_id].name,
                "name": i.name,
                "start": _iso(i.start_date),
                "end": _iso(i.end_date),
            }
            for i in order
        ]
    rank = {i.id: n for n, i in enumerate(order)}
    goals = sorted(
        session.scalars(select(IterationGoal)),
        key=lambda g: (rank[g.iteration_id], team_name[g.team_id]),
    )
    if goals:
        doc["iteration_goals"] = [
            {
                "pi": pis[iterations[g.iteration_id].pi_id].name,
                "iteration": iterations[g.iteration_id].name,
                "team": team_name[g.team_id],
                "goal": g.goal,
                "outcome": outcomes[g.outcome_id].key,
                "metric": metrics[g.metric_id].name if g.metric_id else None,
                "met": g.met,
            }
            for g in goals
        ]


# ---------------------------------------------------------------- validation


def _length(column: Any) -> int:
    return getattr(column.type, "length", None) or FREE_TEXT


def _import_source_specs(
    session: Session, planned: list[dict[str, Any]], metrics: Mapping[tuple[str, str], Metric]
) -> None:
    """Metrics whose record carries a `source_spec` get that source (created or changed);
    a record without one leaves a stored source alone, as documents from before sources."""
    wanted = {
        metrics[(c["team"], c["name"])].id: c["source_spec"]
        for c in planned
        if c.get("source_spec") is not None
    }
    if not wanted:
        return
    stored = {
        s.metric_id: s
        for s in session.scalars(select(MetricSource).where(MetricSource.metric_id.in_(wanted)))
    }
    for metric_id, spec in wanted.items():
        source = stored.get(metric_id)
        if source is None:
            session.add(
                MetricSource(metric_id=metric_id, kind=spec.kind, spec=spec.dumps(), last_error="")
            )
        elif source.spec != spec.dumps():
            source.kind, source.spec = spec.kind, spec.dumps()


class _Record:
    """Reads one record's fields, adding a Problem (named like
    `outcomes[3] (PI 26.4/CHK-1).targets[0].baseline`) for each bad one. Absent and null
    fields mean their defaults."""

    def __init__(
        self, raw: object, where: str, kind: str, problems: list[Problem], label: str = ""
    ) -> None:
        self.where = f"{where} ({label})" if label else where
        self.problems = problems
        self.ok = True
        if not isinstance(raw, dict):
            self.raw: dict[str, Any] = {}
            self.fail("", "must be an object with fields")
            return
        self.raw = raw
        for name in raw:
            if name not in FIELDS[kind]:
                self.fail(f".{name}", f"unknown field (expected {', '.join(FIELDS[kind])})")

    def fail(self, suffix: str, message: str) -> None:
        self.problems.append(Problem(f"{self.where}{suffix}", message))
        self.ok = False

    def present(self, name: str) -> bool:
        return self.raw.get(name) is not None

    def text(
        self,
        name: str,
        *,
        required: bool = False,
        max_length: int = FREE_TEXT,
        name_like: bool = False,
    ) -> str | None:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.fail(f".{name}", "is required")
            return None if required else ""
        if not isinstance(value, str):
            self.fail(f".{name}", "must be text")
            return None
        if name_like:
            value = value.strip()  # names and keys; free text is kept as written
            if required and not value:
                self.fail(f".{name}", "must not be blank")
                return None
        if len(value) > max_length:
            self.fail(f".{name}", f"is too long ({len(value)} characters, at most {max_length})")
            return None
        why = unstorable(value)
        if why:
            self.fail(f".{name}", why)
            return None
        return value

    def optional_name(self, name: str, max_length: int = FREE_TEXT) -> str | None:
        """A reference that may be null (e.g. a train-level outcome's team)."""
        if self.raw.get(name) is None:
            return None
        return self.text(name, required=True, max_length=max_length, name_like=True)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(f".{name}", "must be true or false")
            return default
        return value

    def number(self, name: str, *, required: bool = False) -> float | None:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.fail(f".{name}", "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f".{name}", "must be a number")
            return None
        if abs(value) > 1e308 or not math.isfinite(value):  # in this order: 10**400 is an int
            self.fail(f".{name}", "must be a finite number")
            return None
        return float(value)

    def integer(
        self, name: str, *, low: int, high: int, default: int | None, required: bool = False
    ) -> int | None:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.fail(f".{name}", "is required")
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (isinstance(value, float) and not value.is_integer())  # NaN and inf too
        ):
            self.fail(f".{name}", "must be a whole number")
            return None
        if not low <= value <= high:
            self.fail(f".{name}", f"must be between {low} and {high}")
            return None
        return int(value)

    def date(self, name: str, *, required: bool = False) -> dt.date | None:
        value = self.raw.get(name)
        if value is None:
            if required:
                self.fail(f".{name}", "is required (YYYY-MM-DD)")
            return None
        if isinstance(value, str) and DATE_PATTERN.match(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(f".{name}", f"{json_repr(value)} is not a date (use YYYY-MM-DD)")
        return None

    def choice(self, name: str, options: Iterable[str], default: str | None) -> str | None:
        value = self.raw.get(name)
        if value is None:
            return default
        options = tuple(options)
        if value not in options:
            self.fail(f".{name}", f"{json_repr(value)} is not one of {', '.join(options)}")
            return default
        return str(value)


def json_repr(value: object) -> str:
    return f"“{value}”" if isinstance(value, str) else repr(value)


def _label(raw: object, *names: str) -> str:
    """The natural key of a raw record, as far as it can be read, for error locations."""
    if not isinstance(raw, dict):
        return ""
    parts = [str(raw.get(n)).strip() for n in names if isinstance(raw.get(n), str | int)]
    return "/".join(p for p in parts if p)


@dataclass
class _Plan:
    """A validated document: clean records with natural keys, ready to write."""

    trains: list[dict[str, Any]] = field(default_factory=list)
    teams: list[dict[str, Any]] = field(default_factory=list)
    pis: list[dict[str, Any]] = field(default_factory=list)
    metrics: list[dict[str, Any]] = field(default_factory=list)
    releases: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    readings: list[dict[str, Any]] = field(default_factory=list)
    checkins: list[dict[str, Any]] = field(default_factory=list)
    iterations: list[dict[str, Any]] = field(default_factory=list)
    iteration_goals: list[dict[str, Any]] = field(default_factory=list)
    # Natural keys of records that are themselves bad: references to them are not
    # reported again (the record's own problems say what is wrong).
    broken: dict[str, set[Any]] = field(default_factory=lambda: defaultdict(set))


@dataclass
class _Existing:
    """The natural keys already stored, so a document may refer to them (merge)."""

    trains: dict[str, Train]
    teams: dict[str, Team]
    pis: dict[str, PI]
    metrics: dict[tuple[str, str], Metric]
    releases: dict[tuple[str, str], Release]
    outcomes: dict[tuple[str, str], Outcome]
    iterations: dict[tuple[str, str], Iteration]

    @classmethod
    def load(cls, session: Session) -> _Existing:
        trains = {t.name: t for t in session.scalars(select(Train))}
        teams = {t.name: t for t in session.scalars(select(Team))}
        team_name = {t.id: t.name for t in teams.values()}
        pis = {p.name: p for p in session.scalars(select(PI))}
        pi_name = {p.id: p.name for p in pis.values()}
        return cls(
            trains=trains,
            teams=teams,
            pis=pis,
            metrics={(team_name[m.team_id], m.name): m for m in session.scalars(select(Metric))},
            releases={(team_name[r.team_id], r.name): r for r in session.scalars(select(Release))},
            outcomes={(pi_name[o.pi_id], o.key): o for o in session.scalars(select(Outcome))},
            iterations={(pi_name[i.pi_id], i.name): i for i in session.scalars(select(Iteration))},
        )


def _section(document: Mapping[str, Any], name: str, problems: list[Problem]) -> list[Any]:
    value = document.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(Problem(name, "must be a list"))
        return []
    return value


def _unique(
    records: list[dict[str, Any]],
    fields: tuple[str, ...],
    section: str,
    problems: list[Problem],
) -> None:
    """Report a record whose natural key repeats an earlier one, at its last key field."""
    seen: dict[tuple[Any, ...], int] = {}
    for record in records:
        key = tuple(record[f] for f in fields)
        if key in seen:
            what = ", ".join(fields)
            problems.append(
                Problem(
                    f"{record['_where']}.{fields[-1]}",
                    f"repeats {section}[{seen[key]}] (the same {what}; must be unique)",
                )
            )
        else:
            seen[key] = record["_index"]


def _parse(document: Mapping[str, Any], problems: list[Problem]) -> _Plan:
    """Types, required fields, ranges and per-record rules; references come later."""
    plan = _Plan()
    for name in document:
        if name != "format" and name not in SECTIONS:
            where = name if name.strip() else json.dumps(name)  # a blank name, quoted
            problems.append(Problem(where, f"unknown section (expected {', '.join(SECTIONS)})"))

    def each(section: str, *label_fields: str) -> Iterable[tuple[_Record, dict[str, Any]]]:
        for i, raw in enumerate(_section(document, section, problems)):
            where = f"{section}[{i}]"
            r = _Record(raw, where, section, problems, _label(raw, *label_fields))
            clean: dict[str, Any] = {"_index": i, "_where": r.where}
            yield r, clean
            # The caller's loop body has run: remember the key of a bad record.
            key = tuple(clean.get(name) for name in NATURAL_KEYS.get(section, ()))
            if not r.ok and key and None not in key:
                plan.broken[section].add(key[0] if len(key) == 1 else key)

    for r, c in each("trains", "name"):
        c["name"] = r.text(
            "name", required=True, max_length=declared.TRAIN.max_length("name"), name_like=True
        )
        c["archived"] = r.boolean("archived", False)
        if r.ok:
            plan.trains.append(c)

    for r, c in each("teams", "name"):
        c["name"] = r.text(
            "name", required=True, max_length=declared.TEAM.max_length("name"), name_like=True
        )
        c["key"] = r.text(
            "key", required=True, max_length=declared.TEAM.max_length("key"), name_like=True
        )
        if c["key"]:
            c["key"] = c["key"].upper()  # as the write path stores team keys
        if c["key"] and not KEY_PATTERN.match(c["key"]):
            r.fail(
                ".key", "use letters, digits, - or _ (at most 20, starting with a letter or digit)"
            )
        c["train"] = r.optional_name("train")
        c["active"] = r.boolean("active", True)
        if r.ok:
            plan.teams.append(c)

    for r, c in each("pis", "name"):
        c["name"] = r.text(
            "name", required=True, max_length=declared.PI.max_length("name"), name_like=True
        )
        c["train"] = r.optional_name("train")
        c["start"] = r.date("start", required=True)
        c["end"] = r.date("end", required=True)
        if c["start"] and c["end"] and c["end"] <= c["start"]:
            r.fail(".end", "must be after the start")
        if r.ok:
            plan.pis.append(c)

    for r, c in each("metrics", "team", "name"):
        c["team"] = r.text("team", required=True, name_like=True)
        c["name"] = r.text(
            "name", required=True, max_length=declared.METRIC.max_length("name"), name_like=True
        )
        c["unit"] = r.text("unit", max_length=declared.METRIC.max_length("unit"), name_like=True)
        c["description"] = r.text(
            "description", max_length=declared.METRIC.max_length("description")
        )
        c["source"] = r.text("source", max_length=declared.METRIC.max_length("source"))
        c["update_interval_days"] = r.integer(
            "update_interval_days", **declared.METRIC.bounds("update_interval_days"), default=14
        )
        c["decimals"] = r.integer("decimals", **declared.METRIC.bounds("decimals"), default=1)
        c["leading"] = r.boolean("leading", False)
        c["archived"] = r.boolean("archived", False)
        c["source_spec"] = None
        if r.present("source_spec"):
            try:
                c["source_spec"] = parse_spec(r.raw["source_spec"], "")
            except ValidationError as error:
                for problem in error.problems:
                    r.fail(f".source_spec{problem.where}", problem.message)
        if r.ok:
            plan.metrics.append(c)

    for r, c in each("releases", "team", "name"):
        c["team"] = r.text("team", required=True, name_like=True)
        c["name"] = r.text(
            "name", required=True, max_length=declared.RELEASE.max_length("name"), name_like=True
        )
        c["date"] = r.date("date", required=True)
        c["notes"] = r.text("notes", max_length=declared.RELEASE.max_length("notes"))
        c["link"] = r.text("link", max_length=declared.RELEASE.max_length("link"))
        if c["link"] and not re.match(r"^https?://", c["link"], re.IGNORECASE):
            r.fail(".link", "must start with http:// or https://")
        c["archived"] = r.boolean("archived", False)
        if r.ok:
            plan.releases.append(c)

    for r, c in each("outcomes", "pi", "key"):
        c["pi"] = r.text("pi", required=True, name_like=True)
        c["key"] = r.text(
            "key", required=True, max_length=declared.OUTCOME.max_length("key"), name_like=True
        )
        if c["key"] and not OUTCOME_KEY_PATTERN.match(c["key"]):
            r.fail(".key", "use letters, digits, ., - or _ (starting with a letter or digit)")
        c["team"] = r.optional_name("team")
        c["title"] = r.text(
            "title", required=True, max_length=declared.OUTCOME.max_length("title"), name_like=True
        )
        c["why"] = r.text("why", max_length=declared.OUTCOME.max_length("why"))
        c["owner"] = r.text("owner", max_length=declared.OUTCOME.max_length("owner"))
        c["committed"] = r.boolean("committed", True)
        c["planned_bv"] = r.integer(
            "planned_bv", **declared.OUTCOME.bounds("planned_bv"), default=None
        )
        c["actual_bv"] = r.integer(
            "actual_bv", low=declared.ACTUAL_BV.low, high=declared.ACTUAL_BV.high, default=None
        )
        c["parent"] = r.optional_name("parent")
        if c["parent"] is not None and c["parent"] == c["key"]:
            r.fail(".parent", "an outcome cannot be its own parent")
        c["status"] = r.choice("status", OUTCOME_STATUSES, "draft")
        c["targets"] = _parse_targets(r, problems)
        c["hypotheses"] = _parse_hypotheses(r, c["targets"] or [], problems)
        if r.ok and c["targets"] is not None and c["hypotheses"] is not None:
            plan.outcomes.append(c)

    for i, raw in enumerate(_section(document, "readings", problems)):
        # Readings run to millions: take a well-formed one on a fast path, and let the
        # general reader below name the problems of any other.
        reading = _plain_reading(raw, i)
        if reading is not None:
            plan.readings.append(reading)
            continue
        where = f"readings[{i}]"
        r = _Record(raw, where, "readings", problems, _label(raw, "team", "metric", "date"))
        c = {"_index": i, "_where": r.where}
        c["team"] = r.text("team", required=True, name_like=True)
        c["metric"] = r.text("metric", required=True, name_like=True)
        c["date"] = r.date("date", required=True)
        c["value"] = r.number("value", required=True)
        c["note"] = r.text("note")
        c["source"] = r.choice("source", READING_SOURCES, DEFAULT_READING_SOURCE)
        if r.ok:
            plan.readings.append(c)

    for r, c in each("checkins", "pi", "outcome", "date"):
        c["pi"] = r.text("pi", required=True, name_like=True)
        c["outcome"] = r.text("outcome", required=True, name_like=True)
        c["date"] = r.date("date", required=True)
        c["confidence"] = r.integer(
            "confidence", **declared.CHECKIN.bounds("confidence"), default=None, required=True
        )
        c["comment"] = r.text("comment", max_length=declared.CHECKIN.max_length("comment"))
        c["by"] = r.text("by", max_length=declared.CHECKIN.max_length("by"))
        if r.ok:
            plan.checkins.append(c)

    for r, c in each("iterations", "pi", "name"):
        c["pi"] = r.text("pi", required=True, name_like=True)
        c["name"] = r.text(
            "name", required=True, max_length=_length(Iteration.name), name_like=True
        )
        c["start"] = r.date("start", required=True)
        c["end"] = r.date("end", required=True)
        if c["start"] and c["end"] and c["end"] < c["start"]:
            r.fail(".end", "must not be before the start")
        if r.ok:
            plan.iterations.append(c)

    for r, c in each("iteration_goals", "pi", "iteration", "team"):
        c["pi"] = r.text("pi", required=True, name_like=True)
        c["iteration"] = r.text("iteration", required=True, name_like=True)
        c["team"] = r.text("team", required=True, name_like=True)
        c["goal"] = r.text("goal", required=True, max_length=GOAL_MAX_LENGTH, name_like=True)
        c["outcome"] = r.text("outcome", required=True, name_like=True)
        c["metric"] = r.optional_name("metric")
        met = r.raw.get("met")
        if isinstance(met, bool) or met is None:
            c["met"] = met
        elif isinstance(met, str) and met in MET_VALUES:
            c["met"] = MET_VALUES[met]
        else:
            r.fail(".met", f"{json_repr(met)} is not one of true, false, null (yes, no, unknown)")
        if r.ok:
            plan.iteration_goals.append(c)
    return plan


_READING_FIELDS = frozenset(FIELDS["readings"])
_SOURCES = frozenset(READING_SOURCES)


def _plain_reading(raw: object, index: int) -> dict[str, Any] | None:
    """A reading with nothing to report, cleaned as `_Record` would; else None."""
    if not isinstance(raw, dict) or not _READING_FIELDS.issuperset(raw):
        return None
    team, metric, day, value = raw.get("team"), raw.get("metric"), raw.get("date"), raw.get("value")
    note, source = raw.get("note") or "", raw.get("source") or DEFAULT_READING_SOURCE
    if not (
        isinstance(team, str)
        and isinstance(metric, str)
        and isinstance(day, str)
        and isinstance(note, str)
        and source in _SOURCES
        and type(value) in (int, float)
        and DATE_PATTERN.match(day)
        and len(note) <= FREE_TEXT
        and abs(value) <= 1e308  # before isfinite: 10**400 is an int isfinite cannot take
        and math.isfinite(value)
        and not unstorable(note)
    ):
        return None
    team, metric = team.strip(), metric.strip()
    if not team or not metric:
        return None
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        return None
    return {
        "_index": index,
        "_where": f"readings[{index}] ({team}/{metric}/{day})",
        "team": team,
        "metric": metric,
        "date": date,
        "value": float(value),
        "note": note,
        "source": source,
    }


def _children(outcome: _Record, name: str) -> list[Any] | None:
    value = outcome.raw.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        outcome.fail(f".{name}", "must be a list")
        return None
    return value


def _parse_targets(outcome: _Record, problems: list[Problem]) -> list[dict[str, Any]] | None:
    raws = _children(outcome, "targets")
    if raws is None:
        return None
    clean: list[dict[str, Any]] = []
    ok = True
    for i, raw in enumerate(raws):
        r = _Record(raw, f"{outcome.where}.targets[{i}]", "targets", problems)
        c: dict[str, Any] = {"_where": r.where, "_index": i}
        c["metric"] = r.text("metric", required=True, name_like=True)
        c["team"] = r.optional_name("team")
        c["baseline"] = r.number("baseline")
        c["baseline_date"] = r.date("baseline_date")
        c["target"] = r.number("target")
        c["target_date"] = r.date("target_date")
        c["band_low"] = r.number("band_low")
        c["band_high"] = r.number("band_high")
        kind = r.choice("kind", TARGET_KINDS, None)
        c["archived"] = r.boolean("archived", False)
        if r.ok:
            if kind is None and c["baseline"] is not None and c["target"] is not None:
                if c["baseline"] == c["target"]:
                    kind = "increase"  # reported below as "must differ from the baseline"
                else:
                    kind = "increase" if c["target"] > c["baseline"] else "decrease"
            c["kind"] = kind
            if kind != "maintain":  # as the write path: a band only means something there
                c["band_low"] = c["band_high"] = None
            for problem in target_problems(
                kind=kind,
                baseline=c["baseline"],
                target=c["target"],
                band_low=c["band_low"],
                band_high=c["band_high"],
                baseline_date=c["baseline_date"],
                target_date=c["target_date"],
            ):
                r.fail(f".{problem.where}", problem.message)
        ok = ok and r.ok
        clean.append(c)
    if not ok:
        outcome.ok = False
    return clean


def _parse_hypotheses(
    outcome: _Record, targets: list[dict[str, Any]], problems: list[Problem]
) -> list[dict[str, Any]] | None:
    raws = _children(outcome, "hypotheses")
    if raws is None:
        return None
    target_kinds = {(t.get("team"), t.get("metric")): t.get("kind") for t in targets}
    clean: list[dict[str, Any]] = []
    ok = True
    for i, raw in enumerate(raws):
        r = _Record(raw, f"{outcome.where}.hypotheses[{i}]", "hypotheses", problems)
        c: dict[str, Any] = {"_where": r.where, "_index": i}
        c["metric"] = r.text("metric", required=True, name_like=True)
        c["team"] = r.optional_name("team")
        c["if"] = r.text("if", required=True, max_length=declared.HYPOTHESIS.max_length("if_text"))
        if c["if"] is not None and not c["if"].strip():
            r.fail(".if", "must not be blank")
        c["expect"] = r.text(
            "expect", required=True, max_length=declared.HYPOTHESIS.max_length("expect_text")
        )
        if c["expect"] is not None and not c["expect"].strip():
            r.fail(".expect", "must not be blank")
        c["because"] = r.text("because", max_length=declared.HYPOTHESIS.max_length("because_text"))
        direction = r.choice("direction", DIRECTIONS, None)
        if direction is None and r.ok and not r.present("direction"):
            # Not written: the direction of this outcome's target on the same metric.
            inferred = target_kinds.get((c["team"], c["metric"]))
            if inferred in DIRECTIONS:
                direction = inferred
            else:
                r.fail(".direction", "is required (increase or decrease)")
        c["direction"] = direction
        c["min_effect"] = r.number("min_effect")
        if c["min_effect"] is None:
            c["min_effect"] = 0.0
        elif c["min_effect"] < 0:
            r.fail(".min_effect", "must not be negative")
        c["min_effect_unit"] = r.choice("min_effect_unit", EFFECT_UNITS, "absolute")
        c["release"] = r.optional_name("release")
        c["window_days"] = r.integer(
            "window_days", **declared.HYPOTHESIS.bounds("window_days"), default=28
        )
        c["override"] = r.choice("override", VERDICTS, None)
        c["override_reason"] = (
            r.text("override_reason", max_length=declared.OVERRIDE_REASON.max_length or 0)
            if r.present("override_reason")
            else None
        )
        c["learning"] = r.text("learning", max_length=declared.HYPOTHESIS.max_length("learning"))
        c["decision"] = r.choice("decision", DECISIONS, None)
        c["archived"] = r.boolean("archived", False)
        ok = ok and r.ok
        clean.append(c)
    if not ok:
        outcome.ok = False
    return clean


def _check_references(plan: _Plan, existing: _Existing, problems: list[Problem]) -> None:
    """Uniqueness inside the document and references to the document or the database."""
    _unique(plan.trains, ("name",), "trains", problems)
    _unique(plan.teams, ("name",), "teams", problems)
    _unique(plan.teams, ("key",), "teams", problems)
    _unique(plan.pis, ("name",), "pis", problems)
    _unique(plan.metrics, ("team", "name"), "metrics", problems)
    _unique(plan.releases, ("team", "name"), "releases", problems)
    _unique(plan.outcomes, ("pi", "key"), "outcomes", problems)
    _unique(plan.readings, ("team", "metric", "date"), "readings", problems)

    broken = plan.broken
    trains = {*existing.trains, *(t["name"] for t in plan.trains), *broken["trains"]}
    teams = {*existing.teams, *(t["name"] for t in plan.teams), *broken["teams"]}
    metrics = {
        *existing.metrics,
        *((m["team"], m["name"]) for m in plan.metrics),
        *broken["metrics"],
    }
    releases = {
        *existing.releases,
        *((r["team"], r["name"]) for r in plan.releases),
        *broken["releases"],
    }
    outcomes = {
        *existing.outcomes,
        *((o["pi"], o["key"]) for o in plan.outcomes),
        *broken["outcomes"],
    }
    pis = {*existing.pis, *(p["name"] for p in plan.pis), *broken["pis"]}

    def need(ok: bool, where: str, message: str) -> None:
        if not ok:
            problems.append(Problem(where, message))

    # A team key belongs to one team, across the document and the teams it leaves alone.
    doc_team_names = {t["name"] for t in plan.teams}
    stored_keys = {t.key: name for name, t in existing.teams.items() if name not in doc_team_names}
    for team in plan.teams:
        need(
            team["train"] is None or team["train"] in trains,
            f"{team['_where']}.train",
            f"no train named “{team['train']}”",
        )
        other = stored_keys.get(team["key"])
        need(
            other is None,
            f"{team['_where']}.key",
            f"“{team['key']}” is already the key of team “{other}”",
        )

    for pi in plan.pis:
        need(
            pi["train"] is None or pi["train"] in trains,
            f"{pi['_where']}.train",
            f"no train named “{pi['train']}”",
        )
    _check_overlaps(plan, existing, problems)

    for record in (*plan.metrics, *plan.releases):
        need(
            record["team"] in teams, f"{record['_where']}.team", f"no team named “{record['team']}”"
        )

    # The team of every outcome and the end of every PI the document may refer to.
    team_name = {t.id: name for name, t in existing.teams.items()}
    outcome_team: dict[tuple[str, str], str | None] = {
        key: team_name.get(o.team_id) if o.team_id else None for key, o in existing.outcomes.items()
    }
    outcome_team.update({(o["pi"], o["key"]): o["team"] for o in plan.outcomes})
    pi_end = {name: p.end_date for name, p in existing.pis.items()}
    pi_end.update({p["name"]: p["end"] for p in plan.pis})

    for o in plan.outcomes:
        where = o["_where"]
        need(o["pi"] in pis, f"{where}.pi", f"no PI named “{o['pi']}”")
        need(
            o["team"] is None or o["team"] in teams, f"{where}.team", f"no team named “{o['team']}”"
        )
        parent = (o["pi"], o["parent"])
        if o["parent"] is None:
            pass
        elif parent not in outcomes:
            problems.append(Problem(f"{where}.parent", f"no outcome “{o['parent']}” in {o['pi']}"))
        elif o["team"] is None:
            problems.append(
                Problem(f"{where}.parent", "only a team outcome can contribute to a train outcome")
            )
        elif outcome_team.get(parent) is not None:
            problems.append(
                Problem(f"{where}.parent", "must be a train-level outcome (one without a team)")
            )
        _check_children(o, metrics, releases, pi_end.get(o["pi"]), problems)

    for reading in plan.readings:
        need(
            (reading["team"], reading["metric"]) in metrics,
            f"{reading['_where']}.metric",
            f"no metric “{reading['metric']}” in team “{reading['team']}”",
        )
    for checkin in plan.checkins:
        need(
            (checkin["pi"], checkin["outcome"]) in outcomes,
            f"{checkin['_where']}.outcome",
            f"no outcome “{checkin['outcome']}” in PI “{checkin['pi']}”",
        )
    _check_iterations(plan, existing, pis, problems)
    _check_goals(plan, existing, teams, metrics, outcomes, outcome_team, problems)


def _check_iterations(
    plan: _Plan, existing: _Existing, pis: set[str], problems: list[Problem]
) -> None:
    """Each iteration of the document names a PI, lies inside it and overlaps no other
    iteration of that PI (the document's and the stored ones it leaves alone)."""
    _unique(plan.iterations, ("pi", "name"), "iterations", problems)
    dates = {name: (p.start_date, p.end_date) for name, p in existing.pis.items()}
    dates.update({p["name"]: (p["start"], p["end"]) for p in plan.pis})
    effective: dict[tuple[str, str], IterationSpan] = {
        key: IterationSpan(i.name, i.start_date, i.end_date)
        for key, i in existing.iterations.items()
    }
    effective.update(
        {
            (i["pi"], i["name"]): IterationSpan(i["name"], i["start"], i["end"])
            for i in plan.iterations
        }
    )
    in_document = {(i["pi"], i["name"]) for i in plan.iterations}
    for iteration in plan.iterations:
        where = iteration["_where"]
        if iteration["pi"] not in pis:
            problems.append(Problem(f"{where}.pi", f"no PI named “{iteration['pi']}”"))
            continue
        if iteration["pi"] not in dates:
            continue  # a broken PI record: its own problems say what is wrong
        start, end = dates[iteration["pi"]]
        span = effective[(iteration["pi"], iteration["name"])]
        # Two of the document's iterations that overlap: the later one is reported.
        others = [
            other
            for (pi, name), other in effective.items()
            if pi == iteration["pi"]
            and name != iteration["name"]
            and not ((pi, name) in in_document and other.start > span.start)
        ]
        for problem in iteration_problems(span, pi_start=start, pi_end=end, others=others):
            field_name = "start" if problem.where == "start_date" else "end"
            problems.append(Problem(f"{where}.{field_name}", problem.message))


def _check_goals(
    plan: _Plan,
    existing: _Existing,
    teams: set[str],
    metrics: set[tuple[str, str]],
    outcomes: set[tuple[str, str]],
    outcome_team: Mapping[tuple[str, str], str | None],
    problems: list[Problem],
) -> None:
    """A goal names an iteration of its PI, a team, one of that team's outcomes in the
    PI and optionally one of the team's metrics; one goal per team per iteration."""
    _unique(plan.iteration_goals, ("pi", "iteration", "team"), "iteration_goals", problems)
    iterations = {
        *existing.iterations,
        *((i["pi"], i["name"]) for i in plan.iterations),
        *plan.broken["iterations"],
    }
    for goal in plan.iteration_goals:
        where = goal["_where"]
        if (goal["pi"], goal["iteration"]) not in iterations:
            problems.append(
                Problem(
                    f"{where}.iteration", f"no iteration “{goal['iteration']}” in “{goal['pi']}”"
                )
            )
        if goal["team"] not in teams:
            problems.append(Problem(f"{where}.team", f"no team named “{goal['team']}”"))
            continue
        key = (goal["pi"], goal["outcome"])
        if key not in outcomes:
            problems.append(
                Problem(f"{where}.outcome", f"no outcome “{goal['outcome']}” in “{goal['pi']}”")
            )
        elif key in outcome_team and outcome_team[key] != goal["team"]:
            problems.append(Problem(f"{where}.outcome", "must be an outcome of the goal's team"))
        if goal["metric"] is not None and (goal["team"], goal["metric"]) not in metrics:
            problems.append(
                Problem(f"{where}.metric", f"no metric “{goal['metric']}” in team “{goal['team']}”")
            )


def _check_children(
    o: dict[str, Any],
    metrics: set[tuple[str, str]],
    releases: set[tuple[str, str]],
    pi_end: dt.date | None,
    problems: list[Problem],
) -> None:
    seen: dict[tuple[str, str], int] = {}
    for kind, children in (("target", o["targets"]), ("hypothesis", o["hypotheses"])):
        for child in children:
            where = child["_where"]
            if o["team"] is None and child["team"] is None:
                problems.append(
                    Problem(
                        f"{where}.team",
                        f"a train-level outcome's {kind} must name the team that owns its metric",
                    )
                )
                continue
            if o["team"] is not None and child["team"] not in (None, o["team"]):
                problems.append(
                    Problem(f"{where}.team", "must be the outcome's team (or left out)")
                )
                continue
            owner = child["team"] or o["team"]
            if (owner, child["metric"]) not in metrics:
                problems.append(
                    Problem(f"{where}.metric", f"no metric “{child['metric']}” in team “{owner}”")
                )
            if kind == "target":
                key = (owner, child["metric"])
                if key in seen:
                    problems.append(
                        Problem(
                            f"{where}.metric",
                            f"repeats targets[{seen[key]}] (one target per metric)",
                        )
                    )
                seen.setdefault(key, child["_index"])
                if (
                    child["target_date"] is None
                    and child["baseline_date"] is not None
                    and pi_end is not None
                    and pi_end <= child["baseline_date"]
                ):
                    problems.append(
                        Problem(
                            f"{where}.target_date",
                            "defaults to the PI's end, which is not after the baseline date",
                        )
                    )
            elif child["release"] is not None and (owner, child["release"]) not in releases:
                problems.append(
                    Problem(
                        f"{where}.release",
                        f"no release “{child['release']}” in team “{owner}” (the metric's team)",
                    )
                )


def _check_overlaps(plan: _Plan, existing: _Existing, problems: list[Problem]) -> None:
    """PIs may not overlap within a train (both dates belong to the PI). Only pairs that
    involve a PI of the document are reported."""
    train_name = {t.id: name for name, t in existing.trains.items()}
    effective: dict[str, tuple[str | None, dt.date, dt.date, str | None]] = {
        name: (train_name.get(p.train_id) if p.train_id else None, p.start_date, p.end_date, None)
        for name, p in existing.pis.items()
    }
    for pi in plan.pis:
        effective[pi["name"]] = (pi["train"], pi["start"], pi["end"], pi["_where"])
    by_train: dict[str | None, list[tuple[dt.date, dt.date, str, str | None]]] = defaultdict(list)
    for name, (train, start, end, where) in effective.items():
        by_train[train].append((start, end, name, where))
    for periods in by_train.values():
        periods.sort()
        for i, (_, end_a, name_a, where_a) in enumerate(periods):
            for start_b, _, name_b, where_b in periods[i + 1 :]:
                if start_b > end_a:
                    break
                if where_b is not None:
                    problems.append(
                        Problem(f"{where_b}.start", f"overlaps PI “{name_a}” in the same train")
                    )
                elif where_a is not None:
                    problems.append(
                        Problem(f"{where_a}.end", f"overlaps PI “{name_b}” in the same train")
                    )


def validate_workspace(session: Session, *, document: object) -> None:
    """Check the whole document against itself and the stored workspace; raises one
    ValidationError naming every bad record. Writes nothing."""
    _validate(session, document)


def _validate(session: Session, document: object) -> tuple[_Plan, _Existing]:
    problems: list[Problem] = []
    if not isinstance(document, dict):
        raise ValidationError(Problem("document", "must be a JSON object"))
    if document.get("format") != FORMAT:
        raise ValidationError(
            Problem("format", f"must be “{FORMAT}” (got {json_repr(document.get('format'))})")
        )
    plan = _parse(document, problems)
    existing = _Existing.load(session)
    _check_references(plan, existing, problems)
    if problems:
        raise ValidationError(problems)
    return plan, existing


# ---------------------------------------------------------------- import


class _Counter:
    def __init__(self) -> None:
        self.created: dict[str, int] = defaultdict(int)
        self.updated: dict[str, int] = defaultdict(int)
        self.unchanged: dict[str, int] = defaultdict(int)
        self.archived: dict[str, int] = defaultdict(int)

    def apply(self, kind: str, record: Any, values: Mapping[str, Any]) -> bool:
        """Set the values that differ on an existing record; True when any did."""
        changed = {k: v for k, v in values.items() if getattr(record, k) != v}
        for k, v in changed.items():
            setattr(record, k, v)
        (self.updated if changed else self.unchanged)[kind] += 1
        return bool(changed)

    def summary(self) -> ImportSummary:
        def nonzero(counts: dict[str, int]) -> dict[str, int]:
            return {kind: n for kind, n in counts.items() if n}

        return ImportSummary(
            nonzero(self.created),
            nonzero(self.updated),
            nonzero(self.unchanged),
            nonzero(self.archived),
        )


def write_workspace(
    session: Session, *, actor: Actor, document: object
) -> tuple[ImportSummary, dict[str, Any]]:
    """Validate and merge a document without a permission check or audit event: the
    callers (`import_workspace`, `db.backup.restore`) do both. Returns the summary and
    the stored values the merge overwrote (for the caller's audit event)."""
    plan, existing = _validate(session, document)
    count = _Counter()
    replaced: dict[str, list[Any]] = defaultdict(list)

    trains = dict(existing.trains)
    for c in plan.trains:
        values = {"archived": c["archived"]}
        if c["name"] in trains:
            count.apply("trains", trains[c["name"]], values)
        else:
            trains[c["name"]] = Train(name=c["name"], **values)
            session.add(trains[c["name"]])
            count.created["trains"] += 1
    session.flush()

    teams = dict(existing.teams)
    for c in plan.teams:
        values = {
            "key": c["key"],
            "train_id": trains[c["train"]].id if c["train"] else None,
            "active": c["active"],
        }
        if c["name"] in teams:
            count.apply("teams", teams[c["name"]], values)
        else:
            teams[c["name"]] = Team(name=c["name"], **values)
            session.add(teams[c["name"]])
            count.created["teams"] += 1
    session.flush()

    pis = dict(existing.pis)
    for c in plan.pis:
        values = {
            "train_id": trains[c["train"]].id if c["train"] else None,
            "start_date": c["start"],
            "end_date": c["end"],
        }
        if c["name"] in pis:
            count.apply("pis", pis[c["name"]], values)
        else:
            pis[c["name"]] = PI(name=c["name"], **values)
            session.add(pis[c["name"]])
            count.created["pis"] += 1
    session.flush()

    metrics = dict(existing.metrics)
    for c in plan.metrics:
        key = (c["team"], c["name"])
        values = {
            name: c[name]
            for name in (
                "unit",
                "description",
                "source",
                "update_interval_days",
                "decimals",
                "leading",
                "archived",
            )
        }
        if key in metrics:
            count.apply("metrics", metrics[key], values)
        else:
            metrics[key] = Metric(team_id=teams[c["team"]].id, name=c["name"], **values)
            session.add(metrics[key])
            count.created["metrics"] += 1
    session.flush()
    _import_source_specs(session, plan.metrics, metrics)

    releases = dict(existing.releases)
    for c in plan.releases:
        key = (c["team"], c["name"])
        values = {
            "date": c["date"],
            "notes": c["notes"],
            "link": c["link"],
            "archived": c["archived"],
        }
        if key in releases:
            count.apply("releases", releases[key], values)
        else:
            releases[key] = Release(team_id=teams[c["team"]].id, name=c["name"], **values)
            session.add(releases[key])
            count.created["releases"] += 1
    session.flush()

    outcomes = dict(existing.outcomes)
    positions: dict[tuple[str, str | None], int] = defaultdict(int)
    created_outcomes: set[tuple[str, str]] = set()
    changed_outcomes: set[tuple[str, str]] = set()
    for c in plan.outcomes:
        key = (c["pi"], c["key"])
        group = (c["pi"], c["team"])
        values = {
            "team_id": teams[c["team"]].id if c["team"] else None,
            "title": c["title"],
            "why": c["why"],
            "owner": c["owner"],
            "committed": c["committed"],
            "planned_bv": c["planned_bv"],
            "actual_bv": c["actual_bv"],
            "status": c["status"],
            "position": positions[group],
        }
        positions[group] += 1
        if key in outcomes:
            if count.apply("outcomes", outcomes[key], values):
                changed_outcomes.add(key)
        else:
            outcomes[key] = Outcome(pi_id=pis[c["pi"]].id, key=c["key"], **values)
            session.add(outcomes[key])
            created_outcomes.add(key)
            count.created["outcomes"] += 1
    session.flush()
    pi_names = {p.id: name for name, p in pis.items()}

    def key_of(outcome: Outcome) -> tuple[str, str]:
        return (pi_names[outcome.pi_id], outcome.key)

    stored_ids = sorted(outcomes[k].id for k in outcomes if k not in created_outcomes)
    stored_targets: dict[int, list[Target]] = defaultdict(list)
    stored_hypotheses: dict[int, list[Hypothesis]] = defaultdict(list)
    for start in range(0, len(stored_ids), 500):
        chunk = stored_ids[start : start + 500]
        for target in session.scalars(select(Target).where(Target.outcome_id.in_(chunk))):
            stored_targets[target.outcome_id].append(target)
        for hypothesis in session.scalars(
            select(Hypothesis)
            .where(Hypothesis.outcome_id.in_(chunk))
            .order_by(Hypothesis.position, Hypothesis.id)
        ):
            stored_hypotheses[hypothesis.outcome_id].append(hypothesis)

    for c in plan.outcomes:
        outcome = outcomes[(c["pi"], c["key"])]
        parent_id = outcomes[(c["pi"], c["parent"])].id if c["parent"] else None
        if outcome.parent_id != parent_id:
            outcome.parent_id = parent_id
            if key_of(outcome) not in created_outcomes and key_of(outcome) not in changed_outcomes:
                count.unchanged["outcomes"] -= 1
                count.updated["outcomes"] += 1
        _write_targets(session, outcome, c, stored_targets[outcome.id], metrics, count)
        _write_hypotheses(
            session, outcome, c, stored_hypotheses[outcome.id], metrics, releases, count
        )
    session.flush()

    _write_readings(session, actor, plan, metrics, count, replaced)
    _write_checkins(session, plan, outcomes, count)
    session.flush()
    _write_iterations(session, plan, pis, outcomes, metrics, teams, existing, count)
    return count.summary(), dict(replaced)


def _write_iterations(
    session: Session,
    plan: _Plan,
    pis: Mapping[str, PI],
    outcomes: Mapping[tuple[str, str], Outcome],
    metrics: Mapping[tuple[str, str], Metric],
    teams: Mapping[str, Team],
    existing: _Existing,
    count: _Counter,
) -> None:
    """Iterations by (PI, name) and goals by (PI, iteration, team): created or updated."""
    iterations = dict(existing.iterations)
    for c in plan.iterations:
        key = (c["pi"], c["name"])
        values = {"start_date": c["start"], "end_date": c["end"]}
        if key in iterations:
            count.apply("iterations", iterations[key], values)
        else:
            iterations[key] = Iteration(pi_id=pis[c["pi"]].id, name=c["name"], **values)
            session.add(iterations[key])
            count.created["iterations"] += 1
    session.flush()
    if not plan.iteration_goals:
        return
    ids = [i.id for i in iterations.values()]
    stored = {
        (g.iteration_id, g.team_id): g
        for g in session.scalars(select(IterationGoal).where(IterationGoal.iteration_id.in_(ids)))
    }
    for c in plan.iteration_goals:
        iteration = iterations[(c["pi"], c["iteration"])]
        team = teams[c["team"]]
        values = {
            "goal": c["goal"],
            "outcome_id": outcomes[(c["pi"], c["outcome"])].id,
            "metric_id": metrics[(c["team"], c["metric"])].id if c["metric"] else None,
            "met": c["met"],
        }
        record = stored.get((iteration.id, team.id))
        if record is not None:
            count.apply("iteration_goals", record, values)
        else:
            session.add(IterationGoal(iteration_id=iteration.id, team_id=team.id, **values))
            count.created["iteration_goals"] += 1
    session.flush()


def _owner_team(child: Mapping[str, Any], outcome: Mapping[str, Any]) -> str:
    return child["team"] or outcome["team"]


def _write_targets(
    session: Session,
    outcome: Outcome,
    c: Mapping[str, Any],
    stored: list[Target],
    metrics: Mapping[tuple[str, str], Metric],
    count: _Counter,
) -> None:
    current = {t.metric_id: t for t in stored}
    keep: set[int] = set()
    for position, t in enumerate(c["targets"]):
        metric = metrics[(_owner_team(t, c), t["metric"])]
        values = {
            "baseline": t["baseline"],
            "baseline_date": t["baseline_date"],
            "target": t["target"],
            # None means "the PI's end" to the rules; kept as written so a round trip holds.
            "target_date": t["target_date"],
            "kind": t["kind"],
            "band_low": t["band_low"],
            "band_high": t["band_high"],
            "position": position,
            "archived": t["archived"],
        }
        keep.add(metric.id)
        if metric.id in current:
            count.apply("targets", current[metric.id], values)
        else:
            session.add(Target(outcome_id=outcome.id, metric_id=metric.id, **values))
            count.created["targets"] += 1
    rest = [t for m, t in current.items() if m not in keep]
    _archive_rest(rest, "targets", count, len(c["targets"]))


def _archive_rest(records: list[Any], kind: str, count: _Counter, start: int) -> None:
    """Targets and hypotheses of an imported outcome that the document leaves out are
    archived (soft-deleted, restorable), never deleted, and placed after the document's:
    left at their old positions they would tie with the document's records, and an
    export would list them in another order than the stored one."""
    for offset, record in enumerate(sorted(records, key=lambda r: (r.position, r.id))):
        if not record.archived:
            record.archived = True
            count.archived[kind] += 1
            record.position = start + offset
        elif record.position != start + offset:
            record.position = start + offset
            count.updated[kind] += 1


def _write_hypotheses(
    session: Session,
    outcome: Outcome,
    c: Mapping[str, Any],
    stored: list[Hypothesis],
    metrics: Mapping[tuple[str, str], Metric],
    releases: Mapping[tuple[str, str], Release],
    count: _Counter,
) -> None:
    # Hypotheses have no natural key: match the stored ones by metric and "if" text, in
    # order, so an unchanged hypothesis keeps its id.
    unmatched = list(stored)
    for position, h in enumerate(c["hypotheses"]):
        owner = _owner_team(h, c)
        metric = metrics[(owner, h["metric"])]
        release = releases[(owner, h["release"])] if h["release"] else None
        values = {
            "metric_id": metric.id,
            "if_text": h["if"],
            "expect_text": h["expect"],
            "because_text": h["because"],
            "direction": h["direction"],
            "min_effect": h["min_effect"],
            "min_effect_unit": h["min_effect_unit"],
            "release_id": release.id if release else None,
            "window_days": h["window_days"],
            "override": h["override"],
            "override_reason": h["override_reason"],
            "learning": h["learning"],
            "decision": h["decision"],
            "position": position,
            "archived": h["archived"],
        }
        match = next(
            (x for x in unmatched if x.metric_id == metric.id and x.if_text == h["if"]), None
        )
        if match is not None:
            unmatched.remove(match)
            count.apply("hypotheses", match, values)
        else:
            session.add(Hypothesis(outcome_id=outcome.id, **values))
            count.created["hypotheses"] += 1
    _archive_rest(unmatched, "hypotheses", count, len(c["hypotheses"]))


def _write_readings(
    session: Session,
    actor: Actor,
    plan: _Plan,
    metrics: Mapping[tuple[str, str], Metric],
    count: _Counter,
    replaced: dict[str, list[Any]],
) -> None:
    """Through the one reading writer (db/readings.py), always replacing: the document
    describes the workspace, so a stored reading that differs takes its value; its old
    value and note go to the import's one audit event (written by the caller). Readings
    of archived metrics are restored with them, so they are resolved here, not refused."""
    rows = []
    for r in plan.readings:
        metric = metrics[(r["team"], r["metric"])]
        rows.append(
            (
                r["_where"],
                metric.team_id,
                r["team"],
                metric.id,
                r["date"],
                r["value"],
                r["note"],
                r["source"],
            )
        )
    reading_plan = plan_resolved(session, rows=rows, replace=True)
    result = write_plan(
        session,
        actor=actor,
        plan=reading_plan,
        source=DEFAULT_READING_SOURCE,
        audit=False,
    )
    replaced["readings_replaced"].extend(
        {
            "team": r.team,
            "metric": r.metric,
            "date": r.date.isoformat(),
            "value": r.old_value,
            "note": r.old_note,
        }
        for r in result.replaced_readings
    )
    count.created["readings"] += result.added
    count.updated["readings"] += result.replaced
    count.unchanged["readings"] += result.skipped


def _write_checkins(
    session: Session,
    plan: _Plan,
    outcomes: Mapping[tuple[str, str], Outcome],
    count: _Counter,
) -> None:
    """Check-ins have no natural key: one identical in every field to a stored one (or to
    an earlier one in the document) is not written again."""
    ids = sorted({outcomes[(c["pi"], c["outcome"])].id for c in plan.checkins})
    seen: set[tuple[Any, ...]] = set()
    for start in range(0, len(ids), 500):
        seen.update(
            tuple(row)
            for row in session.execute(
                select(
                    CheckIn.outcome_id,
                    CheckIn.date,
                    CheckIn.confidence,
                    CheckIn.comment,
                    CheckIn.by,
                ).where(CheckIn.outcome_id.in_(ids[start : start + 500]))
            )
        )
    rows = []
    for c in plan.checkins:
        row = (
            outcomes[(c["pi"], c["outcome"])].id,
            c["date"],
            c["confidence"],
            c["comment"],
            c["by"],
        )
        if row in seen:
            count.unchanged["checkins"] += 1
            continue
        seen.add(row)
        rows.append(
            dict(zip(("outcome_id", "date", "confidence", "comment", "by"), row, strict=True))
        )
    if rows:
        session.execute(insert(CheckIn), rows)
    count.created["checkins"] += len(rows)


def import_workspace(
    session: Session, *, actor: Actor, document: object, submission_key: str | None = None
) -> ImportSummary:
    """Import an "outcome-board/1" document in the caller's transaction (admins only).

    The whole document is validated first (against itself and the stored workspace);
    any problem raises one ValidationError naming every bad record, and nothing is
    written. Into a non-empty database the import merges by natural key: records the
    document names are created or updated to match it, records it does not name are
    left alone (an imported outcome's targets and hypotheses become the document's;
    a stored reading with the same metric and date takes the document's value). One
    audit event, action "import", holds the counts and every overwritten value."""
    if not can_administer(actor):
        raise PermissionDenied("Only an admin may import a workspace.")
    # Claimed first: a bad document raises and rolls the claim back with everything else.
    claim_submission(session, key=submission_key)
    summary, replaced = write_workspace(session, actor=actor, document=document)
    record_audit(
        session,
        actor=actor,
        action="import",
        entity="workspace",
        entity_id=None,
        summary=f"Workspace import: {summary.describe()}",
        before=replaced or None,
        after={
            "created": dict(summary.created),
            "updated": dict(summary.updated),
            "archived": dict(summary.archived),
        },
    )
    return summary
