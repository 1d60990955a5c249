"""API tokens on the pages: create one (its secret shown once), see each token's team,
scope, creator and last use, revoke one. On Admin for every team; on the team page for
the team's editors (the write path checks both: `db/tokens.py`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from db import tokens
from db.engine import read_session
from db.models import TOKEN_SCOPES
from ui.forms import FormState, KeyedWrite, save
from ui.frame import Frame

LABELS = {"name": "Token name", "scope": "Scope", "team": "Team"}
SECRET_KEY = "api_token#secret"  # the secret of a token just created, shown once


def _show_new_secret() -> None:
    created = st.session_state.pop(SECRET_KEY, None)
    if created:
        name, secret = created
        st.success(
            f"Token {name!r} created. Copy it now: it is shown only this once.",
            icon=":material/key:",
        )
        st.code(secret, language=None)


def _remember_secret(result: tuple[tokens.TokenInfo, str]) -> str:
    info, secret = result
    st.session_state[SECRET_KEY] = (info.name, secret)
    return f"Created token {info.name}."


def tokens_section(frame: Frame, *, teams: dict[str, str], key: str) -> None:
    """Tokens of `teams` (key -> name) with a form to create and a button to revoke."""
    _show_new_secret()
    with read_session(frame.engine) as session:
        all_tokens = tokens.list_tokens(session)
    listed = [t for t in all_tokens if t.team_key in teams]
    if listed:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Name": t.name,
                        "Team": t.team_name,
                        "Scope": t.scope,
                        "Created by": t.created_by,
                        "Created": t.created_at,
                        "Last used": t.last_used_at,
                        "Revoked": t.revoked_at,
                    }
                    for t in listed
                ]
            ),
            hide_index=True,
            use_container_width=True,
        )
    else:
        st.text("No API tokens yet.")
    form = FormState(f"{key}_create")
    form.show_status()
    with st.form(form.key("form")):
        # On a team's own page the team is given: a second "Team" box beside the page's
        # filter would only be a way to get it wrong.
        only_team = next(iter(teams)) if len(teams) == 1 else None
        columns = st.columns([2, 1] if only_team else [2, 1, 1])
        name = columns[0].text_input(LABELS["name"], key=form.key("name"), max_chars=120)
        if only_team:
            team_key: str | None = only_team
        else:
            team_key = columns[1].selectbox(
                LABELS["team"], list(teams), format_func=teams.get, key=form.key("team")
            )
        scope = columns[-1].selectbox(LABELS["scope"], TOKEN_SCOPES, key=form.key("scope"))
        if st.form_submit_button("Create token"):
            save(
                frame,
                form,
                KeyedWrite(
                    tokens.create_token,
                    actor=frame.actor,
                    name=name,
                    team_key=team_key or "",
                    scope=scope,
                ),
                success=_remember_secret,
                labels=LABELS,
            )
    active = [t.name for t in listed if t.revoked_at is None]
    if active:
        revoke = FormState(f"{key}_revoke")
        revoke.show_status()
        with st.form(revoke.key("form")):
            chosen = st.selectbox("Token to revoke", active, key=revoke.key("name"))
            if st.form_submit_button("Revoke token"):
                save(
                    frame,
                    revoke,
                    KeyedWrite(tokens.revoke_token, actor=frame.actor, name=chosen or ""),
                    success=lambda info: f"Revoked token {info.name}: it fails from now on.",
                    labels=LABELS,
                )
