"""The review page's planned-vs-actual business value as ONE table with the team as a
column (issue 16): one table per team drew 52 tables at 50 teams, each converted to Arrow
and each loading its own grid in the browser. Scoring stays per team: an admin picks the
team to score, so one form is drawn, not one per team."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from core.model import OutcomeStatus, PIStatus
from ui.format import predictability_text
from ui.theme import health_label

TRAIN = "Train"

VALUE_COLUMNS = {
    "team": st.column_config.TextColumn("Team", width="medium"),
    "team_predictability": st.column_config.TextColumn("Team predictability", width="medium"),
    "key": st.column_config.TextColumn("Outcome", width="small"),
    "title": st.column_config.TextColumn("Title", width="medium"),
    "committed": st.column_config.TextColumn("Commitment", width="small"),
    "planned_bv": st.column_config.NumberColumn("Planned BV", format="%d", width="small"),
    "actual_bv": st.column_config.NumberColumn("Actual BV", format="%d", width="small"),
    "metrics": st.column_config.TextColumn("Metrics say", width="small"),
    "flag": st.column_config.TextColumn("Flag", width="medium"),
}
FLAG_WORDS = {
    "high_score_targets_missed": "high score, targets missed",
    "low_score_targets_achieved": "low score, targets achieved",
}


def _rows(team: str, summary: str, outcomes: Sequence[OutcomeStatus]) -> list[dict[str, object]]:
    return [
        {
            "team": team,
            "team_predictability": summary,
            "key": o.key,
            "title": o.title,
            "committed": "committed" if o.committed else "uncommitted",
            "planned_bv": o.planned_bv,
            "actual_bv": o.actual_bv,
            "metrics": health_label(o.health),
            "flag": FLAG_WORDS.get(o.flag.code, o.flag.code) if o.flag else "",
        }
        for o in outcomes
    ]


def value_table(status: PIStatus) -> pd.DataFrame:
    """Every team's outcomes (teams in the status's order), then the train-level ones,
    one row per outcome; a team without outcomes keeps one row saying so, so no team
    silently drops out of the review."""
    rows: list[dict[str, object]] = []
    for team in status.teams:
        summary = predictability_text(team.predictability, len(team.outcomes))
        if team.outcomes:
            rows.extend(_rows(team.team.name, summary, team.outcomes))
        else:
            rows.append(
                {
                    "team": team.team.name,
                    "team_predictability": summary,
                    "title": "No outcomes in this PI.",
                }
            )
    rows.extend(_rows(TRAIN, "enters neither predictability figure", status.train_outcomes))
    frame = pd.DataFrame(rows, columns=list(VALUE_COLUMNS))
    # Nullable integers: a blank score stays blank (not NaN shown as a float).
    for column in ("planned_bv", "actual_bv"):
        frame[column] = frame[column].astype("Int64")
    return frame


def show_value_table(status: PIStatus) -> None:
    st.dataframe(value_table(status), hide_index=True, column_config=VALUE_COLUMNS)


def scoring_groups(status: PIStatus) -> dict[str, tuple[str, Sequence[OutcomeStatus]]]:
    """Label shown to the admin -> (the score form's key, the outcomes it scores); teams
    without outcomes have nothing to score."""
    groups: dict[str, tuple[str, Sequence[OutcomeStatus]]] = {
        t.team.name: (t.team.key, t.outcomes) for t in status.teams if t.outcomes
    }
    if status.train_outcomes:
        groups["Train-level outcomes"] = ("train", status.train_outcomes)
    return groups


# More flags than this are listed in one table instead of a warning box each.
FLAG_WARNINGS_MAX = 5


def flag_table(flagged: Sequence[tuple[str, OutcomeStatus]]) -> pd.DataFrame:
    """The actual-actual flags as rows (team, outcome, title, what disagrees): plain cells,
    so user text is never read as markdown."""
    return pd.DataFrame(
        [
            {
                "Team": team,
                "Outcome": outcome.key,
                "Title": outcome.title,
                "Flag": outcome.flag.message if outcome.flag else "",
            }
            for team, outcome in flagged
        ],
        columns=["Team", "Outcome", "Title", "Flag"],
    )
