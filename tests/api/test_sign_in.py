"""Issue 14: the sign-in that lasts, through real HTTP against `streamlit run app.py`
(api/sign_in.py): the cookie's flags, the pages' password check and throttle, no open
redirect, CSRF, expiry, sign-out and an admin disabling the account."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

import httpx
import pytest

from core.access import Actor
from db.engine import make_engine, write_session
from db.users import WRONG_CREDENTIALS, create_user, update_user
from tests.api.conftest import Server

PASSWORD = "long enough password"
COOKIE = "outcomes_session"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
def accounts(server: Server) -> Server:
    engine = make_engine(server.database_url)
    try:
        with write_session(engine) as session:
            for name in ("ed", "wrong", "locked", "out", "gone", "late", "redirect"):
                create_user(
                    session,
                    actor=Actor.system("test"),
                    username=name,
                    role="editor",
                    team_keys=["CHK"],
                    password=PASSWORD,
                )
    finally:
        engine.dispose()
    return server


@pytest.fixture
def client(accounts: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=accounts.base_url, timeout=60, follow_redirects=False) as c:
        yield c


def _csrf(client: httpx.Client, next_path: str = "/") -> str:
    page = client.get("/auth/sign-in", params={"next": next_path})
    assert page.status_code == 200
    match = CSRF_FIELD.search(page.text)
    assert match is not None
    return match.group(1)


def _sign_in(
    client: httpx.Client, username: str, password: str = PASSWORD, next_path: str = "/"
) -> httpx.Response:
    token = _csrf(client, next_path)
    return client.post(
        "/auth/sign-in",
        data={"csrf": token, "next": next_path, "username": username, "password": password},
    )


def _session_cookie(response: httpx.Response) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{COOKIE}="):
            return header
    return None


def _signed_in_as(server: Server, browser_id: str) -> str | None:
    """Who a cookie value signs in, as the sign-out page says it."""
    page = httpx.get(f"{server.base_url}/auth/sign-out", cookies={COOKIE: browser_id}, timeout=60)
    match = re.search(r"You are signed in as ([^.<]+)\.", page.text)
    return match.group(1) if match else None


def _sql(server: Server, statement: str) -> None:
    with sqlite3.connect(server.database_url.removeprefix("sqlite:///")) as connection:
        connection.execute(statement)


def test_sign_in_sets_an_httponly_lax_cookie_and_returns_to_the_page(
    client: httpx.Client, accounts: Server
) -> None:
    response = _sign_in(client, "ed", next_path="/record?team=CHK")
    assert response.status_code == 303
    assert response.headers["location"] == "/record?team=CHK"
    header = _session_cookie(response)
    assert header is not None
    flags = {part.strip().lower() for part in header.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/", "max-age=43200"} <= flags
    assert "secure" not in flags  # plain http here; https adds it
    browser_id = header.split(";")[0].split("=", 1)[1]
    assert len(browser_id) >= 43 and PASSWORD not in header
    assert _signed_in_as(accounts, browser_id) == "ed"


def test_behind_https_the_cookie_is_secure(client: httpx.Client) -> None:
    token = _csrf(client)
    response = client.post(
        "/auth/sign-in",
        data={"csrf": token, "next": "/", "username": "ed", "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    header = _session_cookie(response)
    assert header is not None and "secure" in header.lower()


def test_wrong_password_sets_no_cookie_and_says_so(client: httpx.Client) -> None:
    response = _sign_in(client, "wrong", "not the password")
    assert response.status_code == 401
    assert _session_cookie(response) is None
    assert WRONG_CREDENTIALS in response.text
    unknown = _sign_in(client, "nobody at all", "not the password")
    assert unknown.status_code == 401 and WRONG_CREDENTIALS in unknown.text


def test_repeated_failures_are_throttled_like_the_pages(client: httpx.Client) -> None:
    for _ in range(5):
        _sign_in(client, "locked", "wrong password")
    response = _sign_in(client, "locked", PASSWORD)  # even the right one, while locked
    assert response.status_code == 429
    assert re.search(r"Too many attempts: try again in \d+ s", response.text)
    assert _session_cookie(response) is None


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/",
        "//evil.example/record",
        "/\\evil.example",
        "\t//evil.example",
        "javascript:alert(1)",
        "record",
        "/auth/sign-in",
    ],
)
def test_next_must_be_a_path_of_this_site(client: httpx.Client, next_path: str) -> None:
    page = client.get("/auth/sign-in", params={"next": next_path})
    assert 'name="next" value="/"' in page.text
    response = _sign_in(client, "redirect", next_path=next_path)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_the_form_escapes_what_it_echoes(client: httpx.Client) -> None:
    page = client.get("/auth/sign-in", params={"next": '/team?x="><script>alert(1)</script>'})
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    response = _sign_in(client, '<img src=x onerror="alert(1)">', "wrong")
    assert "<img" not in response.text and "&lt;img" in response.text


def test_a_post_without_the_csrf_token_is_refused(client: httpx.Client) -> None:
    _csrf(client)  # the cookie half is there; the field is missing or wrong
    for token in ("", "forged-token-forged-token-forged"):
        response = client.post(
            "/auth/sign-in",
            data={"csrf": token, "next": "/", "username": "ed", "password": PASSWORD},
        )
        assert response.status_code == 403 and _session_cookie(response) is None
        assert "did not come from this site" in response.text


def test_a_post_from_another_origin_is_refused(client: httpx.Client) -> None:
    token = _csrf(client)
    response = client.post(
        "/auth/sign-in",
        data={"csrf": token, "next": "/", "username": "ed", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403 and _session_cookie(response) is None


def test_sign_out_is_csrf_checked(client: httpx.Client, accounts: Server) -> None:
    response = _sign_in(client, "out")
    browser_id = client.cookies[COOKIE]
    forged = client.post("/auth/sign-out", data={"csrf": "nope"})
    assert forged.status_code == 403
    assert _signed_in_as(accounts, browser_id) == "out"
    assert response.status_code == 303


def test_sign_out_revokes_the_cookie_value(client: httpx.Client, accounts: Server) -> None:
    _sign_in(client, "out")
    browser_id = client.cookies[COOKIE]
    page = client.get("/auth/sign-out")
    token = CSRF_FIELD.search(page.text)
    assert token is not None and "You are signed in as out." in page.text
    response = client.post("/auth/sign-out", data={"csrf": token.group(1)})
    assert response.status_code == 303
    cleared = _session_cookie(response)
    assert cleared is not None and "max-age=0" in cleared.lower()
    # Replaying the old value (a copy kept elsewhere) signs nobody in.
    assert _signed_in_as(accounts, browser_id) is None


def test_an_expired_cookie_signs_nobody_in(client: httpx.Client, accounts: Server) -> None:
    _sign_in(client, "late")
    browser_id = client.cookies[COOKIE]
    assert _signed_in_as(accounts, browser_id) == "late"
    _sql(
        accounts,
        "UPDATE browser_sessions SET expires_at = '2000-01-01 00:00:00.000000' "
        "WHERE user_id = (SELECT id FROM users WHERE username = 'late')",
    )
    assert _signed_in_as(accounts, browser_id) is None


def test_an_admin_disabling_the_account_revokes_its_cookies(
    client: httpx.Client, accounts: Server
) -> None:
    _sign_in(client, "gone")
    browser_id = client.cookies[COOKIE]
    assert _signed_in_as(accounts, browser_id) == "gone"
    engine = make_engine(accounts.database_url)
    try:
        with write_session(engine) as session:
            update_user(session, actor=Actor.system("test"), username="gone", active=False)
    finally:
        engine.dispose()
    assert _signed_in_as(accounts, browser_id) is None
    again = _sign_in(client, "gone")
    assert again.status_code == 401 and _session_cookie(again) is None


def test_the_pages_form_signs_in_from_this_site_only(
    client: httpx.Client, accounts: Server
) -> None:
    """The pages' constant form (ui/auth.py) posts without a token and without `next`:
    allowed when the browser's Origin is this site, back to the page it came from."""
    fields = {"username": "ed", "password": PASSWORD}
    page = f"{accounts.base_url}/record?team=CHK&pi=PI+26.4"
    same = {"Origin": accounts.base_url, "Referer": page}
    response = client.post("/auth/sign-in", data=fields, headers=same)
    assert response.status_code == 303
    assert response.headers["location"] == "/record?team=CHK&pi=PI+26.4"
    assert _session_cookie(response) is not None
    for headers in ({"Referer": page}, {"Origin": "https://evil.example", "Referer": page}):
        refused = client.post("/auth/sign-in", data=fields, headers=headers)
        assert refused.status_code == 403 and _session_cookie(refused) is None
    elsewhere = {"Origin": accounts.base_url, "Referer": "https://evil.example/record"}
    response = client.post("/auth/sign-in", data=fields, headers=elsewhere)
    assert response.status_code == 303 and response.headers["location"] == "/"
