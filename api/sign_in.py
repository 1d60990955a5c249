"""The sign-in that lasts: `GET/POST /auth/sign-in` and `GET/POST /auth/sign-out`, small
server-rendered pages served beside the app's pages by the same `streamlit run`.

- `GET /auth/sign-in?next=/record?team=CHK` draws a plain HTML form (every value
  escaped). `POST` checks the password with db.sign_in.sign_in, the pages' own check
  (throttle and messages included); on success it starts a browser session
  (db/browser_sessions.py), sets its id in an HttpOnly, SameSite=Lax cookie that expires
  with it (`OUTCOMES_SESSION_HOURS`, default 12), and answers 303 to `next`: only a path
  of this site, never an absolute or `//host` URL (an open redirect would lend our name
  to a phishing link). Without `next`, the Referer of a same-site page is used, so the
  pages' constant "Sign in" link returns to the page (and query) it was clicked on.
- `POST /auth/sign-out` revokes this browser's session and clears the cookie.
- CSRF: each form drawn here carries a random token that must equal the one in a
  SameSite=Strict cookie limited to /auth (double submit); the pages' own sign-in form
  (constant HTML in ui/auth.py, so without a token) is let through only when the
  browser's Origin header names this site; a POST whose Origin names another site is
  always refused. The password travels only in the POST body, never in a URL.
Database work runs in Starlette's thread pool, off the event loop of the pages."""

from __future__ import annotations

import datetime as dt
import hmac
import html
import secrets
from urllib.parse import parse_qs, quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from api.routes import api_engine
from db.browser_sessions import (
    BROWSER_COOKIE,
    SIGN_IN_PATH,
    browser_actor,
    revoke_browser_session,
    session_hours,
    start_browser_session,
)
from db.engine import read_session, write_session
from db.sign_in import sign_in

SESSION_COOKIE = BROWSER_COOKIE
CSRF_COOKIE = "outcomes_csrf"
AUTH_PATH = "/auth"
SIGN_OUT_PATH = f"{AUTH_PATH}/sign-out"
MAX_FORM_BYTES = 16 * 1024
MAX_NEXT_LENGTH = 2000
CSRF_REFUSED = "This form has expired or did not come from this site: nothing was done. Try again."

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>{title} - Outcome Board</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; background: #fff; color: #1f1f1f; }}
main {{ max-width: 22rem; margin: 4rem auto; padding: 0 1rem; }}
label {{ display: block; margin-top: 1rem; font-weight: 600; }}
input[type=text], input[type=password] {{ width: 100%; box-sizing: border-box;
  padding: .5rem; margin-top: .25rem; border: 1px solid #6b6b6b; border-radius: .4rem; }}
button {{ margin-top: 1.25rem; padding: .5rem 1rem; border: 0; border-radius: .4rem;
  background: #b3261e; color: #fff; font-size: 1rem; cursor: pointer; }}
p.message {{ color: #8c1d18; background: #fdecea; padding: .5rem; border-radius: .4rem; }}
a {{ color: #0b57d0; }}
</style></head>
<body><main>
<h1>{title}</h1>
{body}
</main></body></html>
"""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path of this site (with its query), else "/"."""
    if not value or len(value) > MAX_NEXT_LENGTH:
        return "/"
    # Browsers read a backslash as a slash ("/\\evil.example") and drop tabs and newlines.
    if any(ch == "\\" or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "/"
    if not value.startswith("/") or value.startswith("//"):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path.startswith(f"{AUTH_PATH}/"):
        return "/"
    return value


def _this_host(request: Request, url: str) -> bool:
    """Whether `url` (an Origin or a Referer) names this server's host. Host names only:
    a proxy such as nginx's `proxy_set_header Host $host` drops the port, and cookies
    are shared across ports anyway, so a port tells no site from another."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    hosts = {
        urlsplit(f"//{value.split(',')[0].strip()}").hostname
        for value in (request.headers.get("host"), request.headers.get("x-forwarded-host"))
        if value
    }
    return parts.hostname in hosts


def _next_from_referer(request: Request) -> str | None:
    """The page the visitor came from, when it is a page of this site."""
    referer = request.headers.get("referer")
    if not referer or not _this_host(request, referer):
        return None
    parts = urlsplit(referer)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _is_https(request: Request) -> bool:
    # A proxy in front says so; the header can only add the Secure flag, never remove it.
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def _csrf_token(request: Request) -> str:
    current = request.cookies.get(CSRF_COOKIE, "")
    if 20 <= len(current) <= 100 and current.replace("-", "").replace("_", "").isalnum():
        return current
    return secrets.token_urlsafe(32)


def _set_csrf(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        token,
        path=AUTH_PATH,
        httponly=True,
        samesite="strict",
        secure=_is_https(request),
    )


def _same_origin(request: Request) -> bool | None:
    """Whether the browser says this request comes from a page of this site: True or
    False from the Origin header, None when it sent none (not a browser's form POST)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return None
    return _this_host(request, origin)


def _csrf_ok(request: Request, form: dict[str, str]) -> bool:
    """A POST from this site: the form's token equals the CSRF cookie (the forms drawn
    here), or, for the pages' own sign-in form (constant HTML, so it carries no token),
    the browser's Origin header names this site. A foreign Origin always fails."""
    same_origin = _same_origin(request)
    if same_origin is False:
        return False
    if "csrf" not in form:
        return same_origin is True
    cookie = request.cookies.get(CSRF_COOKIE, "")
    field = form["csrf"]
    return bool(cookie) and hmac.compare_digest(cookie.encode(), field.encode())


async def _form(request: Request) -> dict[str, str] | None:
    """The urlencoded body's fields (first value of each), or None when too large."""
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return None
    fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items() if values}


def _sign_in_page(
    request: Request, *, next_path: str, message: str = "", username: str = "", status: int = 200
) -> HTMLResponse:
    token = _csrf_token(request)
    e = html.escape
    notice = f'<p class="message" role="alert">{e(message)}</p>' if message else ""
    body = f"""{notice}
<form method="post" action="{SIGN_IN_PATH}">
<input type="hidden" name="csrf" value="{e(token)}">
<input type="hidden" name="next" value="{e(next_path)}">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{e(username)}"
 autocomplete="username" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<p><a href="{e(next_path)}">Back without signing in</a></p>"""
    response = HTMLResponse(PAGE.format(title="Sign in", body=body), status_code=status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"  # no clickjacking of the form
    _set_csrf(response, request, token)
    return response


async def get_sign_in(request: Request) -> HTMLResponse:
    wanted = request.query_params.get("next") or _next_from_referer(request)
    return _sign_in_page(request, next_path=safe_next(wanted))


def _start(username: str, password: str, client: str | None) -> tuple[str | None, str]:
    """(browser id, message): the id when the password is right, else None and the same
    message the pages' form shows (wrong credentials or a throttle lock)."""
    engine = api_engine()
    now = _now()
    result = sign_in(engine, username=username, password=password, client=client, now=now)
    if not result.ok or result.actor is None:
        return None, result.message
    # No page shows browser sessions: the pages' caches stay.
    with write_session(engine, seen_by_pages=False) as session:
        browser_id = start_browser_session(
            session, username=result.actor.username, now=now, hours=session_hours()
        )
    return browser_id, result.message


async def post_sign_in(request: Request) -> Response:
    form = await _form(request)
    if form is None:
        return _sign_in_page(request, next_path="/", message="The form is too large.", status=413)
    # The pages' form sends no `next`: it returns to the page it was sent from.
    next_path = safe_next(form.get("next") or _next_from_referer(request))
    username = form.get("username", "").strip()
    if not _csrf_ok(request, form):
        return _sign_in_page(
            request, next_path=next_path, message=CSRF_REFUSED, username=username, status=403
        )
    client = request.client.host if request.client else None
    browser_id, message = await run_in_threadpool(
        _start, username, form.get("password", ""), client
    )
    if browser_id is None:
        status = 429 if message.startswith("Too many attempts") else 401
        return _sign_in_page(
            request, next_path=next_path, message=message, username=username, status=status
        )
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        browser_id,
        max_age=int(session_hours() * 3600),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_is_https(request),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _signed_in_name(browser_id: str | None) -> str | None:
    with read_session(api_engine()) as session:
        actor = browser_actor(session, browser_id=browser_id, now=_now())
    return actor.display_name if actor is not None else None


async def get_sign_out(request: Request) -> HTMLResponse:
    name = await run_in_threadpool(_signed_in_name, request.cookies.get(SESSION_COOKIE))
    token = _csrf_token(request)
    e = html.escape
    who = f"You are signed in as {e(name)}." if name else "You are not signed in."
    body = f"""<p>{who}</p>
<form method="post" action="{SIGN_OUT_PATH}">
<input type="hidden" name="csrf" value="{e(token)}">
<button type="submit">Sign out</button>
</form>
<p><a href="/">Back to the overview</a></p>"""
    response = HTMLResponse(PAGE.format(title="Sign out", body=body))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    _set_csrf(response, request, token)
    return response


def _revoke(browser_id: str | None) -> None:
    with write_session(api_engine(), seen_by_pages=False) as session:
        revoke_browser_session(session, browser_id=browser_id, now=_now())


async def post_sign_out(request: Request) -> Response:
    form = await _form(request)
    if form is None or not _csrf_ok(request, form):
        response = HTMLResponse(
            PAGE.format(
                title="Sign out",
                body=f'<p class="message" role="alert">{html.escape(CSRF_REFUSED)}</p>'
                f'<p><a href="{SIGN_OUT_PATH}">Sign out</a></p>',
            ),
            status_code=403,
        )
        return response
    await run_in_threadpool(_revoke, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(safe_next(form.get("next")), status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_is_https(request)
    )
    return response


def sign_in_link(next_path: str) -> str:
    """The sign-in page's URL that returns to `next_path` (a path of this site)."""
    return f"{SIGN_IN_PATH}?next={quote(safe_next(next_path), safe='')}"


def sign_in_routes() -> list[BaseRoute]:
    return [
        Route(SIGN_IN_PATH, get_sign_in, methods=["GET"]),
        Route(SIGN_IN_PATH, post_sign_in, methods=["POST"]),
        Route(SIGN_OUT_PATH, get_sign_out, methods=["GET"]),
        Route(SIGN_OUT_PATH, post_sign_out, methods=["POST"]),
    ]
