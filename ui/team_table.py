"""The overview's team table on any screen: one header row above the rows on a laptop; on
a phone, where Streamlit stacks a row's columns one under another (viewport at most 640 px
wide), the header row would be a list of names far from their values, so there each value
carries its own column name and each team starts with a rule (issue 14 item 7)."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

TEAM_COLUMNS = ("Team", "Outcomes by health", "Mean progress", "Predictability", "Last update")
TEAM_WIDTHS = (2.2, 3.2, 2, 2.2, 1.4)
# A constant (no user text ever goes in here; tests/test_safe_rendering.py checks it).
# Streamlit stacks columns at a viewport of 640 px and below (its `st.columns` docs). A
# hidden label's layout wrapper goes too, or the column's gap would still be left for it.
TEAM_TABLE_CSS = """<style>
@media (min-width: 641px) {
  [data-testid="stLayoutWrapper"]:has(> [class*="st-key-team-label-"]),
  [class*="st-key-team-label-"] { display: none; }
}
@media (max-width: 640px) {
  .st-key-team-table-header { display: none; }
  [class*="st-key-team-row-"] { border-top: 1px solid rgba(128, 128, 128, 0.4);
    padding-top: 0.75rem; }
}
</style>"""


def team_table_header() -> None:
    """The header row (laptop) and the style that swaps it for per-value names (phone)."""
    st.html(TEAM_TABLE_CSS)
    header = st.container(key="team-table-header")
    columns = header.columns(TEAM_WIDTHS, vertical_alignment="center")
    for column, name in zip(columns, TEAM_COLUMNS, strict=True):
        column.caption(name)


def team_table_row(index: int) -> Sequence[DeltaGenerator]:
    """Row `index`'s cells, each starting with its column's name (shown on a phone only)."""
    row = st.container(key=f"team-row-{index}")
    cells = row.columns(TEAM_WIDTHS, vertical_alignment="center")
    for number, (cell, name) in enumerate(zip(cells, TEAM_COLUMNS, strict=True)):
        cell.container(key=f"team-label-{index}-{number}").caption(name)
    return cells
