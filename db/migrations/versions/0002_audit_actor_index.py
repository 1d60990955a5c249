"""index audit events by actor

The audit log (Admin page) lists its actors (SELECT DISTINCT actor) on every run and
filters by them ("Who"): both scanned the whole table, with a temporary sort for the list.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain CREATE INDEX on both dialects: no table rebuild, so no batch mode needed.
    op.create_index("ix_audit_actor", "audit_events", ["actor"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_actor", table_name="audit_events")
