"""Single sign-on end to end: a local OpenID provider (oidc-provider-mock), `streamlit run`
with an [auth] section pointing at it, and Chromium signing in; roles come from the e-mail
address in the users table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from core.access import Actor
from db.engine import make_engine, write_session
from db.migrate import upgrade
from db.users import create_user
from db.writes import create_team
from tests.browser.conftest import running_app, wait_for_app
from tests.conftest import skip_or_fail

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def oidc_provider() -> Iterator[str]:
    """A local OpenID provider with two identities: an editor's and a stranger's."""
    try:
        import authlib  # noqa: F401  (st.login needs it)
        from oidc_provider_mock import User, run_server_in_thread
    except ImportError as error:
        skip_or_fail(f"single sign-on test needs Authlib and oidc-provider-mock ({error.name})")
    identities = [
        User(sub="ed", claims={"email": "ed@corp.example", "email_verified": True, "name": "Ed"}),
        User(sub="stranger", claims={"email": "stranger@else.example", "email_verified": True}),
    ]
    with run_server_in_thread(user_claims=identities) as server:
        yield f"http://localhost:{server.server_port}"


@contextmanager
def app_with_single_sign_on(tmp_path: Path, provider: str, *, public_read: bool) -> Iterator[str]:
    """The app under `streamlit run` with an [auth] section naming the local provider, on a
    database where ed@corp.example is an editor of CHK."""
    database = tmp_path / "outcomes.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    admin = Actor.system("test")
    with write_session(engine) as session:
        create_team(session, actor=admin, name="Checkout", key="CHK")
        create_user(session, actor=admin, username="root", role="admin", password="root password")
        create_user(
            session,
            actor=admin,
            username="ed",
            role="editor",
            team_keys=["CHK"],
            email="ed@corp.example",
            display_name="Ed Itor",
        )
    engine.dispose()
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        # Streamlit fills in its port; the host is the one the browser uses (cookies).
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-test-cookie-secret-of-enough-length"\n'
        'client_id = "outcome-board"\n'
        'client_secret = "test-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    env = {
        "STREAMLIT_SECRETS_FILES": str(secrets),
        "OUTCOMES_PUBLIC_READ": "true" if public_read else "false",
    }
    # The real clock: the server checks the times stamped on the provider's tokens.
    with running_app(
        f"sqlite:///{database}", log_path=tmp_path / "streamlit.log", env=env, day=None
    ) as base_url:
        yield base_url


def _sign_in_at_provider(page: Any, app: str, identity: str) -> None:
    """Click single sign-on in the app, pick the identity on the provider's form, and come
    back to the app."""
    page.goto(f"{app}/record")
    wait_for_app(page)
    page.get_by_role("button", name="Sign in with single sign-on").first.click()
    page.wait_for_url("**/oauth2/authorize**")
    page.get_by_role("button", name=identity, exact=True).click()
    page.wait_for_url(f"{app}/**")
    wait_for_app(page)


def _only_loopback(page: Any) -> None:
    # The provider's form links a stylesheet from a CDN: no traffic leaves this machine.
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("http://localhost:", "http://127.0.0.1:"))
            else route.abort()
        ),
    )


def test_single_sign_on_maps_the_email_to_its_account(
    tmp_path: Path, oidc_provider: str, page: Any
) -> None:
    with app_with_single_sign_on(tmp_path, oidc_provider, public_read=True) as app:
        _only_loopback(page)
        _sign_in_at_provider(page, app, "ed")
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.get_by_text("Signed in as Ed Itor (editor)").wait_for()
        # Lasts across pages: Record opens for the editor, with the release form.
        page.goto(f"{app}/record?team=CHK")
        wait_for_app(page)
        sidebar.get_by_text("Signed in as Ed Itor (editor)").wait_for()
        assert page.get_by_label("Username").count() == 0
        assert page.locator("[data-testid='stFormSubmitButton']").count() > 0


def test_single_sign_on_stranger_is_refused_when_sign_in_is_required(
    tmp_path: Path, oidc_provider: str, page: Any
) -> None:
    with app_with_single_sign_on(tmp_path, oidc_provider, public_read=False) as app:
        _only_loopback(page)
        _sign_in_at_provider(page, app, "stranger")
        warning = page.locator("[data-testid='stAlertContentWarning']")
        warning.get_by_text("has no account here").wait_for()
        assert "stranger@\u2060else.example" in warning.inner_text()
        assert page.get_by_role("heading", name="Outcome Board").count() == 1
        assert page.get_by_role("button", name="Sign out of single sign-on").count() == 1
