"""API tokens: create (the secret is returned once), revoke, list, and authenticate a
request's bearer token into the Actor its writes are made as.

A token reads `obt_<public id>_<secret>`. The public id finds the row in one indexed
look-up; the secret is checked against a salted SHA-256 hash with a constant-time compare.
Why not argon2 as for passwords: a token's secret is 256 random bits, so nothing can be
guessed from a fast hash, and argon2's 0.13 s per check would bound the API at a few
requests per second per core. Revoked tokens fail at once: every request reads the row."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import Actor, can_edit_team
from core.errors import PermissionDenied, Problem, ValidationError
from core.validate import unstorable
from db.audit import record_audit, utcnow
from db.models import TOKEN_SCOPES, ApiToken, Team
from db.submissions import claim_submission

PREFIX = "obt_"
READINGS_WRITE = "readings:write"
REPORT_READ = "report:read"
NAME_LENGTH = 120  # ApiToken.name
# A token's last use is written at most this often by reads, so a busy report poller does
# not turn every read into a write (each write makes every app process re-read its caches).
LAST_USE_EVERY = dt.timedelta(seconds=60)


class TokenRefused(Exception):
    """The request carries no valid token (missing, malformed, unknown or revoked): 401."""


@dataclass(frozen=True)
class TokenInfo:
    """A token as lists and the API see it (never its secret or hash)."""

    id: int
    name: str
    team_id: int
    team_key: str
    team_name: str
    scope: str
    created_by: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @property
    def actor(self) -> Actor:
        """The Actor a token's writes are made as: an editor of its one team, named after
        the token, so the write path limits it to that team and audits it by name."""
        return Actor(
            username=token_actor_name(self.name),
            role="editor",
            team_ids=frozenset({self.team_id}),
            display_name=f"API token {self.name}",
        )


def token_actor_name(name: str) -> str:
    return f"token:{name}"


def _hash(salt: str, secret: str) -> str:
    return hmac.new(bytes.fromhex(salt), secret.encode("utf-8"), hashlib.sha256).hexdigest()


def _info(token: ApiToken, team: Team) -> TokenInfo:
    return TokenInfo(
        token.id,
        token.name,
        team.id,
        team.key,
        team.name,
        token.scope,
        token.created_by,
        token.created_at,
        token.last_used_at,
        token.revoked_at,
    )


def _team_by_key(session: Session, key: str) -> Team:
    team = session.scalar(select(Team).where(func.lower(Team.key) == key.strip().lower()))
    if team is None:
        raise ValidationError(Problem("team", f"no team has the key '{key}'"))
    return team


def create_token(
    session: Session,
    *,
    actor: Actor,
    name: str,
    team_key: str,
    scope: str,
    submission_key: str | None = None,
) -> tuple[TokenInfo, str]:
    """Create a token for one team and scope; returns it and its secret, which is shown
    once and never stored. Admins for any team, editors for their own teams."""
    name = name.strip() if isinstance(name, str) else ""
    problems: list[Problem] = []
    if not name:
        problems.append(Problem("name", "is required"))
    elif len(name) > NAME_LENGTH or unstorable(name):
        problems.append(Problem("name", f"must be at most {NAME_LENGTH} printable characters"))
    if scope not in TOKEN_SCOPES:
        problems.append(Problem("scope", f"must be one of {', '.join(TOKEN_SCOPES)}"))
    if problems:
        raise ValidationError(problems)
    team = _team_by_key(session, team_key)
    if not can_edit_team(actor, team.id):
        raise PermissionDenied(
            f"{actor.username} ({actor.role}) may not create tokens for team '{team.name}'."
        )
    if session.scalar(select(ApiToken.id).where(func.lower(ApiToken.name) == name.lower())):
        raise ValidationError(Problem("name", f"a token named '{name}' exists already"))
    claim_submission(session, key=submission_key)
    secret = secrets.token_urlsafe(32)
    public_id = secrets.token_hex(6)
    salt = secrets.token_hex(16)
    token = ApiToken(
        name=name,
        public_id=public_id,
        salt=salt,
        secret_hash=_hash(salt, secret),
        team_id=team.id,
        scope=scope,
        created_by=actor.username,
        created_at=utcnow(),
    )
    session.add(token)
    session.flush()
    record_audit(
        session,
        actor=actor,
        action="create",
        entity="api_token",
        entity_id=token.id,
        summary=f"created API token '{name}' for team {team.name} ({scope})",
        after={"name": name, "team": team.key, "scope": scope},
    )
    return _info(token, team), f"{PREFIX}{public_id}_{secret}"


def revoke_token(
    session: Session, *, actor: Actor, name: str, submission_key: str | None = None
) -> TokenInfo:
    """Revoke a token by name: every later request with it fails. Admins for any team,
    editors for their own teams. Revoking a revoked token changes nothing."""
    row = session.execute(
        select(ApiToken, Team)
        .join(Team, ApiToken.team_id == Team.id)
        .where(func.lower(ApiToken.name) == (name or "").strip().lower())
    ).one_or_none()
    if row is None:
        raise ValidationError(Problem("name", f"no token is named '{name}'"))
    token, team = row
    if not can_edit_team(actor, team.id):
        raise PermissionDenied(
            f"{actor.username} ({actor.role}) may not revoke tokens of team '{team.name}'."
        )
    claim_submission(session, key=submission_key)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_audit(
            session,
            actor=actor,
            action="update",
            entity="api_token",
            entity_id=token.id,
            summary=f"revoked API token '{token.name}' of team {team.name}",
            before={"revoked_at": None},
            after={"revoked_at": token.revoked_at},
        )
    return _info(token, team)


def list_tokens(session: Session, *, team_ids: set[int] | None = None) -> list[TokenInfo]:
    """Tokens newest first, optionally of some teams only."""
    query = select(ApiToken, Team).join(Team, ApiToken.team_id == Team.id)
    if team_ids is not None:
        query = query.where(ApiToken.team_id.in_(sorted(team_ids)))
    rows = session.execute(query.order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))
    return [_info(token, team) for token, team in rows]


def parse_bearer(header: str | None) -> tuple[str, str]:
    """The public id and secret of an `Authorization: Bearer obt_...` header."""
    if not header:
        raise TokenRefused("missing Authorization: Bearer token")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip().startswith(PREFIX):
        raise TokenRefused("the Authorization header is not 'Bearer obt_...'")
    public_id, _, secret = value.strip()[len(PREFIX) :].partition("_")
    if not public_id or not secret:
        raise TokenRefused("malformed token")
    return public_id, secret


def authenticate(
    session: Session, *, header: str | None, scope: str, touch: bool = True
) -> TokenInfo:
    """The token of a request's Authorization header, checked: it exists, is not revoked,
    its secret matches (constant-time) and it has `scope`. Raises TokenRefused (401) or
    PermissionDenied (a valid token without the scope: 403). `touch` records its use in
    the caller's transaction (a write session)."""
    public_id, secret = parse_bearer(header)
    row = session.execute(
        select(ApiToken, Team)
        .join(Team, ApiToken.team_id == Team.id)
        .where(ApiToken.public_id == public_id)
    ).one_or_none()
    # Hash even when no row matched, so timing does not tell known ids from unknown ones.
    salt, stored = (row[0].salt, row[0].secret_hash) if row else ("00" * 16, "")
    matches = hmac.compare_digest(_hash(salt, secret), stored)
    if row is None or not matches:
        raise TokenRefused("unknown token")
    token, team = row
    if token.revoked_at is not None:
        raise TokenRefused(f"token '{token.name}' was revoked")
    if token.scope != scope:
        raise PermissionDenied(f"token '{token.name}' has the scope {token.scope}, not {scope}")
    now = utcnow()
    if touch and (token.last_used_at is None or now - token.last_used_at >= LAST_USE_EVERY):
        token.last_used_at = now
    return _info(token, team)


def touch_token(session: Session, *, token_id: int, at: dt.datetime | None = None) -> None:
    """Record a token's use now, in the caller's write transaction."""
    token = session.get(ApiToken, token_id)
    if token is not None:
        token.last_used_at = at or utcnow()
