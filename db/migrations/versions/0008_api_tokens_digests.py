"""API tokens, digest destinations, and the api/sync reading sources

Team tokens let a pipeline write one team's readings over the HTTP API (stored as a salted
hash, revocable); digest destinations say where a team's or a train's weekly digest goes.
Readings may now come from `api` as well (issue 13; `sync` came with 0007).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OLD_SOURCES = "source IN ('form', 'bulk', 'import', 'cli', 'sync')"
NEW_SOURCES = "source IN ('form', 'bulk', 'import', 'cli', 'sync', 'api')"


def _reading_sources(condition: str) -> None:
    # Batch mode rebuilds the table on SQLite (it cannot alter a CHECK in place).
    with op.batch_alter_table("readings") as batch_op:
        batch_op.drop_constraint(op.f("ck_readings_source_known"), type_="check")
        batch_op.create_check_constraint("source_known", condition)


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("public_id", sa.String(length=16), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "scope IN ('readings:write', 'report:read')", name=op.f("ck_api_tokens_scope_known")
        ),
        sa.CheckConstraint("length(trim(name)) > 0", name=op.f("ck_api_tokens_name_not_blank")),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_api_tokens_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("name", name=op.f("uq_api_tokens_name")),
        sa.UniqueConstraint("public_id", name=op.f("uq_api_tokens_public_id")),
    )
    op.create_table(
        "digest_destinations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("train_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("target", sa.String(length=1000), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('webhook', 'email')", name=op.f("ck_digest_destinations_kind_known")
        ),
        sa.CheckConstraint(
            "(team_id IS NULL) <> (train_id IS NULL)",
            name=op.f("ck_digest_destinations_team_or_train"),
        ),
        sa.CheckConstraint(
            "length(trim(target)) > 0", name=op.f("ck_digest_destinations_target_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_digest_destinations_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["train_id"], ["trains.id"], name=op.f("fk_digest_destinations_train_id_trains")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_destinations")),
    )
    _reading_sources(NEW_SOURCES)


def downgrade() -> None:
    # The readings stay (they are the teams' data); 0007 keeps the same rule for `sync`.
    op.execute("UPDATE readings SET source = 'cli' WHERE source = 'api'")
    _reading_sources(OLD_SOURCES)
    op.drop_table("digest_destinations")
    op.drop_table("api_tokens")
