"""Write functions for every entity: each validates its input, checks the acting user's
permission, changes the database in the caller's transaction (`write_session`) and adds
its audit event to that same transaction. Bad input raises one ValidationError naming
every bad field; a refused permission raises PermissionDenied; nothing is written then."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core import fields as declared
from core.access import Actor, can_administer, can_edit_team, can_score_business_value
from core.changes import (
    Changes,
    HypothesisChanges,
    MetricChanges,
    OutcomeChanges,
    PIChanges,
    ReleaseChanges,
    TargetChanges,
    TeamChanges,
    TrainChanges,
)
from core.copying import date_in_title, next_free_key
from core.errors import ConflictError, PermissionDenied, Problem, ValidationError
from core.iterations import DEFAULT_LENGTH_DAYS, plan_iterations
from core.validate import (
    KEY_PATTERN,
    OUTCOME_KEY_PATTERN,
    Checker,
    infer_target_kind,
    is_record_id,
    target_problems,
)
from db.audit import record_audit, snapshot
from db.models import (
    DECISIONS,
    DIRECTIONS,
    EFFECT_UNITS,
    OUTCOME_STATUSES,
    PI,
    VERDICTS,
    AuditEvent,
    Base,
    CheckIn,
    Hypothesis,
    Iteration,
    IterationGoal,
    Metric,
    Outcome,
    Reading,
    Release,
    Target,
    Team,
    Train,
)

# Re-exported: callers older than db/readings.py import these names from here.
from db.readings import ReadingEntry as ReadingEntry
from db.readings import ReplaceNeeded as ReplaceNeeded
from db.readings import record_readings as record_readings
from db.submissions import SUBMISSION_KEY_LENGTH as SUBMISSION_KEY_LENGTH
from db.submissions import DuplicateSubmission as DuplicateSubmission
from db.submissions import claim_submission

R = TypeVar("R", bound=Base)
C = TypeVar("C", bound=Changes)


# --- shared machinery --------------------------------------------------------------


def _get(session: Session, model: type[R], record_id: int, where: str) -> R:
    check = Checker()
    check.record_id(where, record_id)
    check.raise_if_any()
    record = session.get(model, record_id)
    if record is None:
        raise ValidationError(f"no {model.__tablename__[:-1]} with id {record_id}", where=where)
    return record


def _reference(
    session: Session, check: Checker, model: type[Base], record_id: object, where: str
) -> int | None:
    """An optional id that must name a stored record; a problem at `where` otherwise."""
    found = check.record_id(where, record_id, required=False)
    if found is not None and session.get(model, found) is None:
        check.add(where, "does not exist")
    return found


def _require_team_editor(actor: Actor, team_id: int | None, what: str) -> None:
    if team_id is not None and not is_record_id(team_id):
        team_id = -1  # not a team id: only an admin passes here, and validation names it
    if not can_edit_team(actor, team_id):
        scope = "this team" if team_id is not None else "train-level records"
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not {what} for {scope}.")


def _require_admin(actor: Actor, what: str) -> None:
    if not can_administer(actor):
        raise PermissionDenied(f"{actor.username} ({actor.role}) may not {what}: admins only.")


def _create(session: Session, record: R, *, actor: Actor, entity: str, summary: str) -> R:
    session.add(record)
    _flush(session, entity)
    record_audit(
        session,
        actor=actor,
        action="create",
        entity=entity,
        entity_id=record.id,  # type: ignore[attr-defined]
        summary=summary,
        after=snapshot(record),
    )
    return record


def _flush(session: Session, entity: str) -> None:
    """Flush, turning a uniqueness or constraint failure into a ValidationError."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        message = str(error.orig).lower()
        if "unique" in message or "duplicate" in message:
            raise ValidationError(
                f"a {entity} with this name or key already exists", where="name"
            ) from error
        raise ValidationError(
            f"the database refused this {entity}: {error.orig}", where=entity
        ) from error


def _conflict(session: Session, entity: str, record: Base, expected_version: int) -> ConflictError:
    """What changed since `expected_version`, and by whom, from the audit log."""
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == record.id)  # type: ignore[attr-defined]
        .order_by(AuditEvent.id)
    ).all()
    changes: dict[str, tuple[object, object]] = {}
    by = at = ""
    for event in events:
        after = json.loads(event.after) if event.after else {}
        before = json.loads(event.before) if event.before else {}
        if after.get("version", 0) <= expected_version:
            continue
        for name, value in after.items():
            if name != "version" and before.get(name) != value:
                start = changes.get(name, (before.get(name), None))[0]
                changes[name] = (start, value)
        by, at = event.actor, event.at.strftime("%Y-%m-%d %H:%M")
    return ConflictError(entity, changes=changes, by=by, at=at)


def _update(
    session: Session,
    record: R,
    *,
    actor: Actor,
    entity: str,
    expected_version: int | None,
    values: Mapping[str, Any],
    summary: str,
) -> bool:
    """Apply `values` to `record` if its version is still `expected_version`."""
    if expected_version is not None and type(expected_version) is not int:
        raise ValidationError("must be the version number you opened", where="expected_version")
    current = getattr(record, "version", None)
    if expected_version is not None and current is not None and current != expected_version:
        raise _conflict(session, entity, record, expected_version)
    changed = {name: value for name, value in values.items() if getattr(record, name) != value}
    if not changed:
        return False
    before = snapshot(record)
    for name, value in changed.items():
        setattr(record, name, value)
    record_id = record.id  # type: ignore[attr-defined]
    try:
        _flush(session, entity)
    except StaleDataError as error:
        # PostgreSQL (READ COMMITTED): another save committed after we read the record, so
        # the versioned UPDATE matched no row. The same conflict as a stale version; the
        # failed flush ended this transaction, so what changed is read in a fresh one.
        seen = expected_version if expected_version is not None else current or 0
        with Session(session.get_bind()) as fresh:
            stored = fresh.get(type(record), record_id)
            if stored is None:
                raise ConflictError(entity) from error
            raise _conflict(fresh, entity, stored, seen) from error
    record_audit(
        session,
        actor=actor,
        action="update",
        entity=entity,
        entity_id=record.id,  # type: ignore[attr-defined]
        summary=summary,
        before=before,
        after=snapshot(record),
    )
    return True


def _merged(record: Base, changes: Mapping[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    allowed = set(allowed)
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError([Problem(name, "cannot be changed here") for name in sorted(unknown)])
    return {name: changes.get(name, getattr(record, name)) for name in allowed}


def _given(changes: object, kind: type[C]) -> dict[str, Any]:
    """The fields a change object sets; anything but the entity's change object is a
    caller's mistake, named like a bad field."""
    if not isinstance(changes, kind):
        raise ValidationError(f"must be a {kind.__name__}", where="changes")
    return changes.values()


# --- trains, teams, PIs --------------------------------------------------------------


def create_train(
    session: Session,
    *,
    actor: Actor,
    name: str,
    submission_key: str | None = None,
) -> Train:
    _require_admin(actor, "create trains")
    check = Checker()
    name = check.text("name", name, max_length=declared.TRAIN.max_length("name"))
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    return _create(session, Train(name=name), actor=actor, entity="train", summary=f"train {name}")


def update_train(
    session: Session,
    *,
    actor: Actor,
    train_id: int,
    expected_version: int | None,
    changes: TrainChanges,
    submission_key: str | None = None,
) -> Train:
    given = _given(changes, TrainChanges)
    _require_admin(actor, "change trains")
    train = _get(session, Train, train_id, "train")
    check = Checker()
    values: dict[str, Any] = {}
    if "name" in given:
        values["name"] = check.text(
            "name", given["name"], max_length=declared.TRAIN.max_length("name")
        )
    if "archived" in given:
        values["archived"] = check.flag("archived", given["archived"])
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    _update(
        session,
        train,
        actor=actor,
        entity="train",
        expected_version=expected_version,
        values=values,
        summary=f"train {train.name}",
    )
    return train


def _team_values(check: Checker, fields: Mapping[str, Any]) -> dict[str, Any]:
    key = check.text("key", fields["key"], max_length=declared.TEAM.max_length("key")).upper()
    if key and not KEY_PATTERN.match(key):
        check.add(
            "key", "use letters, digits, - or _ (at most 20), starting with a letter or digit"
        )
    return {
        "name": check.text("name", fields["name"], max_length=declared.TEAM.max_length("name")),
        "key": key,
        "train_id": fields.get("train_id"),
        "active": check.flag("active", fields.get("active"), default=True),
    }


def create_team(
    session: Session,
    *,
    actor: Actor,
    name: str,
    key: str,
    train_id: int | None = None,
    active: bool = True,
    submission_key: str | None = None,
) -> Team:
    _require_admin(actor, "create teams")
    check = Checker()
    values = _team_values(check, {"name": name, "key": key, "train_id": train_id, "active": active})
    values["train_id"] = _reference(session, check, Train, train_id, "train")
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    return _create(
        session, Team(**values), actor=actor, entity="team", summary=f"team {values['name']}"
    )


def update_team(
    session: Session,
    *,
    actor: Actor,
    team_id: int,
    expected_version: int | None,
    changes: TeamChanges,
    submission_key: str | None = None,
) -> Team:
    given = _given(changes, TeamChanges)
    _require_admin(actor, "change teams")
    team = _get(session, Team, team_id, "team")
    check = Checker()
    values = _team_values(check, _merged(team, given, declared.TEAM.names))
    values["train_id"] = _reference(session, check, Train, values["train_id"], "train")
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    _update(
        session,
        team,
        actor=actor,
        entity="team",
        expected_version=expected_version,
        values=values,
        summary=f"team {team.name}",
    )
    return team


def _pi_values(
    session: Session, check: Checker, fields: Mapping[str, Any], pi_id: int | None
) -> dict[str, Any]:
    values = {
        "name": check.text("name", fields["name"], max_length=declared.PI.max_length("name")),
        "train_id": _reference(session, check, Train, fields.get("train_id"), "train"),
        "start_date": check.date("start_date", fields["start_date"]),
        "end_date": check.date("end_date", fields["end_date"]),
    }
    start, end = values["start_date"], values["end_date"]
    if start and end:
        if end <= start:
            check.add("end_date", "must be after the start date")
        else:
            overlapping = session.scalars(
                select(PI).where(
                    PI.train_id.is_(None)
                    if values["train_id"] is None
                    else PI.train_id == values["train_id"],
                    PI.start_date <= end,
                    PI.end_date >= start,
                    PI.id != (pi_id or -1),
                )
            ).first()
            if overlapping is not None:
                check.add(
                    "start_date",
                    f"overlaps {overlapping.name} ({overlapping.start_date} to {overlapping.end_date})",
                )
    return values


def create_pi(
    session: Session,
    *,
    actor: Actor,
    name: str,
    start_date: dt.date,
    end_date: dt.date,
    train_id: int | None = None,
    submission_key: str | None = None,
) -> PI:
    _require_admin(actor, "create PIs")
    check = Checker()
    values = _pi_values(
        session,
        check,
        {"name": name, "train_id": train_id, "start_date": start_date, "end_date": end_date},
        None,
    )
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    pi = _create(session, PI(**values), actor=actor, entity="pi", summary=f"PI {values['name']}")
    _add_planned_iterations(session, actor=actor, pi=pi)
    return pi


def update_pi(
    session: Session,
    *,
    actor: Actor,
    pi_id: int,
    expected_version: int | None,
    changes: PIChanges,
    submission_key: str | None = None,
) -> PI:
    given = _given(changes, PIChanges)
    _require_admin(actor, "change PIs")
    pi = _get(session, PI, pi_id, "pi")
    check = Checker()
    values = _pi_values(session, check, _merged(pi, given, declared.PI.names), pi.id)
    old_dates = (pi.start_date, pi.end_date)
    new_dates = (values["start_date"], values["end_date"])
    iterations = _pi_iterations(session, pi_id=pi.id)
    with_goals = _pi_has_goals(session, pi_id=pi.id)
    if with_goals and None not in new_dates and new_dates != old_dates:
        # Goals hang on these iterations: they stay, so they must still fit the PI.
        for iteration in iterations:
            if iteration.start_date < new_dates[0] or iteration.end_date > new_dates[1]:
                check.add(
                    "start_date" if iteration.start_date < new_dates[0] else "end_date",
                    f"iteration {iteration.name} ({iteration.start_date} to "
                    f"{iteration.end_date}) would fall outside the PI: change it first",
                )
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    _update(
        session,
        pi,
        actor=actor,
        entity="pi",
        expected_version=expected_version,
        values=values,
        summary=f"PI {pi.name}",
    )
    if not with_goals and new_dates != old_dates:
        # No goal refers to them yet: the iterations follow the PI's new dates.
        length = iterations[0].end_date - iterations[0].start_date if iterations else None
        _replan_iterations(
            session,
            actor=actor,
            pi=pi,
            length_days=length.days + 1 if length is not None else DEFAULT_LENGTH_DAYS,
        )
    return pi


# --- iterations made from a PI's dates (the other iteration writes: db/iterations.py) ---


def _pi_iterations(session: Session, *, pi_id: int) -> list[Iteration]:
    return list(
        session.scalars(
            select(Iteration).where(Iteration.pi_id == pi_id).order_by(Iteration.start_date)
        )
    )


def _pi_has_goals(session: Session, *, pi_id: int) -> bool:
    return (
        session.scalar(
            select(IterationGoal.id)
            .join(Iteration, Iteration.id == IterationGoal.iteration_id)
            .where(Iteration.pi_id == pi_id)
            .limit(1)
        )
        is not None
    )


def _add_planned_iterations(
    session: Session, *, actor: Actor, pi: PI, length_days: int = DEFAULT_LENGTH_DAYS
) -> list[Iteration]:
    """Make a PI's iterations from its dates (core.iterations), each audited. Called
    by create_pi: every new PI has its iterations at once, whoever created it."""
    return [
        _create(
            session,
            Iteration(pi_id=pi.id, name=span.name, start_date=span.start, end_date=span.end),
            actor=actor,
            entity="iteration",
            summary=f"iteration {span.name} of {pi.name}",
        )
        for span in plan_iterations(pi.start_date, pi.end_date, length_days=length_days)
    ]


def _replan_iterations(
    session: Session, *, actor: Actor, pi: PI, length_days: int
) -> list[Iteration]:
    """Make a PI's iterations match its dates cut into `length_days` (none may have a
    goal: the caller checks): an iteration keeps its record when its name is planned
    again (its dates updated), extra ones are deleted, missing ones created; each change
    is audited, and a plan equal to what is stored writes nothing."""
    stored = {i.name: i for i in _pi_iterations(session, pi_id=pi.id)}
    planned = plan_iterations(pi.start_date, pi.end_date, length_days=length_days)
    names = {span.name for span in planned}
    for iteration in [i for name, i in stored.items() if name not in names]:
        before = snapshot(iteration)
        session.delete(iteration)
        record_audit(
            session,
            actor=actor,
            action="delete",
            entity="iteration",
            entity_id=iteration.id,
            summary=f"iteration {iteration.name} of {pi.name}",
            before=before,
        )
    session.flush()
    result: list[Iteration] = []
    for span in planned:
        existing = stored.get(span.name)
        if existing is None:
            result.append(
                _create(
                    session,
                    Iteration(
                        pi_id=pi.id, name=span.name, start_date=span.start, end_date=span.end
                    ),
                    actor=actor,
                    entity="iteration",
                    summary=f"iteration {span.name} of {pi.name}",
                )
            )
            continue
        _update(
            session,
            existing,
            actor=actor,
            entity="iteration",
            expected_version=None,
            values={"start_date": span.start, "end_date": span.end},
            summary=f"iteration {span.name} of {pi.name}",
        )
        result.append(existing)
    return result


# --- metrics and releases -----------------------------------------------------------

METRIC_FIELDS = declared.METRIC.names


def _metric_values(check: Checker, fields: Mapping[str, Any]) -> dict[str, Any]:
    metric = declared.METRIC
    return {
        "name": check.text("name", fields["name"], max_length=metric.max_length("name")),
        "unit": check.text(
            "unit", fields.get("unit", ""), required=False, max_length=metric.max_length("unit")
        ),
        "description": check.text(
            "description",
            fields.get("description", ""),
            required=False,
            max_length=metric.max_length("description"),
        ),
        "source": check.text(
            "source",
            fields.get("source", ""),
            required=False,
            max_length=metric.max_length("source"),
        ),
        "update_interval_days": check.integer(
            "update_interval_days",
            fields.get("update_interval_days", 14),
            **metric.bounds("update_interval_days"),
        ),
        "decimals": check.integer(
            "decimals", fields.get("decimals", 1), **metric.bounds("decimals")
        ),
        "leading": check.flag("leading", fields.get("leading")),
        "archived": check.flag("archived", fields.get("archived")),
    }


def create_metric(
    session: Session,
    *,
    actor: Actor,
    team_id: int,
    name: str,
    unit: str = "",
    description: str = "",
    source: str = "",
    update_interval_days: int = 14,
    decimals: int = 1,
    leading: bool = False,
    submission_key: str | None = None,
) -> Metric:
    _get(session, Team, team_id, "team")
    _require_team_editor(actor, team_id, "create metrics")
    check = Checker()
    values = _metric_values(
        check,
        {
            "name": name,
            "unit": unit,
            "description": description,
            "source": source,
            "update_interval_days": update_interval_days,
            "decimals": decimals,
            "leading": leading,
        },
    )
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    return _create(
        session,
        Metric(team_id=team_id, **values),
        actor=actor,
        entity="metric",
        summary=f"metric {values['name']}",
    )


def update_metric(
    session: Session,
    *,
    actor: Actor,
    metric_id: int,
    expected_version: int | None,
    changes: MetricChanges,
    submission_key: str | None = None,
) -> Metric:
    given = _given(changes, MetricChanges)
    metric = _get(session, Metric, metric_id, "metric")
    _require_team_editor(actor, metric.team_id, "change metrics")
    check = Checker()
    values = _metric_values(check, _merged(metric, given, METRIC_FIELDS))
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    _update(
        session,
        metric,
        actor=actor,
        entity="metric",
        expected_version=expected_version,
        values=values,
        summary=f"metric {metric.name}",
    )
    return metric


def create_release(
    session: Session,
    *,
    actor: Actor,
    team_id: int,
    name: str,
    date: dt.date,
    notes: str = "",
    link: str = "",
    hypothesis_ids: Sequence[int] = (),
    submission_key: str | None = None,
) -> Release:
    """Log a release, and link the hypotheses it shipped (they start measuring)."""
    _get(session, Team, team_id, "team")
    _require_team_editor(actor, team_id, "log releases")
    check = Checker()
    values = {
        "name": check.text("name", name, max_length=declared.RELEASE.max_length("name")),
        "date": check.date("date", date),
        "notes": check.text(
            "notes", notes, required=False, max_length=declared.RELEASE.max_length("notes")
        ),
        "link": check.link("link", link),
    }
    hypotheses = _team_hypotheses(session, check, team_id, hypothesis_ids)
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    release = _create(
        session,
        Release(team_id=team_id, **values),
        actor=actor,
        entity="release",
        summary=f"release {values['name']}",
    )
    for hypothesis in hypotheses:
        _update(
            session,
            hypothesis,
            actor=actor,
            entity="hypothesis",
            expected_version=None,
            values={"release_id": release.id},
            summary=f"shipped in {release.name}",
        )
    return release


def _team_hypotheses(
    session: Session, check: Checker, team_id: int, ids: Sequence[int]
) -> list[Hypothesis]:
    if not ids:
        return []
    if not isinstance(ids, list | tuple | set | frozenset) or not all(map(is_record_id, ids)):
        check.add("hypotheses", "must be a list of hypothesis ids")
        return []
    found = session.scalars(
        select(Hypothesis).join(Outcome).where(Hypothesis.id.in_(ids), Outcome.team_id == team_id)
    ).all()
    missing = set(ids) - {h.id for h in found}
    if missing:
        check.add("hypotheses", f"not hypotheses of this team: {sorted(missing)}")
    return list(found)


def update_release(
    session: Session,
    *,
    actor: Actor,
    release_id: int,
    expected_version: int | None,
    changes: ReleaseChanges,
    submission_key: str | None = None,
) -> Release:
    given = _given(changes, ReleaseChanges)
    release = _get(session, Release, release_id, "release")
    _require_team_editor(actor, release.team_id, "change releases")
    fields = _merged(release, given, declared.RELEASE.names)
    check = Checker()
    values = {
        "name": check.text("name", fields["name"], max_length=declared.RELEASE.max_length("name")),
        "date": check.date("date", fields["date"]),
        "notes": check.text(
            "notes",
            fields["notes"],
            required=False,
            max_length=declared.RELEASE.max_length("notes"),
        ),
        "link": check.link("link", fields["link"]),
        "archived": check.flag("archived", fields["archived"]),
    }
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    _update(
        session,
        release,
        actor=actor,
        entity="release",
        expected_version=expected_version,
        values=values,
        summary=f"release {release.name}",
    )
    return release


def archive_release(
    session: Session,
    *,
    actor: Actor,
    release_id: int,
    expected_version: int | None,
    archived: bool = True,
    submission_key: str | None = None,
) -> Release:
    """Soft delete (as outcomes are archived): an archived release leaves the charts'
    markers and the forms' choices, keeps its hypotheses' links and its audit trail, and
    can be restored with `archived=False`."""
    return update_release(
        session,
        actor=actor,
        release_id=release_id,
        expected_version=expected_version,
        changes=ReleaseChanges(archived=archived),
        submission_key=submission_key,
    )


# --- outcomes, targets, hypotheses, check-ins ----------------------------------------

OUTCOME_FIELDS = declared.OUTCOME.names


def _outcome_values(
    session: Session, check: Checker, fields: Mapping[str, Any], pi_id: int
) -> dict[str, Any]:
    outcome = declared.OUTCOME
    key = check.text("key", fields["key"], max_length=outcome.max_length("key"))
    if key and not OUTCOME_KEY_PATTERN.match(key):
        check.add("key", "use letters, digits, '.', '-' or '_' (at most 30)")
    values = {
        "key": key,
        "title": check.text("title", fields["title"], max_length=outcome.max_length("title")),
        "why": check.text(
            "why", fields.get("why", ""), required=False, max_length=outcome.max_length("why")
        ),
        "owner": check.text(
            "owner", fields.get("owner", ""), required=False, max_length=outcome.max_length("owner")
        ),
        "committed": check.flag("committed", fields.get("committed"), default=True),
        "planned_bv": check.integer(
            "planned_bv", fields.get("planned_bv"), **outcome.bounds("planned_bv"), required=False
        ),
        "parent_id": check.record_id("parent", fields.get("parent_id"), required=False),
        "status": check.choice("status", fields.get("status", "draft"), OUTCOME_STATUSES),
        "team_id": _reference(session, check, Team, fields.get("team_id"), "team"),
    }
    parent_id = values["parent_id"]
    if parent_id is not None:
        parent = session.get(Outcome, parent_id)
        if parent is None or parent.pi_id != pi_id:
            check.add("parent", "must be an outcome of the same PI")
        elif parent.team_id is not None:
            check.add("parent", "must be a train-level outcome (one without a team)")
        elif values["team_id"] is None:
            check.add("parent", "only a team outcome can contribute to a train outcome")
    return values


def create_outcome(
    session: Session,
    *,
    actor: Actor,
    pi_id: int,
    team_id: int | None,
    key: str,
    title: str,
    why: str = "",
    owner: str = "",
    committed: bool = True,
    planned_bv: int | None = None,
    parent_id: int | None = None,
    status: str = "draft",
    submission_key: str | None = None,
) -> Outcome:
    _get(session, PI, pi_id, "pi")
    _require_team_editor(actor, team_id, "create outcomes")
    check = Checker()
    values = _outcome_values(
        session,
        check,
        {
            "key": key,
            "title": title,
            "why": why,
            "owner": owner,
            "committed": committed,
            "planned_bv": planned_bv,
            "parent_id": parent_id,
            "status": status,
            "team_id": team_id,
        },
        pi_id,
    )
    if values["key"] and session.scalar(
        select(Outcome.id).where(Outcome.pi_id == pi_id, Outcome.key == values["key"])
    ):
        check.add("key", f"{values['key']} is already used in this PI")
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    # Numbered within the team's (or the train-level) outcomes of the PI, as the pages
    # list them and as a workspace import numbers them.
    owner = Outcome.team_id.is_(None) if team_id is None else Outcome.team_id == team_id
    position = (
        session.scalar(
            select(func.count()).select_from(Outcome).where(Outcome.pi_id == pi_id, owner)
        )
        or 0
    )
    return _create(
        session,
        Outcome(pi_id=pi_id, position=position, **values),
        actor=actor,
        entity="outcome",
        summary=f"outcome {values['key']}",
    )


def update_outcome(
    session: Session,
    *,
    actor: Actor,
    outcome_id: int,
    expected_version: int | None,
    changes: OutcomeChanges,
    submission_key: str | None = None,
) -> Outcome:
    given = _given(changes, OutcomeChanges)
    outcome = _get(session, Outcome, outcome_id, "outcome")
    _require_team_editor(actor, outcome.team_id, "change outcomes")
    if "team_id" in given and given["team_id"] != outcome.team_id:
        _require_team_editor(actor, given["team_id"], "move outcomes")
    check = Checker()
    values = _outcome_values(session, check, _merged(outcome, given, OUTCOME_FIELDS), outcome.pi_id)
    if values["key"] != outcome.key and session.scalar(
        select(Outcome.id).where(Outcome.pi_id == outcome.pi_id, Outcome.key == values["key"])
    ):
        check.add("key", f"{values['key']} is already used in this PI")
    if values["team_id"] is not None and values["team_id"] != outcome.team_id:
        # A team outcome's targets and hypotheses use its team's metrics, and only a
        # train-level outcome has contributing outcomes: a move must keep both true.
        children = (*outcome.targets, *outcome.hypotheses)
        if any(child.metric.team_id != values["team_id"] for child in children):
            check.add("team", "its targets and hypotheses use another team's metrics")
        if session.scalar(select(Outcome.id).where(Outcome.parent_id == outcome.id).limit(1)):
            check.add("team", "team outcomes contribute to it: it stays train-level")
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    _update(
        session,
        outcome,
        actor=actor,
        entity="outcome",
        expected_version=expected_version,
        values=values,
        summary=f"outcome {outcome.key}",
    )
    return outcome


def archive_outcome(
    session: Session,
    *,
    actor: Actor,
    outcome_id: int,
    expected_version: int | None,
    submission_key: str | None = None,
) -> Outcome:
    """Soft delete: the outcome keeps its data and can be restored by setting a status."""
    return update_outcome(
        session,
        actor=actor,
        outcome_id=outcome_id,
        expected_version=expected_version,
        changes=OutcomeChanges(status="archived"),
        submission_key=submission_key,
    )


def score_outcome(
    session: Session,
    *,
    actor: Actor,
    outcome_id: int,
    actual_bv: int | None,
    expected_version: int | None,
    submission_key: str | None = None,
) -> Outcome:
    """Actual business value is scored by business owners at the PI's end (admins)."""
    if not can_score_business_value(actor):
        raise PermissionDenied(
            f"{actor.username} ({actor.role}) may not score business value: admins only."
        )
    outcome = _get(session, Outcome, outcome_id, "outcome")
    check = Checker()
    value = check.integer(
        "actual_bv",
        actual_bv,
        low=declared.ACTUAL_BV.low,
        high=declared.ACTUAL_BV.high,
        required=False,
    )
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    _update(
        session,
        outcome,
        actor=actor,
        entity="outcome",
        expected_version=expected_version,
        values={"actual_bv": value},
        summary=f"outcome {outcome.key} scored {value}",
    )
    return outcome


TARGET_FIELDS = declared.TARGET.names


def _target_values(
    session: Session, check: Checker, fields: Mapping[str, Any], outcome: Outcome
) -> dict[str, Any]:
    baseline = check.number("baseline", fields.get("baseline"), required=False)
    target = check.number("target", fields.get("target"), required=False)
    band_low = check.number("band_low", fields.get("band_low"), required=False)
    band_high = check.number("band_high", fields.get("band_high"), required=False)
    baseline_date = check.date("baseline_date", fields.get("baseline_date"), required=False)
    target_date = (
        check.date("target_date", fields.get("target_date"), required=False) or outcome.pi.end_date
    )
    kind = infer_target_kind(fields.get("kind") or None, baseline, target)
    check.extend(
        target_problems(
            kind=kind,
            baseline=baseline,
            target=target,
            band_low=band_low,
            band_high=band_high,
            baseline_date=baseline_date,
            target_date=target_date,
        )
    )
    metric_id = check.record_id("metric", fields.get("metric_id"))
    metric = session.get(Metric, metric_id) if metric_id is not None else None
    if metric_id is not None and metric is None:
        check.add("metric", "does not exist")
    elif metric is not None and outcome.team_id is not None and metric.team_id != outcome.team_id:
        check.add("metric", "must be one of this outcome's team's metrics")
    if kind != "maintain":
        band_low = band_high = None
    return {
        "metric_id": metric_id,
        "baseline": baseline,
        "baseline_date": baseline_date,
        "target": target,
        "target_date": target_date,
        "kind": kind,
        "band_low": band_low,
        "band_high": band_high,
        "archived": check.flag("archived", fields.get("archived")),
    }


def add_target(
    session: Session,
    *,
    actor: Actor,
    outcome_id: int,
    metric_id: int,
    target: float | None = None,
    baseline: float | None = None,
    baseline_date: dt.date | None = None,
    target_date: dt.date | None = None,
    kind: str | None = None,
    band_low: float | None = None,
    band_high: float | None = None,
    submission_key: str | None = None,
) -> Target:
    outcome = _get(session, Outcome, outcome_id, "outcome")
    _require_team_editor(actor, outcome.team_id, "change targets")
    check = Checker()
    values = _target_values(
        session,
        check,
        {
            "metric_id": metric_id,
            "baseline": baseline,
            "baseline_date": baseline_date,
            "target": target,
            "target_date": target_date,
            "kind": kind,
            "band_low": band_low,
            "band_high": band_high,
        },
        outcome,
    )
    existing = session.scalar(
        select(Target).where(
            Target.outcome_id == outcome_id, Target.metric_id == values["metric_id"]
        )
    )
    if existing is not None and not existing.archived:
        check.add("metric", "already has a target in this outcome")
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    if existing is not None:  # re-adding an archived target restores it with the new values
        _update(
            session,
            existing,
            actor=actor,
            entity="target",
            expected_version=None,
            values=values,
            summary=f"target restored on {outcome.key}",
        )
        return existing
    # Counted in the database: `outcome.targets` may have been loaded before this session
    # added other targets, and then every one would get the same position.
    position = session.scalar(
        select(func.count()).select_from(Target).where(Target.outcome_id == outcome_id)
    )
    return _create(
        session,
        Target(outcome_id=outcome_id, position=position, **values),
        actor=actor,
        entity="target",
        summary=f"target on {outcome.key}",
    )


def update_target(
    session: Session,
    *,
    actor: Actor,
    target_id: int,
    expected_version: int | None,
    changes: TargetChanges,
    submission_key: str | None = None,
) -> Target:
    given = _given(changes, TargetChanges)
    record = _get(session, Target, target_id, "target")
    _require_team_editor(actor, record.outcome.team_id, "change targets")
    check = Checker()
    values = _target_values(session, check, _merged(record, given, TARGET_FIELDS), record.outcome)
    if values["metric_id"] != record.metric_id and session.scalar(
        select(Target.id).where(
            Target.outcome_id == record.outcome_id, Target.metric_id == values["metric_id"]
        )
    ):
        check.add("metric", "already has a target in this outcome")
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    _update(
        session,
        record,
        actor=actor,
        entity="target",
        expected_version=expected_version,
        values=values,
        summary=f"target on {record.outcome.key}",
    )
    return record


HYPOTHESIS_FIELDS = declared.HYPOTHESIS.names


def _hypothesis_values(
    session: Session, check: Checker, fields: Mapping[str, Any], outcome: Outcome
) -> dict[str, Any]:
    hypothesis = declared.HYPOTHESIS
    values = {
        "metric_id": check.record_id("metric", fields.get("metric_id")),
        "if_text": check.text(
            "if", fields.get("if_text"), max_length=hypothesis.max_length("if_text")
        ),
        "expect_text": check.text(
            "expect", fields.get("expect_text"), max_length=hypothesis.max_length("expect_text")
        ),
        "because_text": check.text(
            "because",
            fields.get("because_text", ""),
            required=False,
            max_length=hypothesis.max_length("because_text"),
        ),
        "direction": check.choice("direction", fields.get("direction"), DIRECTIONS),
        "min_effect": check.number("min_effect", fields.get("min_effect", 0.0)),
        "min_effect_unit": check.choice(
            "min_effect_unit", fields.get("min_effect_unit", "absolute"), EFFECT_UNITS
        ),
        "release_id": check.record_id("release", fields.get("release_id"), required=False),
        "window_days": check.integer(
            "window_days", fields.get("window_days", 28), **hypothesis.bounds("window_days")
        ),
        "learning": check.text(
            "learning",
            fields.get("learning", ""),
            required=False,
            max_length=hypothesis.max_length("learning"),
        ),
        "decision": check.choice("decision", fields.get("decision"), DECISIONS, required=False),
        "archived": check.flag("archived", fields.get("archived")),
    }
    if values["min_effect"] is not None and values["min_effect"] < 0:
        check.add("min_effect", "must not be negative (the direction says which way)")
    metric = session.get(Metric, values["metric_id"]) if values["metric_id"] is not None else None
    if values["metric_id"] is not None and metric is None:
        check.add("metric", "does not exist")
    elif metric is not None and outcome.team_id is not None and metric.team_id != outcome.team_id:
        check.add("metric", "must be one of this outcome's team's metrics")
    if values["release_id"] is not None:
        release = session.get(Release, values["release_id"])
        if release is None or (metric is not None and release.team_id != metric.team_id):
            check.add("release", "must be a release of the metric's team")
    return values


def add_hypothesis(
    session: Session,
    *,
    actor: Actor,
    outcome_id: int,
    metric_id: int,
    if_text: str,
    expect_text: str,
    because_text: str = "",
    direction: str = "increase",
    min_effect: float = 0.0,
    min_effect_unit: str = "absolute",
    release_id: int | None = None,
    window_days: int = 28,
    submission_key: str | None = None,
) -> Hypothesis:
    outcome = _get(session, Outcome, outcome_id, "outcome")
    _require_team_editor(actor, outcome.team_id, "change hypotheses")
    check = Checker()
    values = _hypothesis_values(
        session,
        check,
        {
            "metric_id": metric_id,
            "if_text": if_text,
            "expect_text": expect_text,
            "because_text": because_text,
            "direction": direction,
            "min_effect": min_effect,
            "min_effect_unit": min_effect_unit,
            "release_id": release_id,
            "window_days": window_days,
        },
        outcome,
    )
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    return _create(
        session,
        Hypothesis(
            outcome_id=outcome_id,
            position=session.scalar(  # as for targets: never a stale relationship
                select(func.count())
                .select_from(Hypothesis)
                .where(Hypothesis.outcome_id == outcome_id)
            ),
            **values,
        ),
        actor=actor,
        entity="hypothesis",
        summary=f"hypothesis on {outcome.key}",
    )


def update_hypothesis(
    session: Session,
    *,
    actor: Actor,
    hypothesis_id: int,
    expected_version: int | None,
    changes: HypothesisChanges,
    submission_key: str | None = None,
) -> Hypothesis:
    given = _given(changes, HypothesisChanges)
    record = _get(session, Hypothesis, hypothesis_id, "hypothesis")
    _require_team_editor(actor, record.outcome.team_id, "change hypotheses")
    check = Checker()
    values = _hypothesis_values(
        session, check, _merged(record, given, HYPOTHESIS_FIELDS), record.outcome
    )
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    _update(
        session,
        record,
        actor=actor,
        entity="hypothesis",
        expected_version=expected_version,
        values=values,
        summary=f"hypothesis on {record.outcome.key}",
    )
    return record


def override_verdict(
    session: Session,
    *,
    actor: Actor,
    hypothesis_id: int,
    expected_version: int | None,
    override: str | None,
    reason: str | None,
    submission_key: str | None = None,
) -> Hypothesis:
    """A team may override the computed verdict with a reason; both are kept and shown."""
    record = _get(session, Hypothesis, hypothesis_id, "hypothesis")
    _require_team_editor(actor, record.outcome.team_id, "override verdicts")
    check = Checker()
    override = check.choice("override", override, VERDICTS, required=False)
    reason = check.text(
        "override_reason",
        reason or "",
        required=override is not None,
        max_length=declared.OVERRIDE_REASON.max_length or 0,
    )
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    _update(
        session,
        record,
        actor=actor,
        entity="hypothesis",
        expected_version=expected_version,
        values={"override": override, "override_reason": reason or None},
        summary=f"verdict override on {record.outcome.key}",
    )
    return record


def add_checkin(
    session: Session,
    *,
    actor: Actor,
    outcome_id: int,
    confidence: int,
    comment: str = "",
    date: dt.date | None = None,
    submission_key: str | None = None,
) -> CheckIn:
    outcome = _get(session, Outcome, outcome_id, "outcome")
    _require_team_editor(actor, outcome.team_id, "check in")
    check = Checker()
    values = {
        "confidence": check.integer(
            "confidence", confidence, **declared.CHECKIN.bounds("confidence")
        ),
        "comment": check.text(
            "comment", comment, required=False, max_length=declared.CHECKIN.max_length("comment")
        ),
        "date": check.date("date", date or dt.date.today()),
    }
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    return _create(
        session,
        CheckIn(outcome_id=outcome_id, by=actor.display_name or actor.username, **values),
        actor=actor,
        entity="checkin",
        summary=f"check-in on {outcome.key}",
    )


@dataclass(frozen=True)
class CopiedOutcome:
    """One outcome copied into the next PI: its key there (another when its own was
    taken), how many hypotheses came along and stayed behind, and the date its title
    names when the copy moved its target date."""

    source_key: str
    key: str
    outcome: Outcome
    hypotheses: int
    hypotheses_decided: int  # hypotheses with a decision stay in the old PI
    title_date: str | None = None

    @property
    def rekeyed(self) -> bool:
        return self.key != self.source_key


@dataclass(frozen=True)
class SkippedOutcome:
    key: str
    reason: str


@dataclass(frozen=True)
class CopyResult:
    """What a copy into the next PI did, outcome by outcome."""

    to_pi: str
    copied: tuple[CopiedOutcome, ...] = ()
    skipped: tuple[SkippedOutcome, ...] = ()

    @property
    def outcomes(self) -> list[Outcome]:
        return [c.outcome for c in self.copied]

    def lines(self) -> list[str]:
        """One sentence per outcome, for the page and the log: copied, re-keyed, skipped
        (with the reason), and a title whose date no longer fits."""
        lines: list[str] = []
        for c in self.copied:
            line = (
                f"{c.source_key} copied as {c.key} ({c.source_key} is already used in {self.to_pi})"
                if c.rekeyed
                else f"{c.source_key} copied"
            )
            line += f" with {c.hypotheses} open hypothes{'is' if c.hypotheses == 1 else 'es'}"
            if c.hypotheses_decided:
                line += f"; {c.hypotheses_decided} with a decision stayed behind"
            if c.title_date:
                line += (
                    f". Its title names a date (“{c.title_date}”) but its targets now run "
                    f"to the end of {self.to_pi}: check the title"
                )
            lines.append(line + ".")
        lines += [f"{s.key} skipped: {s.reason}." for s in self.skipped]
        return lines


def copy_to_next_pi(
    session: Session,
    *,
    actor: Actor,
    from_pi_id: int,
    to_pi_id: int,
    team_id: int | None = None,
    submission_key: str | None = None,
) -> CopyResult:
    """Copy unfinished outcomes (not closed or archived) with their targets and open
    hypotheses (no decision yet) into the next PI, as drafts. An outcome whose key is
    taken there gets the next free key; one already copied (the same team and title are
    in that PI) is skipped, so copying twice adds nothing. The result says which."""
    source = _get(session, PI, from_pi_id, "from_pi")
    target_pi = _get(session, PI, to_pi_id, "to_pi")
    check = Checker()
    check.record_id("team", team_id, required=False)
    check.raise_if_any()
    if team_id is not None:
        _require_team_editor(actor, team_id, "copy outcomes")
    elif not can_administer(actor):
        raise PermissionDenied("copying every team's outcomes is for admins; pick a team")
    if source.id == target_pi.id:
        raise ValidationError("must be another PI than the one copied from", where="to_pi")
    query = select(Outcome).where(
        Outcome.pi_id == source.id, Outcome.status.in_(("draft", "active"))
    )
    if team_id is not None:
        query = query.where(Outcome.team_id == team_id)
    there = session.execute(
        select(Outcome.key, Outcome.team_id, Outcome.title).where(Outcome.pi_id == target_pi.id)
    ).all()
    taken = {key for key, _, _ in there}
    # An outcome counts as already copied when its team holds the same title there
    # (archived or not): a second copy would only duplicate it under a new key.
    present = {(team, title.strip().casefold()): key for key, team, title in there}
    outcomes: list[Outcome] = []
    skipped: list[SkippedOutcome] = []
    for o in session.scalars(query.order_by(Outcome.position, Outcome.id)):
        already = present.get((o.team_id, o.title.strip().casefold()))
        if already is not None:
            skipped.append(
                SkippedOutcome(o.key, f"already in {target_pi.name} as {already} (same title)")
            )
        else:
            outcomes.append(o)
    # A copied target runs to the new PI's end, which must come after its baseline date.
    check.extend(
        Problem(
            "to_pi",
            f"{o.key}: the target on {t.metric.name} has its baseline on {t.baseline_date}, "
            f"not before {target_pi.name} ends",
        )
        for o in outcomes
        for t in o.targets
        if not t.archived and t.baseline_date and t.baseline_date >= target_pi.end_date
    )
    check.raise_if_any()
    claim_submission(session, key=submission_key)
    copied: list[CopiedOutcome] = []
    for outcome in outcomes:
        _require_team_editor(actor, outcome.team_id, "copy outcomes")
        key = next_free_key(outcome.key, taken)
        taken.add(key)
        copy = _create(
            session,
            Outcome(
                pi_id=target_pi.id,
                team_id=outcome.team_id,
                key=key,
                title=outcome.title,
                why=outcome.why,
                owner=outcome.owner,
                committed=outcome.committed,
                planned_bv=outcome.planned_bv,
                status="draft",
                position=outcome.position,
            ),
            actor=actor,
            entity="outcome",
            summary=f"outcome {outcome.key} copied from {source.name}"
            + (f" as {key}" if key != outcome.key else ""),
        )
        for target in outcome.targets:
            if target.archived:
                continue
            _create(
                session,
                Target(
                    outcome_id=copy.id,
                    metric_id=target.metric_id,
                    baseline=target.baseline,
                    baseline_date=target.baseline_date,
                    target=target.target,
                    target_date=target_pi.end_date,
                    kind=target.kind,
                    band_low=target.band_low,
                    band_high=target.band_high,
                    position=target.position,
                ),
                actor=actor,
                entity="target",
                summary=f"target copied to {target_pi.name}",
            )
        moved = False
        for target in outcome.targets:
            if not target.archived and target.target_date != target_pi.end_date:
                moved = True
        decided = hypotheses = 0
        for hypothesis in outcome.hypotheses:
            if hypothesis.archived:
                continue
            if hypothesis.decision is not None:
                decided += 1
                continue
            hypotheses += 1
            _create(
                session,
                Hypothesis(
                    outcome_id=copy.id,
                    metric_id=hypothesis.metric_id,
                    if_text=hypothesis.if_text,
                    expect_text=hypothesis.expect_text,
                    because_text=hypothesis.because_text,
                    direction=hypothesis.direction,
                    min_effect=hypothesis.min_effect,
                    min_effect_unit=hypothesis.min_effect_unit,
                    release_id=hypothesis.release_id,
                    window_days=hypothesis.window_days,
                    position=hypothesis.position,
                ),
                actor=actor,
                entity="hypothesis",
                summary=f"hypothesis copied to {target_pi.name}",
            )
        # An outcome without targets runs to its PI's end, which moved too.
        moved = moved or not any(not t.archived for t in outcome.targets)
        copied.append(
            CopiedOutcome(
                source_key=outcome.key,
                key=key,
                outcome=copy,
                hypotheses=hypotheses,
                hypotheses_decided=decided,
                title_date=date_in_title(outcome.title) if moved else None,
            )
        )
    return CopyResult(to_pi=target_pi.name, copied=tuple(copied), skipped=tuple(skipped))


# --- readings (recorded through db/readings.py, the one reading writer) -----------


def delete_reading(
    session: Session, *, actor: Actor, reading_id: int, submission_key: str | None = None
) -> Reading:
    """Readings are deleted for real; the value stays in the audit log (its summary names
    it too, so the history reads without opening the event). Returns the deleted row.

    The submission key is claimed first: a double click's second delete finds the reading
    gone, and must read as "already done", not as "no such reading". The claim rolls back
    with everything else when the delete is refused."""
    claim_submission(session, key=submission_key)
    reading = _get(session, Reading, reading_id, "reading")
    metric = session.get(Metric, reading.metric_id)
    assert metric is not None
    _require_team_editor(actor, metric.team_id, "delete readings")
    before = snapshot(reading)
    session.execute(delete(Reading).where(Reading.id == reading_id))
    session.expunge(reading)  # gone from the table; the caller may still read its values
    record_audit(
        session,
        actor=actor,
        action="delete",
        entity="reading",
        entity_id=reading_id,
        summary=f"{metric.name} on {reading.date}: {reading.value:g}",
        before=before,
    )
    return reading
