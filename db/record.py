"""The Record page's one save: an optional release and this week's readings, written in
one transaction with one submission key. Either everything lands or nothing does: a
half-filled release, a bad value or a release name already used refuses the whole save,
every problem named (release fields by name, readings by metric)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from core.access import Actor
from core.errors import Problem, ValidationError
from db.models import Release
from db.readings import ImportResult, ReadingEntry, ReplaceNeeded, record_readings
from db.submissions import claim_submission
from db.writes import create_release

NOTHING = "nothing to save: give a release name or a new value in at least one row"


@dataclass(frozen=True)
class ReleaseDraft:
    """The release part of the Record form as typed. Empty (no name, notes, link nor
    hypotheses) means "no release": the date alone always has a value, so it does not
    count."""

    name: str = ""
    date: dt.date | None = None
    notes: str = ""
    link: str = ""
    hypothesis_ids: Sequence[int] = field(default_factory=tuple)

    @property
    def given(self) -> bool:
        texts = (self.name, self.notes, self.link)
        return any(isinstance(t, str) and t.strip() for t in texts) or bool(self.hypothesis_ids)


@dataclass(frozen=True)
class RecordResult:
    """What one save wrote: the release (None when none was given) and the readings."""

    release: Release | None
    readings: ImportResult


def record_after_release(
    session: Session,
    *,
    actor: Actor,
    team_id: int,
    release: ReleaseDraft | None,
    entries: Sequence[ReadingEntry],
    replace: bool = False,
    source: str = "bulk",
    submission_key: str | None = None,
) -> RecordResult:
    """Log `release` (when given) and record `entries` in the caller's transaction.

    The key is claimed first, so a repeated submission raises DuplicateSubmission before
    anything is checked again (the release's name would otherwise read as taken). The
    release and the readings are both checked and their problems raised together as one
    ValidationError; ReplaceNeeded (only stored readings that differ) is raised only when
    nothing else is wrong. The caller's transaction rolls back on any of them."""
    claim_submission(session, key=submission_key)
    problems: list[Problem] = []
    created: Release | None = None
    if release is not None and release.given:
        if not isinstance(release.name, str) or not release.name.strip():
            # Notes or hypotheses without a name: a release half filled in, never
            # silently dropped nor logged under an empty name.
            problems.append(
                Problem(
                    "name",
                    "is required to log a release (notes, a link or hypotheses were given); "
                    "clear them to save only the readings",
                )
            )
        else:
            try:
                # A savepoint: a refused release (a name already used) leaves nothing
                # pending in the session that the readings' queries would flush again.
                with session.begin_nested():
                    created = create_release(
                        session,
                        actor=actor,
                        team_id=team_id,
                        name=release.name,
                        date=release.date,  # type: ignore[arg-type]  # checked there
                        notes=release.notes,
                        link=release.link,
                        hypothesis_ids=release.hypothesis_ids,  # checked there too
                    )
            except ValidationError as error:
                problems.extend(error.problems)
    if not entries and created is None and not problems:
        raise ValidationError(NOTHING, where="readings")
    readings = ImportResult(0, 0, 0)
    if entries:
        try:
            readings = record_readings(
                session, actor=actor, entries=entries, replace=replace, source=source
            )
        except ReplaceNeeded:
            if problems:
                raise ValidationError(problems) from None
            raise
        except ValidationError as error:
            problems.extend(error.problems)
    if problems:
        raise ValidationError(problems)
    return RecordResult(created, readings)
