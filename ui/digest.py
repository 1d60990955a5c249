"""The digest on the pages: the team page's Markdown download (and, for the team's
editors, its API tokens), and the Admin tab that configures where digests are sent and
manages every team's tokens."""

from __future__ import annotations

import datetime as dt
import functools

import pandas as pd
import streamlit as st
from sqlalchemy import Engine, select

from core.access import can_edit_team
from core.digest import digest_markdown
from core.model import TeamInfo
from db import digest as digests
from db.engine import read_session
from db.models import DIGEST_KINDS, Team, Train
from ui.forms import FormState, KeyedWrite, save
from ui.frame import Frame
from ui.tokens import tokens_section

LABELS = {"scope": "Team or train", "kind": "Send by", "target": "Webhook name or addresses"}
KIND_WORDS = {"webhook": "Chat webhook", "email": "E-mail"}


def digest_document(engine: Engine, team_key: str, today: dt.date) -> str:
    """A team's digest of the 7 days up to `today` as Markdown. The team page hands this to
    its download button as a callable: built when someone downloads it, it costs a page
    run nothing (it read a week of the team's data on every run: bench/RESULTS.md,
    protocol load)."""
    with read_session(engine) as session:
        return digest_markdown(digests.build_digest(session, team_key=team_key, today=today))


def team_digest_section(frame: Frame, team: TeamInfo, as_of: dt.date) -> None:
    """Team page: the digest of the 7 days up to the as-of date as a Markdown download;
    the team's API tokens for its editors and admins."""
    st.download_button(
        "Download this week's digest (Markdown)",
        data=functools.partial(digest_document, frame.engine, team.key, as_of),
        file_name=f"digest-{team.key}-{as_of.isoformat()}.md",
        mime="text/markdown",
        icon=":material/download:",
    )
    if can_edit_team(frame.actor, team.id):
        with st.expander("API tokens for this team"):
            tokens_section(frame, teams={team.key: team.name}, key=f"team_tokens_{team.key}")


def _scopes(frame: Frame) -> dict[str, str]:
    """'team:ID' / 'train:ID' -> label, teams first."""
    with read_session(frame.engine) as session:
        teams = session.execute(select(Team.id, Team.name).order_by(Team.name)).all()
        trains = session.execute(
            select(Train.id, Train.name).where(Train.archived.is_(False)).order_by(Train.name)
        ).all()
    return {f"team:{i}": f"Team {name}" for i, name in teams} | {
        f"train:{i}": f"Train {name}" for i, name in trains
    }


def digest_admin(frame: Frame) -> None:
    """Admin tab: where each team's or train's digest goes, and every team's API tokens."""
    st.subheader("Digest destinations", anchor=False)
    st.markdown(
        "`manage.py digest --team KEY --send` (or `--train NAME`) sends the digest to these. "
        "A webhook is named here and its URL kept in `.streamlit/secrets.toml` under "
        "`[digest.webhooks]`; e-mail goes through `[digest.smtp]`."
    )
    with read_session(frame.engine) as session:
        destinations = digests.list_destinations(session)
    if destinations:
        st.dataframe(
            pd.DataFrame(
                [{"For": d.scope, "Send by": d.kind, "To": d.target} for d in destinations]
            ),
            hide_index=True,
            use_container_width=True,
        )
    else:
        st.text("No digest destinations yet.")
    scopes = _scopes(frame)
    form = FormState("digest_destination")
    form.show_status()
    with st.form(form.key("form")):
        columns = st.columns([1, 1, 2])
        scope = columns[0].selectbox(
            LABELS["scope"], list(scopes), format_func=scopes.get, key=form.key("scope")
        )
        kind = columns[1].selectbox(
            LABELS["kind"], DIGEST_KINDS, format_func=KIND_WORDS.get, key=form.key("kind")
        )
        target = columns[2].text_input(LABELS["target"], key=form.key("target"), max_chars=1000)
        if st.form_submit_button("Add destination"):
            what, _, ident = (scope or "").partition(":")
            save(
                frame,
                form,
                KeyedWrite(
                    digests.set_digest_destination,
                    actor=frame.actor,
                    team_id=int(ident) if what == "team" else None,
                    train_id=int(ident) if what == "train" else None,
                    kind=kind or "",
                    target=target,
                ),
                success=lambda d: f"Digests for {d.scope} now also go to {d.target}.",
                labels=LABELS,
            )
    if destinations:
        remove = FormState("digest_destination_remove")
        remove.show_status()
        by_id = {d.id: d for d in destinations}
        with st.form(remove.key("form")):
            chosen = st.selectbox(
                "Destination to remove",
                list(by_id),
                format_func=lambda i: f"{by_id[i].scope}: {by_id[i].kind} {by_id[i].target}",
                key=remove.key("id"),
            )
            if st.form_submit_button("Remove destination"):
                save(
                    frame,
                    remove,
                    KeyedWrite(
                        digests.delete_digest_destination,
                        actor=frame.actor,
                        destination_id=int(chosen or 0),
                    ),
                    success="Destination removed.",
                    labels=LABELS,
                )
    st.subheader("API tokens", anchor=False)
    with read_session(frame.engine) as session:
        rows = session.execute(select(Team.key, Team.name).order_by(Team.name)).all()
    tokens_section(frame, teams={key: name for key, name in rows}, key="admin_tokens")
