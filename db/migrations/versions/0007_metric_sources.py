"""metric sources: where a metric's values come from, and readings with source "sync"

One optional source per metric (sql, prometheus, http_json, csv_url) with its last sync
time, outcome and error (issue 12). The spec holds connection names only; URLs, tokens
and passwords stay in .streamlit/secrets.toml or the environment. Readings written by a
sync carry the source "sync", so the readings' CHECK learns that word.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_OLD_SOURCES = "source IN ('form', 'bulk', 'import', 'cli')"
_NEW_SOURCES = "source IN ('form', 'bulk', 'import', 'cli', 'sync')"


def upgrade() -> None:
    op.create_table(
        "metric_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("last_sync_at", sa.DateTime(), nullable=True),
        sa.Column("last_outcome", sa.String(length=20), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("failing_since", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('sql', 'prometheus', 'http_json', 'csv_url')",
            name=op.f("ck_metric_sources_kind_known"),
        ),
        sa.CheckConstraint(
            "last_outcome IS NULL OR last_outcome IN ('ok', 'failed', 'nothing_new')",
            name=op.f("ck_metric_sources_outcome_known"),
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"], ["metrics.id"], name=op.f("fk_metric_sources_metric_id_metrics")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_sources")),
        sa.UniqueConstraint("metric_id", name=op.f("uq_metric_sources_metric_id")),
    )
    with op.batch_alter_table("readings") as batch:
        batch.drop_constraint(op.f("ck_readings_source_known"), type_="check")
        batch.create_check_constraint(op.f("ck_readings_source_known"), _NEW_SOURCES)


def downgrade() -> None:
    # Readings a sync wrote become command-line readings: the old CHECK knows no "sync".
    op.execute("UPDATE readings SET source = 'cli' WHERE source = 'sync'")
    with op.batch_alter_table("readings") as batch:
        batch.drop_constraint(op.f("ck_readings_source_known"), type_="check")
        batch.create_check_constraint(op.f("ck_readings_source_known"), _OLD_SOURCES)
    op.drop_table("metric_sources")
