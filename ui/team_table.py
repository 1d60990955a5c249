"""The overview's team table on any screen: one header row above the rows on a laptop; on
a phone, where Streamlit stacks a row's columns one under another (viewport at most 640 px
wide), the header row would be a list of names far from their values, so there each value
carries its own column name and each team starts with a rule (issue 14 item 7).

A train of more teams than SAFe's largest Agile Release Train (12) shows the first 12
and the rest in an expander drawn only once opened: each row is a dozen elements, and at
50 teams the rows were most of the overview's run (issue 16: warm run 354 ms, 249 ms
without them, against a one-line page's 189-201 ms)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.format import day_text, format_percent
from core.model import TeamStatus
from ui.filters import page_params
from ui.format import count_badges_md, health_counts, mean_progress, predictability_text
from ui.text import escape_markdown
from ui.theme import HEALTH_ORDER

TEAM_COLUMNS = ("Team", "Outcomes by health", "Mean progress", "Predictability", "Last update")
TEAM_WIDTHS = (2.2, 3.2, 2, 2.2, 1.4)
TEAMS_SHOWN = 12  # SAFe: an Agile Release Train has 5 to 12 teams
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


def team_table(
    teams: Sequence[TeamStatus], *, pi_name: str, last_update: Mapping[int, dt.date]
) -> None:
    """Every team's row: the first `TEAMS_SHOWN`, then the rest once asked for."""
    team_table_header()
    shown, rest = teams[:TEAMS_SHOWN], teams[TEAMS_SHOWN:]
    for index, team in enumerate(shown):
        _team_row(index, team, pi_name, last_update)
    if not rest:
        return
    # Stateful (key, rerun on toggle): a collapsed expander's rows would otherwise be
    # built on every run.
    with st.expander(
        f"{len(rest)} more teams", key="overview.more_teams", on_change="rerun"
    ) as more:
        if more.open:
            for index, team in enumerate(rest, start=len(shown)):
                _team_row(index, team, pi_name, last_update)


def _team_row(
    index: int, team: TeamStatus, pi_name: str, last_update: Mapping[int, dt.date]
) -> None:
    row = team_table_row(index)
    name = escape_markdown(team.team.name)
    row[0].page_link(
        "pages/team.py",
        label=name,
        icon=":material/groups:",
        query_params=page_params(team=team.team.key, pi=pi_name, outcome=None),
        help=f"Open the {name} team page",
    )
    row[1].markdown(
        count_badges_md(health_counts(team.outcomes), order=HEALTH_ORDER, kind="health")
        or "no outcomes"
    )
    progress = mean_progress(team.outcomes)
    if progress is None:
        row[2].caption("no measured target yet")
    else:
        row[2].progress(progress, text=format_percent(progress))
    row[3].markdown(escape_markdown(predictability_text(team.predictability, len(team.outcomes))))
    row[4].markdown(escape_markdown(day_text(last_update.get(team.team.id))))
