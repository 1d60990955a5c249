"""Inspect & Adapt on the PI review page and as a presentation slide: every hypothesis of
the PI with verdict, effect and interval, decision and learning, grouped by decision,
those whose window closed without a decision first (core/inspect_adapt.py groups them)."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from core.inspect_adapt import OPEN, WAITING, InspectGroup, InspectRow, effect_text
from ui.text import escape_markdown
from ui.theme import verdict_label

# How many hypotheses a slide lists per group: it is read from the back of a room.
SLIDE_ROWS_PER_GROUP = 3

# What the room decides on comes first (verdict, effect, decision, learning); the
# hypothesis text, the widest, last.
COLUMNS = {
    "outcome": st.column_config.TextColumn("Outcome", width="small"),
    "team": st.column_config.TextColumn("Team", width="small"),
    "verdict": st.column_config.TextColumn("Verdict", width="small"),
    "effect": st.column_config.TextColumn(
        "Effect", width="small", help="In the expected direction, in the metric's unit"
    ),
    "decision": st.column_config.TextColumn("Decision", width="small"),
    "learning": st.column_config.TextColumn("Learning", width="large"),
    "hypothesis": st.column_config.TextColumn("Hypothesis", width="large"),
}


def verdict_text(row: InspectRow) -> str:
    """The computed verdict, and the team's override beside it (never instead)."""
    text = verdict_label(row.verdict)
    if row.override:
        text += f" (team says {verdict_label(row.override).lower()})"
    return text


def table_rows(rows: Sequence[InspectRow]) -> list[dict[str, str]]:
    """Rows for a dataframe, which shows user text as text."""
    return [
        {
            "team": r.team,
            "outcome": r.outcome_key,
            "hypothesis": f"If {r.if_text}, we expect {r.expect_text}",
            "verdict": verdict_text(r),
            "effect": effect_text(r),
            "decision": (r.decision or "").capitalize(),
            "learning": r.learning,
        }
        for r in rows
    ]


def inspect_adapt_section(groups: Sequence[InspectGroup]) -> None:
    """The review page's section: one table per group."""
    st.header("Inspect & Adapt", anchor=False)
    if not groups:
        st.caption("No hypotheses in this PI.")
        return
    st.caption(
        "Every hypothesis of the PI with what the metrics say and what the team decided. "
        "Teams record learnings and decisions on each outcome's page."
    )
    for group in groups:
        count = len(group.rows)
        if group.code == WAITING:
            st.warning(
                f"**{group.title}:** {count} hypothes{'is' if count == 1 else 'es'} "
                "waiting for persevere, pivot or stop.",
                icon=":material/pending_actions:",
            )
        else:
            st.subheader(f"{group.title} ({count})", anchor=False)
        st.dataframe(
            table_rows(group.rows),
            hide_index=True,
            column_config=COLUMNS,
            column_order=list(COLUMNS),
        )


def inspect_adapt_slide(groups: Sequence[InspectGroup]) -> None:
    """The presentation slide: what waits for a decision, then the decisions, a few
    hypotheses each in big type; the still-open ones only as a count (it must fit one
    screen read from the back of a room)."""
    st.title("Inspect & Adapt", anchor=False)
    if not groups:
        st.markdown("### No hypotheses in this PI.")
        return
    for group in groups:
        count = len(group.rows)
        if group.code == OPEN:
            st.markdown(f"### {group.title} · {count}")
            continue
        icon = ":material/pending_actions: " if group.code == WAITING else ""
        st.markdown(f"### {icon}{group.title} · {count}")
        for row in group.rows[:SLIDE_ROWS_PER_GROUP]:
            line = (
                f"**{escape_markdown(row.outcome_key)}** · If {escape_markdown(row.if_text)} — "
                f"{escape_markdown(verdict_text(row))}"
            )
            if row.figures.effect is not None:
                line += f", {escape_markdown(effect_text(row))}"
            if row.learning:
                line += f"  \n*{escape_markdown(row.learning)}*"
            st.markdown(line)
        if count > SLIDE_ROWS_PER_GROUP:
            st.markdown(f"… and {count - SLIDE_ROWS_PER_GROUP} more (PI review lists them all)")
