"""The HTTP API's routes: `POST /api/v1/readings`, `GET /api/v1/report`, `GET
/api/v1/health`, as Starlette routes that `app.py` mounts beside the pages.

Each request is one transaction through the same functions as the pages and the command
line: readings go through `import_readings` (validation, permission, audit, "identical
is skipped"), made as the token's Actor (an editor of its one team, named after the
token); the report is `db.report.report_json`. Database work runs in Starlette's thread
pool, never on the event loop that also carries the pages' websockets."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from typing import Any

from sqlalchemy import Engine, func, select, text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from core.api_payload import api_problem, parse_readings_payload
from core.errors import PermissionDenied, Problem, ValidationError
from core.reading_files import sort_problems
from db.engine import make_engine, read_session, write_session
from db.models import Team
from db.readings import import_readings
from db.report import report_json
from db.tokens import (
    LAST_USE_EVERY,
    READINGS_WRITE,
    REPORT_READ,
    TokenInfo,
    TokenRefused,
    authenticate,
    touch_token,
)
from ui.data import prepare_database

log = logging.getLogger("outcomes.api")
PREFIX = "/api/v1"
# A 100,000-row post is about 10 MB of JSON; refuse more before parsing it.
MAX_BODY_BYTES = 16 * 1024 * 1024

_engine: Engine | None = None
_engine_lock = threading.Lock()


def api_engine() -> Engine:
    """One engine per process for the API, migrated (and seeded on a new database, as the
    pages do) on first use."""
    global _engine
    with _engine_lock:
        if _engine is None:
            engine = make_engine()
            prepare_database(engine)
            _engine = engine
        return _engine


def public_read() -> bool:
    """`OUTCOMES_PUBLIC_READ` (default true), read as the pages read it (ui/auth.py)."""
    value = os.environ.get("OUTCOMES_PUBLIC_READ", "true").strip().lower()
    return value not in {"0", "false", "no", "off"}


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


def _problems(error: ValidationError, message: str = "invalid request") -> JSONResponse:
    return _error(
        422,
        f"{message}; nothing was written",
        problems=[api_problem(p) for p in error.problems],
    )


# ---------------------------------------------------------------- readings


def _foreign_rows(session: Any, token: TokenInfo, teams: list[tuple[int, str]]) -> list[int]:
    """Indexes of rows that name an existing team other than the token's: such a post
    is refused whole with 403 before anything else is looked at."""
    known = session.execute(select(Team.id, Team.key, Team.name)).all()
    others = {
        spelling.casefold()
        for team_id, key, name in known
        if team_id != token.team_id
        for spelling in (key, name)
    }
    mine = {token.team_key.casefold(), token.team_name.casefold()}
    return [index for index, team in teams if team.casefold() in others - mine]


def _post_readings(header: str | None, body: Any) -> JSONResponse:
    payload = parse_readings_payload(body)
    engine = api_engine()
    try:
        with write_session(engine) as session:
            token = authenticate(session, header=header, scope=READINGS_WRITE, touch=False)
            foreign = _foreign_rows(session, token, payload.teams)
            if foreign:
                shown = ", ".join(str(i) for i in foreign[:20])
                raise PermissionDenied(
                    f"token '{token.name}' may write readings of team {token.team_key} only; "
                    f"rows {shown} name another team"
                )
            if payload.problems:
                # Every bad row at once: the body's own problems and what the import
                # finds in the rows that parsed (a dry run writes nothing).
                checked = import_readings(
                    session,
                    actor=token.actor,
                    rows=payload.rows,
                    replace=payload.replace,
                    source="api",
                    dry_run=True,
                )
                raise ValidationError(sort_problems([*payload.problems, *checked.problems]))
            touch_token(session, token_id=token.id)
            result = import_readings(
                session,
                actor=token.actor,
                rows=payload.rows,
                replace=payload.replace,
                source="api",
            )
    except TokenRefused as error:
        return _error(401, str(error))
    except PermissionDenied as error:
        return _error(403, f"{error}; nothing was written")
    except ValidationError as error:
        return _problems(error, "invalid readings")
    return JSONResponse(
        {
            "written": result.added + result.replaced,
            "added": result.added,
            "replaced": result.replaced,
            "skipped": result.skipped,
        }
    )


async def post_readings(request: Request) -> JSONResponse:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
        return _error(413, f"the body is over {MAX_BODY_BYTES // (1024 * 1024)} MB")
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return _error(413, f"the body is over {MAX_BODY_BYTES // (1024 * 1024)} MB")
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError) as error:
        problem = Problem("body", f"is not JSON: {error}")
        return _problems(ValidationError(problem), "invalid body")
    header = request.headers.get("authorization")
    return await run_in_threadpool(_post_readings, header, body)


# ---------------------------------------------------------------- report


def _report(header: str | None, pi_name: str | None, as_of_text: str | None) -> JSONResponse:
    engine = api_engine()
    problems: list[Problem] = []
    if not pi_name:
        problems.append(Problem("pi", "is required (the PI's name)"))
    as_of = dt.date.today()
    if as_of_text:
        try:
            as_of = dt.date.fromisoformat(as_of_text)
        except ValueError:
            problems.append(Problem("as_of", f"'{as_of_text}' is not a date as YYYY-MM-DD"))
    token: TokenInfo | None = None
    try:
        if header is not None or not public_read():
            with read_session(engine) as session:
                token = authenticate(session, header=header, scope=REPORT_READ, touch=False)
            last = token.last_used_at
            if (
                last is None
                or dt.datetime.now(dt.UTC).replace(tzinfo=None) - last >= LAST_USE_EVERY
            ):
                with write_session(engine) as session:
                    touch_token(session, token_id=token.id)
        if problems:
            raise ValidationError(problems)
        with read_session(engine) as session:
            report = report_json(session, pi_name=pi_name or "", as_of=as_of)
    except TokenRefused as error:
        return _error(401, str(error))
    except PermissionDenied as error:
        return _error(403, str(error))
    except ValidationError as error:
        return _problems(error)
    return JSONResponse(report)


async def get_report(request: Request) -> JSONResponse:
    params = request.query_params
    return await run_in_threadpool(
        _report, request.headers.get("authorization"), params.get("pi"), params.get("as_of")
    )


# ---------------------------------------------------------------- health


def _health() -> JSONResponse:
    try:
        with read_session(api_engine()) as session:
            session.execute(text("SELECT 1")).scalar_one()
            teams = session.scalar(select(func.count()).select_from(Team))
    except Exception as error:  # the point of a health check: say it, do not raise
        log.warning("API health check failed: %s", type(error).__name__)
        return _error(503, "the database does not answer")
    return JSONResponse({"status": "ok", "teams": teams})


async def get_health(_request: Request) -> JSONResponse:
    return await run_in_threadpool(_health)


def api_routes() -> list[BaseRoute]:
    return [
        Route(f"{PREFIX}/readings", post_readings, methods=["POST"]),
        Route(f"{PREFIX}/report", get_report, methods=["GET"]),
        Route(f"{PREFIX}/health", get_health, methods=["GET"]),
    ]
