"""iterations and iteration goals

Iterations are time-boxes inside a PI; iteration goals are one outcome-focused goal per
team per iteration. Every PI that exists when this revision is applied gets its
iterations made from its dates (the same rule as a new PI: core.iterations), so the
pages that show "the current iteration's goal" work at once after an upgrade, without
an admin having to find and press a button for each PI first.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.iterations import plan_iterations

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    iterations = op.create_table(
        "iterations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pi_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "end_date >= start_date", name=op.f("ck_iterations_end_not_before_start")
        ),
        sa.CheckConstraint("length(trim(name)) > 0", name=op.f("ck_iterations_name_not_blank")),
        sa.ForeignKeyConstraint(["pi_id"], ["pis.id"], name=op.f("fk_iterations_pi_id_pis")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iterations")),
        sa.UniqueConstraint("pi_id", "name", name=op.f("uq_iterations_pi_id_name")),
    )
    op.create_index("ix_iterations_pi_start", "iterations", ["pi_id", "start_date"], unique=False)
    op.create_table(
        "iteration_goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iteration_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("outcome_id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=True),
        sa.Column("met", sa.Boolean(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "length(trim(goal)) > 0", name=op.f("ck_iteration_goals_goal_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["iteration_id"],
            ["iterations.id"],
            name=op.f("fk_iteration_goals_iteration_id_iterations"),
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"], ["metrics.id"], name=op.f("fk_iteration_goals_metric_id_metrics")
        ),
        sa.ForeignKeyConstraint(
            ["outcome_id"], ["outcomes.id"], name=op.f("fk_iteration_goals_outcome_id_outcomes")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_iteration_goals_team_id_teams")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iteration_goals")),
        sa.UniqueConstraint(
            "iteration_id", "team_id", name=op.f("uq_iteration_goals_iteration_id_team_id")
        ),
    )
    op.create_index("ix_iteration_goals_outcome", "iteration_goals", ["outcome_id"], unique=False)

    # Existing PIs get their iterations, as a PI created from now on does.
    pis = sa.table(
        "pis",
        sa.column("id", sa.Integer),
        sa.column("start_date", sa.Date),
        sa.column("end_date", sa.Date),
    )
    connection = op.get_bind()
    rows = [
        {
            "pi_id": pi_id,
            "name": span.name,
            "start_date": span.start,
            "end_date": span.end,
            "version": 1,
        }
        for pi_id, start, end in connection.execute(
            sa.select(pis.c.id, pis.c.start_date, pis.c.end_date).order_by(pis.c.id)
        )
        for span in plan_iterations(start, end)
    ]
    if rows:
        op.bulk_insert(iterations, rows)


def downgrade() -> None:
    op.drop_index("ix_iteration_goals_outcome", table_name="iteration_goals")
    op.drop_table("iteration_goals")
    op.drop_index("ix_iterations_pi_start", table_name="iterations")
    op.drop_table("iterations")
