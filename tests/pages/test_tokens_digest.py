"""API tokens and digests on the pages: Admin's "Digests & API" tab (destinations, every
team's tokens) and the team page (the digest download; the team's tokens for its
editors). The token is shown once and works; bad input names the field."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from core.access import Actor
from db.engine import read_session
from db.models import ApiToken, DigestDestination
from db.tokens import authenticate
from tests.pages.update_workspace import (
    Workspace,
    button,
    open_workspace,
    page,
    texts,
    unescape,
)

ADMIN = Actor("ada", "admin")


@pytest.fixture
def ws(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    yield from open_workspace(database_url, monkeypatch)


def shown_secret(at: AppTest) -> str | None:
    codes = [c.value for c in at.code if c.value.startswith("obt_")]
    return codes[0] if codes else None


def test_admin_creates_a_token_shown_once_that_works(ws: Workspace) -> None:
    at = page("pages/admin.py", ADMIN)
    assert not at.exception
    at.text_input(key="admin_tokens_create#0.name").set_value("nightly")
    at.selectbox(key="admin_tokens_create#0.team").set_value("CHK")
    button(at, "Create token").click().run()

    assert not at.exception
    secret = shown_secret(at)
    assert secret is not None
    with read_session(ws.engine) as s:
        info = authenticate(s, header=f"Bearer {secret}", scope="readings:write", touch=False)
    assert (info.name, info.team_key, info.created_by) == ("nightly", "CHK", "ada")
    at.run()
    assert shown_secret(at) is None  # shown once


def test_admin_adds_a_digest_destination_and_a_bad_one_is_named(ws: Workspace) -> None:
    at = page("pages/admin.py", ADMIN)
    at.selectbox(key="digest_destination#0.scope").set_value(f"team:{ws.chk}")
    at.selectbox(key="digest_destination#0.kind").set_value("webhook")
    at.text_input(key="digest_destination#0.target").set_value("https://hooks.example/x")
    button(at, "Add destination").click().run()

    assert "Webhook name or addresses" in unescape("\n".join(e.value for e in at.error))
    assert ws.count(DigestDestination) == 0

    at.text_input(key="digest_destination#0.target").set_value("checkout-chat")
    button(at, "Add destination").click().run()
    assert not at.exception
    assert ws.count(DigestDestination) == 1
    assert ws.audit("digest_destination", "create")[-1].actor == "ada"


def test_team_page_offers_the_digest_and_its_editors_the_tokens(ws: Workspace) -> None:
    anonymous = page("pages/team.py", None, team="CHK")
    editor = page("pages/team.py", ws.editor, team="CHK")
    other = page("pages/team.py", Actor("otto", "editor", frozenset({ws.src})), team="CHK")

    for at in (anonymous, editor, other):
        assert not at.exception
        assert [d for d in at.get("download_button") if "digest" in d.proto.label]
    assert "API tokens for this team" in [e.label for e in editor.expander]
    assert "API tokens for this team" not in [e.label for e in anonymous.expander]
    assert "API tokens for this team" not in [e.label for e in other.expander]


def test_an_editor_makes_a_token_for_the_own_team_on_the_team_page(ws: Workspace) -> None:
    at = page("pages/team.py", ws.editor, team="CHK")
    at.text_input(key="team_tokens_CHK_create#0.name").set_value("pipeline")
    button(at, "Create token").click().run()

    assert not at.exception
    assert shown_secret(at)
    with read_session(ws.engine) as s:
        (token,) = s.query(ApiToken).all()
    assert (token.name, token.team_id, token.created_by) == ("pipeline", ws.chk, ws.editor.username)
    assert "Created token pipeline" in unescape(texts(at)) or shown_secret(at)
