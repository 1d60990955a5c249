"""PI overview, the home page: how every team's outcomes stand in one PI, at a glance."""

from __future__ import annotations

import streamlit as st

from api.routes import api_routes
from api.sign_in import sign_in_routes
from core.format import format_percent
from ui import reads
from ui.cards import contributor_links, no_data_message, tile
from ui.filters import filter_row, page_params, pi_caption, title_row
from ui.first_steps import empty_workspace_message
from ui.format import (
    band_badge_md,
    count_badges_md,
    health_badge_md,
    health_counts,
    predictability_text,
    verdict_counts,
)
from ui.frame import page_frame
from ui.iterations import overview_goal_count
from ui.sources import failing_sources_notice
from ui.team_table import team_table
from ui.text import escape_markdown, safe_url
from ui.theme import HEALTH_ORDER, VERDICT_ORDER

# `streamlit run app.py` reads this file, finds `app = st.App(...)` and serves that ASGI app
# with uvicorn, which imports this file as the module `app`: the pages (this script and
# pages/) and the HTTP API (`/api/v1/`, api/routes.py) in one server, started by the one
# command. Streamlit runs the page itself as `__main__`, so the page below is drawn only then.
if __name__ != "__main__":
    app = st.App("app.py", routes=[*api_routes(), *sign_in_routes()])
else:
    frame = page_frame("overview")

    filters = filter_row(page="overview")
    pi, as_of = filters.pi, filters.as_of
    if pi is None:
        title_row(filters.top, "PI overview")
        if reads.teams(train_name=None, include_inactive=True):
            no_data_message(
                "There is no PI yet. An admin adds trains, teams and PIs on the Admin page."
            )
        else:
            empty_workspace_message(
                frame, "There is no PI yet and no team: this workspace is empty."
            )
        st.stop()
    title_row(
        filters.top,
        f"{pi.name} overview",
        caption=pi_caption(filters),
        help="Did what we built actually work? Every team's outcomes in this PI, measured "
        "against their targets, as they stood on the as-of date.",
    )
    view = reads.pi_view(pi_name=pi.name, as_of=as_of)
    status = view.status

    team_ids = [t.team.id for t in status.teams]
    all_outcomes = [o for t in status.teams for o in t.outcomes] + list(status.train_outcomes)
    metrics = reads.latest_readings(as_of=as_of, team_ids=tuple(team_ids))

    # ---------------------------------------------------------------- tiles
    columns = st.columns([1.3, 1, 1, 1.3])
    with columns[0]:
        counts = health_counts(all_outcomes)
        tile(
            "Outcomes",
            str(len(all_outcomes)),
            count_badges_md(counts, order=HEALTH_ORDER, kind="health")
            or "No outcomes in this PI yet.",
            help="Outcomes by health: each outcome takes the health of its worst target.",
        )
    with columns[1]:
        train = status.train_predictability
        # Train-level outcomes enter neither figure, so M counts the teams' outcomes only.
        team_outcomes = sum(len(t.outcomes) for t in status.teams)
        if train.not_yet_scored and not train.pi_ended:
            # Mid-PI a band from the few scored outcomes would mislead (issue 14).
            # The tile's value already says "Partial"; its line gives the rest once.
            value = "Partial"
            text = predictability_text(train, team_outcomes).removeprefix("Partial: ")
            detail = escape_markdown(text)
        elif train.pooled is None:
            value = "Pending"
            detail = "No committed business value planned."
        else:
            value = f"{train.pooled:.0f}%"
            mean = "—" if train.mean_of_teams is None else f"{train.mean_of_teams:.0f}%"
            detail = f"Pooled {band_badge_md(train.pooled_band)} · mean of teams {mean}"
        tile(
            "Predictability",
            value,
            detail,
            help=(
                "Train predictability: actual business value as a percent of the planned value of committed outcomes. "
                "Pooled: all teams' actual over all teams' planned. Healthy: 80–100%."
            ),
        )
    with columns[2]:
        total = len(metrics)
        on_time = int((~metrics["stale"]).sum()) if total else 0
        tile(
            "Metrics on time",
            format_percent(on_time / total) if total else "—",
            f"{on_time} of {total} metrics read within their update interval."
            if total
            else "No metrics yet.",
            help="A metric is late when its last reading is older than its update interval.",
        )
    with columns[3]:
        verdicts = verdict_counts(all_outcomes)
        tile(
            "Hypotheses",
            str(sum(verdicts.values())),
            count_badges_md(verdicts, order=VERDICT_ORDER, kind="verdict") or "No hypotheses yet.",
            help="Hypotheses by verdict: did the metric move after the release that shipped the idea?",
        )

    # ---------------------------------------------------------------- teams
    st.subheader("Teams")
    overview_goal_count(pi, team_ids, as_of)
    last_update = (
        metrics.dropna(subset=["last_date"]).groupby("team_id")["last_date"].max().to_dict()
        if total
        else {}
    )
    if not status.teams:
        no_data_message("No teams take part in this PI yet.")
    else:
        team_table(status.teams, pi_name=pi.name, last_update=last_update)

    if status.train_outcomes:
        st.subheader("Train outcomes")
        for outcome in status.train_outcomes:
            line = st.columns([1, 1, 5], vertical_alignment="center")
            line[0].markdown(health_badge_md(outcome.health), help=escape_markdown(outcome.reason))
            line[1].markdown(escape_markdown(format_percent(outcome.progress)))
            line[2].page_link(
                "pages/outcome.py",
                label=f"{escape_markdown(outcome.key)} · {escape_markdown(outcome.title)}",
                query_params=page_params(pi=pi.name, outcome=outcome.key, team=None),
            )
            # Stateful (key, rerun on toggle), so its rows are drawn only once opened: a
            # collapsed expander's contents would otherwise be built every run (issue 16).
            with st.expander(
                f"{len(outcome.contributors)} contributing team outcomes"
                + (" · health and progress rolled up" if outcome.rolled_up else ""),
                key=f"overview.contributors.{outcome.key}",
                on_change="rerun",
            ) as contributors:
                if contributors.open:
                    contributor_links(status, outcome, pi.name)

    # ---------------------------------------------------------------- releases and stale metrics
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Recent releases")
        releases = reads.recent_releases(as_of=as_of, team_ids=tuple(team_ids), limit=8)
        if releases.empty:
            st.caption("No releases yet.")
        else:
            st.dataframe(
                releases.assign(link=releases["link"].map(safe_url))[
                    ["date", "team", "name", "notes", "link"]
                ],
                hide_index=True,
                column_config={
                    "date": st.column_config.DateColumn("Date", format="D MMM YYYY"),
                    "team": "Team",
                    "name": "Release",
                    "notes": "Notes",
                    "link": st.column_config.LinkColumn("Link", display_text="open"),
                },
            )
    with right:
        st.subheader("Stale metrics")
        stale = metrics[metrics["stale"]].copy() if total else metrics
        if not total:
            # "Every metric is up to date" would be vacuously true (issue 14).
            st.caption("No metrics yet: editors add them on the Plan page (Metrics tab).")
        elif stale.empty:
            st.caption("Every metric is up to date.")
        else:
            stale["late"] = [
                "never read" if d is None or d != d else f"{int(d)} days"
                for d in stale["days_since"]
            ]
            stale = stale.sort_values("days_since", ascending=False, na_position="first")
            st.dataframe(
                stale[["team", "metric", "last_date", "late", "update_interval_days"]],
                hide_index=True,
                column_config={
                    "team": "Team",
                    "metric": "Metric",
                    "last_date": st.column_config.DateColumn("Last reading", format="D MMM YYYY"),
                    "late": "Since then",
                    "update_interval_days": st.column_config.NumberColumn(
                        "Expected every", format="%d days"
                    ),
                },
            )
        failing_sources_notice(frame, team_ids=team_ids)
