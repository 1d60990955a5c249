"""Who sees which controls on every page (AppTest on the demo workspace), the lasting
sign-in's cookie on the pages, first-time setup, single sign-on with a fake identity, and
that passwords are never stored or logged in clear."""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlalchemy import Engine, select, text, update
from streamlit.testing.v1 import AppTest

import db.users
import ui.auth
from core.access import Actor
from db.browser_sessions import start_browser_session
from db.engine import make_engine, read_session, write_session
from db.models import SignInThrottle, Team, User
from db.sign_in import sign_in
from db.users import create_user
from tests.conftest import DEMO_TODAY
from ui import state
from ui.frame import PAGES

ROOT = Path(__file__).resolve().parents[2]
PARAMS = {"pi": "PI 26.4", "team": "CHK", "outcome": "CHK-1", "as_of": DEMO_TODAY.isoformat()}
SIGN_IN_LABELS = {
    "Username",
    "Password",
    "Setup code",
    "Admin username",
    "Display name (optional)",
    "Admin password",
    "Repeat password",
}
PASSWORD = "Correct-Horse-4711"
CODE_LINE = re.compile(r"Outcome Board setup code: ([A-Z0-9]{4}-[A-Z0-9]{4})")


@dataclass(frozen=True)
class Demo:
    engine: Engine
    url: str
    team_ids: dict[str, int]

    def actor(self, role: str) -> Actor | None:
        """The five roles of the permissions table; editors have CHK or WAL."""
        return {
            "anonymous": None,
            "viewer": Actor("vic", "viewer"),
            "editor of another team": Actor("edna", "editor", frozenset({self.team_ids["WAL"]})),
            "editor of the team": Actor("ed", "editor", frozenset({self.team_ids["CHK"]})),
            "admin": Actor("ada", "admin"),
        }[role]


@pytest.fixture
def demo(tmp_path: Path, demo_template: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Demo]:
    path = tmp_path / "outcomes.db"
    shutil.copy(demo_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("OUTCOMES_DATABASE_URL", url)
    monkeypatch.setenv("OUTCOMES_DEMO", "false")
    monkeypatch.setenv("OUTCOMES_PUBLIC_READ", "true")
    # argon2's defaults cost ~0.13 s a hash; these tests are about the flow.
    monkeypatch.setattr(
        db.users, "hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    st.cache_data.clear()
    st.cache_resource.clear()
    engine = make_engine(url)
    with read_session(engine) as session:
        team_ids = {key: id_ for key, id_ in session.execute(select(Team.key, Team.id))}
    yield Demo(engine, url, team_ids)
    st.cache_data.clear()
    st.cache_resource.clear()
    engine.dispose()


def open_page(path: str, actor: Actor | None = None, **params: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    if actor is not None:
        at.session_state[state.ACTOR] = actor
    if path != "app.py":
        at.switch_page(path)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def write_controls(at: AppTest) -> list[str]:
    """Every control that could send a change: form submit buttons (except the sign-in and
    first-time setup forms), editable grids, file uploaders."""
    found = [
        f"submit {b.label!r} in form {b.proto.form_id!r}"
        for b in at.button
        if b.proto.is_form_submitter and not b.proto.form_id.startswith("sign_in")
    ]
    found += [f"data_editor {d.key!r}" for d in at.dataframe if d.proto.editing_mode != 0]
    found += [f"file_uploader {u.label!r}" for u in at.get("file_uploader")]
    return found


ALL_PAGES = [spec.path for spec in PAGES.values()]
ROLES = ["anonymous", "viewer", "editor of another team", "editor of the team", "admin"]


# ---------------------------------------------------------------- who sees write controls


@pytest.mark.parametrize("role", ["anonymous", "viewer"])
@pytest.mark.parametrize("path", ALL_PAGES)
def test_readers_see_no_write_control(demo: Demo, path: str, role: str) -> None:
    at = open_page(path, demo.actor(role), **PARAMS)
    assert write_controls(at) == []


@pytest.mark.parametrize("path", ALL_PAGES)
def test_editor_sees_no_write_control_for_another_team(demo: Demo, path: str) -> None:
    # Asked for CHK, which is not theirs: the page either shows no write control or moves
    # to one of their own teams (the Team picker offers only those).
    at = open_page(path, demo.actor("editor of another team"), **PARAMS)
    controls = write_controls(at)
    assert not controls or at.query_params.get("team") in (None, "WAL", ["WAL"]), controls


@pytest.mark.parametrize("path", ["pages/record.py", "pages/plan.py"])
def test_editor_sees_write_controls_for_their_team(demo: Demo, path: str) -> None:
    at = open_page(path, demo.actor("editor of the team"), **PARAMS)
    assert write_controls(at)


def test_admin_page_is_only_for_admins(demo: Demo) -> None:
    for role in ROLES[:-1]:
        assert write_controls(open_page("pages/admin.py", demo.actor(role))) == [], role
    assert write_controls(open_page("pages/admin.py", demo.actor("admin")))


# ---------------------------------------------------------------- public read off


@pytest.mark.parametrize("path", ALL_PAGES)
def test_without_public_read_anonymous_sees_only_the_sign_in(
    demo: Demo, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTCOMES_PUBLIC_READ", "false")
    at = open_page(path, None, **PARAMS)
    assert [t.value for t in at.title] == ["Outcome Board"]
    assert {w.label for w in at.text_input} <= SIGN_IN_LABELS
    assert _shows_sign_in_link(at)
    assert not at.dataframe and not at.get("page_link") and not at.get("vega_lite_chart")
    assert not at.selectbox and not at.metric and not at.sidebar.children
    assert write_controls(at) == []


def test_without_public_read_a_signed_in_viewer_reads(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTCOMES_PUBLIC_READ", "false")
    at = open_page("pages/team.py", demo.actor("viewer"), **PARAMS)
    assert "Outcome Board" not in [t.value for t in at.title]
    assert not _shows_sign_in_link(at)


# ---------------------------------------------------------------- the lasting sign-in
# The password is checked by /auth/sign-in (api/sign_in.py; tests/api/test_sign_in.py
# drives it over HTTP: wrong password, throttle, CSRF, redirects). Here the pages' side:
# the cookie's id (st.context.cookies, stood in for by patching ui.auth.browser_cookie,
# which AppTest cannot send) signs the account in on every page until it is revoked.


def _add_account(demo: Demo, username: str = "ed", **kwargs: Any) -> None:
    with write_session(demo.engine) as session:
        create_user(
            session,
            actor=Actor.system("test"),
            username=username,
            role=kwargs.pop("role", "editor"),
            team_keys=kwargs.pop("team_keys", ["CHK"]),
            password=kwargs.pop("password", PASSWORD),
            **kwargs,
        )


def _sign_in(demo: Demo, username: str, password: str) -> str | None:
    """What POST /auth/sign-in does: the pages' password check, then a browser session;
    the id its cookie would carry, or None when refused."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    result = sign_in(demo.engine, username=username, password=password, client=None, now=now)
    if not result.ok or result.actor is None:
        return None
    with write_session(demo.engine) as session:
        return start_browser_session(session, username=result.actor.username, now=now, hours=12)


def _with_cookie(monkeypatch: pytest.MonkeyPatch, browser_id: str | None) -> None:
    monkeypatch.setattr(ui.auth, "browser_cookie", lambda: browser_id)


def _signed_in_as(at: AppTest) -> str | None:
    """The account the sidebar says is signed in (from session state or the cookie)."""
    for caption in at.sidebar.caption:
        match = re.match(r"Signed in as (.+) \((viewer|editor|admin)\)", caption.value)
        if match:
            return match.group(1)
    return None


def _shows_sign_in_link(at: AppTest) -> bool:
    """The way in: the sign-in form in the page or the link in the sidebar."""
    bodies = {h.proto.body for h in at.get("html")}
    return bool({ui.auth.SIGN_IN_FORM, ui.auth.SIGN_IN_LINK} & bodies)


def test_update_pages_show_a_sign_in_form_that_posts_to_the_sign_in_route(demo: Demo) -> None:
    at = open_page("pages/record.py", None, **PARAMS)
    main = [h.proto.body for h in at.main.get("html")]
    sidebar = [h.proto.body for h in at.sidebar.get("html")]
    assert main == [ui.auth.SIGN_IN_FORM] and sidebar == [ui.auth.SIGN_IN_LINK]
    form = ui.auth.SIGN_IN_FORM
    # PRODUCT.md: fields labelled Username and Password; posted (never in a URL) to the
    # route that sets the lasting cookie, in this tab (no target).
    assert 'method="post" action="/auth/sign-in"' in form and "target" not in form
    assert '<label for="outcomes-username">Username</label>' in form
    assert '<label for="outcomes-password">Password</label>' in form
    assert 'type="password"' in form
    assert 'href="/auth/sign-in"' in ui.auth.SIGN_IN_LINK and "target" not in ui.auth.SIGN_IN_LINK


def test_a_cookie_sign_in_lasts_across_pages(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    _add_account(demo, display_name="Ed Itor")
    _with_cookie(monkeypatch, _sign_in(demo, "ed", PASSWORD))
    at = open_page("app.py", None, **PARAMS)
    assert _signed_in_as(at) == "Ed Itor"
    for path in ("pages/record.py", "pages/team.py", "pages/plan.py"):
        at.switch_page(path).run()
        assert not at.exception
        assert _signed_in_as(at) == "Ed Itor", path
        assert not _shows_sign_in_link(at), path
    assert write_controls(at)  # Plan, for their team


def test_a_cookie_sign_in_opens_an_edit_page(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    _add_account(demo)
    assert write_controls(open_page("pages/record.py", None, **PARAMS)) == []
    _with_cookie(monkeypatch, _sign_in(demo, "ed", PASSWORD))
    at = open_page("pages/record.py", None, **PARAMS)
    assert _signed_in_as(at) == "ed" and write_controls(at)


@pytest.mark.parametrize("browser_id", ["", "unknown-id-unknown-id-unknown-id-unknown"])
def test_an_unknown_cookie_is_anonymous(
    demo: Demo, monkeypatch: pytest.MonkeyPatch, browser_id: str
) -> None:
    _add_account(demo)
    _sign_in(demo, "ed", PASSWORD)
    _with_cookie(monkeypatch, browser_id)
    at = open_page("pages/record.py", None, **PARAMS)
    assert _signed_in_as(at) is None and write_controls(at) == []
    assert _shows_sign_in_link(at)


def test_wrong_password_starts_no_browser_session(demo: Demo) -> None:
    _add_account(demo)
    assert _sign_in(demo, "ed", "not the password") is None
    assert _sign_in(demo, "nobody", "not the password") is None


def test_disabled_account_is_signed_out_on_its_next_page(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    _add_account(demo)
    _with_cookie(monkeypatch, _sign_in(demo, "ed", PASSWORD))
    at = open_page("pages/record.py", None, **PARAMS)
    assert _signed_in_as(at) == "ed"
    with write_session(demo.engine) as session:
        db.users.update_user(session, actor=Actor.system("test"), username="ed", active=False)
    at.switch_page("pages/plan.py").run()
    assert _signed_in_as(at) is None and write_controls(at) == []


def test_sign_out_revokes_this_browsers_cookie(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    _add_account(demo)
    browser_id = _sign_in(demo, "ed", PASSWORD)
    _with_cookie(monkeypatch, browser_id)
    other_browser = _sign_in(demo, "ed", PASSWORD)
    at = open_page("pages/team.py", None, **PARAMS)
    next(b for b in at.sidebar.button if b.label == "Sign out").click()
    at.run()
    assert not at.exception
    assert _signed_in_as(at) is None and _shows_sign_in_link(at)
    # The same cookie in another tab (a new session) signs nobody in any more...
    assert _signed_in_as(open_page("pages/team.py", None, **PARAMS)) is None
    # ...while another browser of the same account stays signed in.
    _with_cookie(monkeypatch, other_browser)
    assert _signed_in_as(open_page("pages/team.py", None, **PARAMS)) == "ed"


def test_sign_out_forgets_the_user(demo: Demo) -> None:
    at = open_page("pages/team.py", demo.actor("editor of the team"), **PARAMS)
    next(b for b in at.sidebar.button if b.label == "Sign out").click()
    at.run()
    assert state.ACTOR not in at.session_state
    assert _shows_sign_in_link(at)


# ---------------------------------------------------------------- passwords never in clear


def _stored_text(engine: Engine) -> str:
    with read_session(engine) as session:
        rows = [
            *session.execute(text("SELECT * FROM users")).all(),
            *session.execute(text("SELECT * FROM audit_events")).all(),
            *session.execute(text("SELECT * FROM browser_sessions")).all(),
        ]
    return "\n".join(str(value) for row in rows for value in row)


def test_passwords_are_never_stored_or_logged_in_clear(
    demo: Demo, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    from manage import cli

    caplog.set_level(logging.DEBUG)
    result = CliRunner().invoke(
        cli,
        ["create-user", "ed", "--role", "editor", "--team", "CHK", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert _sign_in(demo, "ed", "wrong " + PASSWORD) is None
    for _ in range(5):
        _sign_in(demo, "ed", PASSWORD[::-1])  # a lockout writes an audit event
    with write_session(demo.engine) as session:
        session.execute(update(SignInThrottle).values(locked_until=None))  # db.sign_in
    browser_id = _sign_in(demo, "ed", PASSWORD)
    assert browser_id is not None

    captured = capfd.readouterr()
    seen = "\n".join(
        [_stored_text(demo.engine), caplog.text, result.output, captured.out, captured.err]
    )
    for secret in (PASSWORD, "wrong " + PASSWORD, PASSWORD[::-1], browser_id):
        assert secret not in seen
    with read_session(demo.engine) as session:
        assert session.scalars(select(User.password_hash)).one().startswith("$argon2id$")
    assert "locked" in _stored_text(demo.engine)  # the audit did record the lockout


# ---------------------------------------------------------------- first-time setup


def test_first_admin_is_created_in_the_app_with_the_logged_code(
    demo: Demo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="outcomes.setup")
    at = open_page("pages/admin.py")
    codes = CODE_LINE.findall(caplog.text)
    assert len(codes) == 1
    fields = {w.label: w for w in at.text_input}
    fields["Setup code"].input(codes[0])
    fields["Admin username"].input("ada")
    fields["Admin password"].input(PASSWORD)
    fields["Repeat password"].input(PASSWORD)
    next(b for b in at.button if b.label == "Create admin").click()
    at.run()
    assert not at.exception
    assert _signed_in_as(at) == "ada"
    assert write_controls(at)  # the Admin page itself
    # Signed out, the setup is gone: an admin exists.
    fresh = open_page("pages/admin.py")
    assert "Setup code" not in [w.label for w in fresh.text_input]
    assert PASSWORD not in caplog.text


def test_setup_is_offered_only_while_no_admin_exists(demo: Demo) -> None:
    at = open_page("pages/admin.py")
    assert "Setup code" in [w.label for w in at.text_input]
    _add_account(demo, "root", role="admin", team_keys=[])
    at = open_page("pages/admin.py")
    assert "Setup code" not in [w.label for w in at.text_input]


# ---------------------------------------------------------------- single sign-on (fake identity)

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret-not-for-production",
    "client_id": "outcome-board",
    "client_secret": "test",
    "server_metadata_url": "http://localhost:9400/.well-known/openid-configuration",
}


def open_as_identity(path: str, claims: dict[str, Any]) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, **claims} if claims else {"is_logged_in": False}
    if path != "app.py":
        at.switch_page(path)
    for name, value in PARAMS.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_single_sign_on_identity_gets_the_role_of_its_email(demo: Demo) -> None:
    _add_account(demo, "ed", email="ed@corp.example", display_name="Ed Itor", password=None)
    at = open_as_identity("pages/record.py", {"email": "ed@corp.example", "email_verified": True})
    assert any("Signed in as Ed Itor (editor)" in c.value for c in at.sidebar.caption)
    assert write_controls(at)


def test_single_sign_on_stranger_views_when_public_read_is_on(demo: Demo) -> None:
    at = open_as_identity("pages/record.py", {"email": "stranger@else.example"})
    assert write_controls(at) == []
    assert any("(viewer)" in c.value for c in at.sidebar.caption)


def test_single_sign_on_stranger_is_refused_when_public_read_is_off(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OUTCOMES_PUBLIC_READ", "false")
    at = open_as_identity("pages/team.py", {"email": "stranger@else.example"})
    assert [t.value for t in at.title] == ["Outcome Board"]
    shown = [w.value.replace("\\", "").replace("\u2060", "") for w in at.warning]
    assert any("stranger@else.example has no account here" in text for text in shown)
    assert "Sign out of single sign-on" in [b.label for b in at.button]


def test_single_sign_on_button_is_offered_when_configured(demo: Demo) -> None:
    at = open_as_identity("pages/record.py", {})
    assert "Sign in with single sign-on" in [b.label for b in at.button]
    plain = open_page("pages/record.py")
    assert "Sign in with single sign-on" not in [b.label for b in plain.button]
