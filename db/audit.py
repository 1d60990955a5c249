"""Audit events: written in the same transaction as the change they describe."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from core.access import Actor
from db.models import AuditEvent, Base
from db.sessions import check_session


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def snapshot(record: Base | None) -> dict[str, Any] | None:
    """A record's column values, for an audit event's before/after."""
    if record is None:
        return None
    mapper = inspect(record).mapper
    return {column.key: _jsonable(getattr(record, column.key)) for column in mapper.column_attrs}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def record_audit(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: int | None,
    summary: str = "",
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the session's transaction (never committed on its own).

    Every write records one, so this is where a write made in an ended session is
    refused (SessionEnded rolls the whole transaction back)."""
    check_session(session, actor)
    event = AuditEvent(
        at=utcnow(),
        actor=actor.username,
        action=action,
        entity=entity,
        entity_id=entity_id,
        summary=summary,
        before=json.dumps(dict(before), sort_keys=True, default=str)
        if before is not None
        else None,
        after=json.dumps(dict(after), sort_keys=True, default=str) if after is not None else None,
    )
    session.add(event)
    return event
