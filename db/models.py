"""SQLAlchemy models: every entity of the product's domain, with the constraints that keep
data valid in the database itself (unique names, foreign keys, CHECKs)."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.sources import OUTCOMES as SOURCE_OUTCOMES

# Alembic needs stable constraint names to alter tables in batch mode on SQLite.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_session_version() -> int:
    """A fresh session version: random in the range of a 32-bit INTEGER column."""
    return secrets.randbelow(2**31 - 2) + 2  # never 1, the value of a new account


OUTCOME_STATUSES = ("draft", "active", "closed", "archived")
TARGET_KINDS = ("increase", "decrease", "maintain")
DIRECTIONS = ("increase", "decrease")
EFFECT_UNITS = ("absolute", "percent")
VERDICTS = ("untested", "measuring", "supported", "refuted", "inconclusive")
DECISIONS = ("persevere", "pivot", "stop")
READING_SOURCES = ("form", "bulk", "import", "cli", "sync", "api")
SOURCE_KINDS = ("sql", "prometheus", "http_json", "csv_url")
SYNC_OUTCOMES = SOURCE_OUTCOMES  # core/sources.py: ok, failed, nothing_new
ROLES = ("admin", "editor", "viewer")
AUDIT_ACTIONS = ("create", "update", "delete", "import", "restore")
TOKEN_SCOPES = ("readings:write", "report:read")
DIGEST_KINDS = ("webhook", "email")

# A finite number: rejects +/-Infinity on both databases and NaN on PostgreSQL (SQLite
# stores NaN as NULL, which NOT NULL rejects).
FINITE = "BETWEEN -1.0e308 AND 1.0e308"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Train(Base):
    __tablename__ = "trains"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),)
    __mapper_args__ = {"version_id_col": version}


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    key: Mapped[str] = mapped_column(String(20), unique=True)
    train_id: Mapped[int | None] = mapped_column(ForeignKey("trains.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    train: Mapped[Train | None] = relationship()

    __table_args__ = (
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        CheckConstraint("length(trim(key)) > 0", name="key_not_blank"),
    )
    __mapper_args__ = {"version_id_col": version}


class PI(Base):
    __tablename__ = "pis"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    train_id: Mapped[int | None] = mapped_column(ForeignKey("trains.id"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    train: Mapped[Train | None] = relationship()

    __table_args__ = (
        CheckConstraint("end_date > start_date", name="end_after_start"),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        Index("ix_pis_train_start", "train_id", "start_date"),
    )
    __mapper_args__ = {"version_id_col": version}


class Metric(Base):
    __tablename__ = "metrics"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(20), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    update_interval_days: Mapped[int] = mapped_column(Integer, default=14)
    decimals: Mapped[int] = mapped_column(Integer, default=1)
    leading: Mapped[bool] = mapped_column(Boolean, default=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)

    team: Mapped[Team] = relationship()

    __table_args__ = (
        UniqueConstraint("team_id", "name"),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        CheckConstraint("update_interval_days BETWEEN 1 AND 366", name="interval_range"),
        CheckConstraint("decimals BETWEEN 0 AND 6", name="decimals_range"),
    )
    __mapper_args__ = {"version_id_col": version}


class Reading(Base):
    __tablename__ = "readings"

    id: Mapped[int] = mapped_column(primary_key=True)
    metric_id: Mapped[int] = mapped_column(ForeignKey("metrics.id"))
    date: Mapped[dt.date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(10), default="form")
    entered_by: Mapped[str] = mapped_column(String(120), default="")
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())

    __table_args__ = (
        # One reading per metric and date; the same index serves "latest reading per
        # metric" (descending scan) and "readings of these metrics between two dates".
        UniqueConstraint("metric_id", "date", name="uq_readings_metric_date"),
        CheckConstraint(f"value {FINITE}", name="value_finite"),
        CheckConstraint(_in("source", READING_SOURCES), name="source_known"),
    )


class MetricSource(Base):
    """Where a metric's values come from when nobody types them (issue 12). `spec` is the
    JSON of `core.sources.SourceSpec`: connection *names* only, never a secret."""

    __tablename__ = "metric_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    metric_id: Mapped[int] = mapped_column(ForeignKey("metrics.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    spec: Mapped[str] = mapped_column(Text)  # JSON
    last_sync_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_outcome: Mapped[str | None] = mapped_column(String(20))
    last_error: Mapped[str] = mapped_column(Text, default="")
    # The first failed sync of the current run of failures (None while it works): the
    # overview lists sources failing for 3 days and more.
    failing_since: Mapped[dt.datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    metric: Mapped[Metric] = relationship()

    __table_args__ = (
        CheckConstraint(_in("kind", SOURCE_KINDS), name="kind_known"),
        CheckConstraint(
            f"last_outcome IS NULL OR {_in('last_outcome', SYNC_OUTCOMES)}", name="outcome_known"
        ),
    )
    __mapper_args__ = {"version_id_col": version}


class Release(Base):
    __tablename__ = "releases"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    name: Mapped[str] = mapped_column(String(120))
    date: Mapped[dt.date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)

    team: Mapped[Team] = relationship()

    __table_args__ = (
        UniqueConstraint("team_id", "name"),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        Index("ix_releases_team_date", "team_id", "date"),
    )
    __mapper_args__ = {"version_id_col": version}


class Outcome(Base):
    __tablename__ = "outcomes"

    id: Mapped[int] = mapped_column(primary_key=True)
    pi_id: Mapped[int] = mapped_column(ForeignKey("pis.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    key: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    why: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(120), default="")
    committed: Mapped[bool] = mapped_column(Boolean, default=True)
    planned_bv: Mapped[int | None] = mapped_column(Integer)
    actual_bv: Mapped[int | None] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("outcomes.id"))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    position: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)

    pi: Mapped[PI] = relationship()
    team: Mapped[Team | None] = relationship()
    targets: Mapped[list[Target]] = relationship(
        back_populates="outcome", order_by="Target.position", cascade="all, delete-orphan"
    )
    hypotheses: Mapped[list[Hypothesis]] = relationship(
        back_populates="outcome", order_by="Hypothesis.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("pi_id", "key"),
        CheckConstraint("length(trim(key)) > 0", name="key_not_blank"),
        CheckConstraint("length(trim(title)) > 0", name="title_not_blank"),
        CheckConstraint(
            "planned_bv IS NULL OR planned_bv BETWEEN 1 AND 10", name="planned_bv_range"
        ),
        CheckConstraint("actual_bv IS NULL OR actual_bv BETWEEN 0 AND 10", name="actual_bv_range"),
        CheckConstraint(_in("status", OUTCOME_STATUSES), name="status_known"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
        Index("ix_outcomes_pi_team", "pi_id", "team_id"),
    )
    __mapper_args__ = {"version_id_col": version}


class Target(Base):
    __tablename__ = "targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("outcomes.id", ondelete="CASCADE"))
    metric_id: Mapped[int] = mapped_column(ForeignKey("metrics.id"))
    baseline: Mapped[float | None] = mapped_column(Float)
    baseline_date: Mapped[dt.date | None] = mapped_column(Date)
    target: Mapped[float | None] = mapped_column(Float)
    target_date: Mapped[dt.date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))
    band_low: Mapped[float | None] = mapped_column(Float)
    band_high: Mapped[float | None] = mapped_column(Float)
    position: Mapped[int] = mapped_column(Integer, default=0)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)

    outcome: Mapped[Outcome] = relationship(back_populates="targets")
    metric: Mapped[Metric] = relationship()

    __table_args__ = (
        UniqueConstraint("outcome_id", "metric_id"),
        CheckConstraint(_in("kind", TARGET_KINDS), name="kind_known"),
        CheckConstraint(
            "kind <> 'maintain' OR (band_low IS NOT NULL AND band_high IS NOT NULL"
            " AND band_low <= band_high)",
            name="maintain_has_band",
        ),
        CheckConstraint(
            "kind = 'maintain' OR (target IS NOT NULL"
            " AND (baseline IS NULL OR baseline <> target))",
            name="target_differs_from_baseline",
        ),
        CheckConstraint(f"baseline IS NULL OR baseline {FINITE}", name="baseline_finite"),
        CheckConstraint(f"target IS NULL OR target {FINITE}", name="target_finite"),
    )
    __mapper_args__ = {"version_id_col": version}


class Hypothesis(Base):
    __tablename__ = "hypotheses"

    id: Mapped[int] = mapped_column(primary_key=True)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("outcomes.id", ondelete="CASCADE"))
    metric_id: Mapped[int] = mapped_column(ForeignKey("metrics.id"))
    if_text: Mapped[str] = mapped_column(Text)
    expect_text: Mapped[str] = mapped_column(Text)
    because_text: Mapped[str] = mapped_column(Text, default="")
    direction: Mapped[str] = mapped_column(String(10))
    min_effect: Mapped[float] = mapped_column(Float, default=0.0)
    min_effect_unit: Mapped[str] = mapped_column(String(10), default="absolute")
    release_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"))
    window_days: Mapped[int] = mapped_column(Integer, default=28)
    override: Mapped[str | None] = mapped_column(String(15))
    override_reason: Mapped[str | None] = mapped_column(Text)
    learning: Mapped[str] = mapped_column(Text, default="")
    decision: Mapped[str | None] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(Integer, default=0)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)

    outcome: Mapped[Outcome] = relationship(back_populates="hypotheses")
    metric: Mapped[Metric] = relationship()
    release: Mapped[Release | None] = relationship()

    __table_args__ = (
        CheckConstraint(_in("direction", DIRECTIONS), name="direction_known"),
        CheckConstraint(_in("min_effect_unit", EFFECT_UNITS), name="effect_unit_known"),
        CheckConstraint(f"min_effect >= 0 AND min_effect {FINITE}", name="min_effect_range"),
        CheckConstraint("window_days BETWEEN 1 AND 366", name="window_range"),
        CheckConstraint(f"override IS NULL OR {_in('override', VERDICTS)}", name="override_known"),
        CheckConstraint(f"decision IS NULL OR {_in('decision', DECISIONS)}", name="decision_known"),
        CheckConstraint("length(trim(if_text)) > 0", name="if_not_blank"),
        Index("ix_hypotheses_outcome", "outcome_id"),
    )
    __mapper_args__ = {"version_id_col": version}


class Iteration(Base):
    """A time-box inside a PI (both dates inclusive); a PI's iterations do not overlap
    (checked in the write path: a CHECK cannot see other rows)."""

    __tablename__ = "iterations"

    id: Mapped[int] = mapped_column(primary_key=True)
    pi_id: Mapped[int] = mapped_column(ForeignKey("pis.id"))
    name: Mapped[str] = mapped_column(String(30))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)

    pi: Mapped[PI] = relationship()

    __table_args__ = (
        UniqueConstraint("pi_id", "name"),
        CheckConstraint("end_date >= start_date", name="end_not_before_start"),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        Index("ix_iterations_pi_start", "pi_id", "start_date"),
    )
    __mapper_args__ = {"version_id_col": version}


class IterationGoal(Base):
    """One outcome-focused goal per team per iteration, tied to one of the team's
    outcomes in that PI and optionally a metric; `met` None is "unknown"."""

    __tablename__ = "iteration_goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    iteration_id: Mapped[int] = mapped_column(ForeignKey("iterations.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    goal: Mapped[str] = mapped_column(Text)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("outcomes.id"))
    metric_id: Mapped[int | None] = mapped_column(ForeignKey("metrics.id"))
    met: Mapped[bool | None] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer, default=1)

    iteration: Mapped[Iteration] = relationship()
    team: Mapped[Team] = relationship()
    outcome: Mapped[Outcome] = relationship()
    metric: Mapped[Metric | None] = relationship()

    __table_args__ = (
        UniqueConstraint("iteration_id", "team_id"),
        CheckConstraint("length(trim(goal)) > 0", name="goal_not_blank"),
        Index("ix_iteration_goals_outcome", "outcome_id"),
    )
    __mapper_args__ = {"version_id_col": version}


class CheckIn(Base):
    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("outcomes.id", ondelete="CASCADE"))
    date: Mapped[dt.date] = mapped_column(Date)
    confidence: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(120), default="")

    __table_args__ = (
        CheckConstraint("confidence BETWEEN 1 AND 10", name="confidence_range"),
        Index("ix_checkins_outcome_date", "outcome_id", "date"),
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Changed (to a fresh random value) by a password change, a role change, disabling
    # and a restore: a session signed in under another value has ended (db.sessions).
    # Random rather than counted, so that a restored file never brings back the value an
    # open session holds.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role_known"),
        CheckConstraint("length(trim(username)) > 0", name="username_not_blank"),
    )
    __mapper_args__ = {"version_id_col": version}


class BrowserSession(Base):
    """A sign-in that lasts in one browser (api/sign_in.py, db/browser_sessions.py): the
    browser holds a random id in an HttpOnly cookie; only its SHA-256 is stored here, so
    a copy of the database signs nobody in. Valid while not revoked (that browser signed
    out), not expired, the account active and its session_version unchanged (a password,
    role or active change, a restore, "sign out everywhere" end every one at once)."""

    __tablename__ = "browser_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    session_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class SignInThrottle(Base):
    """Failed sign-ins counted per key (db.sign_in): an account typed from one client
    address ("pair:..."), a client address ("client:..."), and the whole server
    ("global"). Unknown usernames are counted like known ones, so a lock reveals nothing."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime)
    lockouts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)


class UserTeam(Base):
    """The teams an editor may change."""

    __tablename__ = "user_teams"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(10))
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    before: Mapped[str | None] = mapped_column(Text)  # JSON
    after: Mapped[str | None] = mapped_column(Text)  # JSON

    __table_args__ = (
        CheckConstraint(_in("action", AUDIT_ACTIONS), name="action_known"),
        Index("ix_audit_entity", "entity", "entity_id"),
        Index("ix_audit_at", "at"),
        # The audit log's "Who" filter and its list of actors.
        Index("ix_audit_actor", "actor"),
    )


class SubmissionKey(Base):
    """Idempotency keys of submitted forms, so a double click or a rerun writes once."""

    __tablename__ = "submission_keys"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    result: Mapped[str] = mapped_column(Text, default="")


class DataVersion(Base):
    """One row that changes in every committed write transaction (`db/version.py`), so
    every app process can tell in one cheap query whether its cached reads are current."""

    __tablename__ = "data_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Counts write transactions: for people and tests; caches key on `token`.
    counter: Mapped[int] = mapped_column(Integer, default=0)
    # Random per write: a restored or copied database never repeats another's version,
    # even when its counter happens to match.
    token: Mapped[str] = mapped_column(String(32))

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class ApiToken(Base):
    """A named, revocable secret that lets a program write one team's readings or read
    the report over the HTTP API. Only a salted hash of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # The token's public part, sent in front of the secret, to find its row in one look-up.
    public_id: Mapped[str] = mapped_column(String(16), unique=True)
    salt: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    scope: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint(_in("scope", TOKEN_SCOPES), name="scope_known"),
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
    )


class DigestDestination(Base):
    """Where `manage.py digest --send` delivers a team's or a train's digest: a chat
    webhook named in secrets (the URL itself is never stored) or e-mail addresses."""

    __tablename__ = "digest_destinations"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    train_id: Mapped[int | None] = mapped_column(ForeignKey("trains.id"))
    kind: Mapped[str] = mapped_column(String(10))
    # webhook: the secret's name; email: comma-separated addresses.
    target: Mapped[str] = mapped_column(String(1000))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint(_in("kind", DIGEST_KINDS), name="kind_known"),
        CheckConstraint("(team_id IS NULL) <> (train_id IS NULL)", name="team_or_train"),
        CheckConstraint("length(trim(target)) > 0", name="target_not_blank"),
    )
