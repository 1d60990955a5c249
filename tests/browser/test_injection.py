"""Nothing a user types runs in another user's browser: 40+ injection payloads stored in
every kind of user text through the write path, then the team and outcome pages rendered
in Chromium. None executes, no element comes from them, each is shown as text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_plus

import pytest

from db.engine import make_engine
from db.migrate import upgrade
from tests.browser.conftest import running_app, wait_for_app
from tests.browser.injection_payloads import (
    ALL_PAYLOADS,
    LINK_PAYLOADS,
    PAYLOADS,
    PWN,
    SHORT_PAYLOADS,
    TRAP_HOSTS,
    InjectionWorkspace,
    build_injection_workspace,
)
from tests.conftest import DEMO_TODAY

pytestmark = pytest.mark.browser

# Installed before any page script, in every frame: any assignment to the trap is recorded
# (and passed up to the top window), even if a payload deletes or overwrites it later.
# Dialogs (alert, confirm, prompt) are caught by Playwright's dialog handler instead.
TRAP = f"""
(() => {{
  const hits = [];
  Object.defineProperty(window, '{PWN.split(".")[1]}', {{
    configurable: false,
    get() {{ return hits.length ? hits.join(',') : undefined; }},
    set(value) {{
      hits.push(String(value));
      try {{ if (window.top !== window) window.top.{PWN.split(".")[1]} = value; }} catch (e) {{}}
    }},
  }});
}})();
"""

# Elements and attributes that only an injection would create here: Streamlit renders no
# inline event handlers, no iframes or objects, no images but its own, and no link whose
# address comes from user text (the release link field is the one meant to be a link).
DOM_FINDINGS = """
(linkMarkers) => {
  const found = [];
  const marker = /x\\d\\dq/i;
  const isLinkField = (value) => linkMarkers.some((m) => value.toLowerCase().includes(m.toLowerCase()));
  // The app's own page links (st.page_link) carry user text only percent-encoded in the
  // query string of a relative path: they lead nowhere else.
  const isOwnPageLink = (value) => /^\\/?(team|outcome|record|plan|review|present|admin|metric)?\\?[^<>"'\\/:]*$/.test(value);
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = (attr.value || '').toLowerCase().replace(/[\\s\\u0000-\\u001f]/g, '');
      if (name.startsWith('on')) found.push(`<${el.tagName} ${name}=...>`);
      if (['href', 'src', 'action', 'formaction', 'data', 'srcdoc', 'xlink:href', 'background'].includes(name)
          && /^(javascript|vbscript|data:text)/.test(value)) found.push(`<${el.tagName} ${name}=${value.slice(0, 40)}>`);
      if (el.tagName === 'A' && name === 'href' && marker.test(value) && !isLinkField(value)
          && !isOwnPageLink(value))
        found.push(`link: <a href=${attr.value.slice(0, 60)}> made from user text`);
      else if (['href', 'src', 'style', 'srcdoc', 'data', 'action'].includes(name) && marker.test(value)
               && !(el.tagName === 'A' && (isLinkField(value) || isOwnPageLink(value))))
        found.push(`<${el.tagName} ${name}=${attr.value.slice(0, 60)}> made from user text`);
    }
  }
  for (const tag of ['iframe', 'object', 'embed', 'frame', 'base', 'marquee', 'video', 'audio',
                     'meta[http-equiv]', 'form[action]', 'details[ontoggle]', 'svg[onload]']) {
    for (const el of document.querySelectorAll(tag)) found.push(`<${tag}>`);
  }
  for (const el of document.querySelectorAll('img, image, input[autofocus]')) {
    if (marker.test(el.outerHTML) || /127\\.0\\.0\\.1:9|evil\\.example/.test(el.outerHTML)
        || (el.getAttribute('src') || '') === 'x') found.push(`<${el.tagName}> from user text`);
  }
  for (const el of document.querySelectorAll('style, link, script')) {
    if (marker.test(el.outerHTML)) found.push(`<${el.tagName}> from user text`);
  }
  return found;
}
"""

# Visible text: the page's rendered text plus the cells of data grids (drawn on canvas,
# mirrored in an accessible table).
PAGE_TEXT = """
() => {
  const parts = [document.body.innerText];
  for (const cell of document.querySelectorAll('[role=gridcell], [role=columnheader]')) parts.push(cell.textContent);
  return parts.join('\\n');
}
"""


def _markers_in(text: str) -> set[str]:
    return set(re.findall(r"X\d\dQ", text))


def _open(page: Any, url: str) -> str:
    page.goto(url)
    wait_for_app(page, timeout_ms=90_000)
    page.wait_for_timeout(1_000)  # anything injected has had its chance to run
    assert page.locator("[data-testid='stException']").count() == 0, page.inner_text("body")
    return page.evaluate(PAGE_TEXT)


def _hover_help(page: Any) -> None:
    """Open every help tooltip, so text shown only there is rendered too."""
    icons = page.locator("[data-testid='stTooltipIcon'], [data-testid='stTooltipHoverTarget']")
    for index in range(min(icons.count(), 40)):
        icon = icons.nth(index)
        if icon.is_visible():
            # An event, not the mouse: charts and the header may lie over the icon.
            icon.dispatch_event("mouseover")
            page.wait_for_timeout(200)
            icon.dispatch_event("mouseout")


def check_rendering(page: Any, base_url: str, workspace: InjectionWorkspace) -> dict[str, Any]:
    """Open the team page and every outcome's page; return what each showed and what, if
    anything, ran or appeared."""
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requests.append(request.url))
    page.add_init_script(TRAP)
    page.route(re.compile("|".join(re.escape(h) for h in TRAP_HOSTS)), lambda route: route.abort())

    params = f"pi={quote_plus(workspace.pi_name)}&team={workspace.team_key}"
    urls = [f"{base_url}/team?{params}"] + [
        f"{base_url}/outcome?{params}&outcome={key}" for key in workspace.outcome_keys
    ]
    link_markers = [p.marker for p in LINK_PAYLOADS]
    seen: set[str] = set()
    findings: dict[str, list[str]] = {}
    links: dict[str, list[str]] = {}
    executed: dict[str, object] = {}
    for url in urls:
        seen |= _markers_in(_open(page, url))
        _hover_help(page)
        found = page.evaluate(DOM_FINDINGS, link_markers)
        if elements := [f for f in found if not f.startswith("link:")]:
            findings[url] = elements
        if made_links := [f for f in found if f.startswith("link:")]:
            links[url] = made_links
        pwned = page.evaluate(f"typeof {PWN} === 'undefined' ? null : String({PWN})")
        if pwned is not None:
            executed[url] = pwned
    return {
        "seen": seen,
        "findings": findings,
        "links": links,
        "executed": executed,
        "dialogs": dialogs,
        "trap_requests": sorted({r for r in requests if any(h in r for h in TRAP_HOSTS)}),
    }


def assert_safe(result: dict[str, Any], workspace: InjectionWorkspace) -> None:
    assert result["executed"] == {}, f"payloads ran: {result['executed']}"
    assert result["dialogs"] == [], f"dialogs opened: {result['dialogs']}"
    assert result["trap_requests"] == [], f"the browser fetched: {result['trap_requests']}"
    assert result["findings"] == {}, f"elements from user text: {result['findings']}"
    must_show = {p.marker: p for p in PAYLOADS + SHORT_PAYLOADS}
    missing = {
        m: (must_show[m].kind, workspace.placement.get(m))
        for m in must_show.keys() - result["seen"]
    }
    assert missing == {}, f"payloads not shown as text: {missing}"


@pytest.fixture(scope="module")
def injection_app(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, InjectionWorkspace]]:
    """The app under `streamlit run` on a database full of payloads."""
    folder = tmp_path_factory.mktemp("injection")
    url = f"sqlite:///{folder / 'outcomes.db'}"
    engine = make_engine(url)
    upgrade(engine)
    workspace = build_injection_workspace(engine, today=DEMO_TODAY)
    engine.dispose()
    with running_app(url, log_path=folder / "streamlit.log") as base_url:
        yield base_url, workspace


@pytest.fixture(scope="module")
def rendering(injection_app: tuple[str, InjectionWorkspace], browser: Any) -> dict[str, Any]:
    """The team page and every outcome page rendered once for the tests below."""
    base_url, workspace = injection_app
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        return {"workspace": workspace, **check_rendering(page, base_url, workspace)}
    finally:
        page.close()


def test_injected_text_is_shown_and_never_runs(rendering: dict[str, Any]) -> None:
    assert_safe(rendering, rendering["workspace"])


def test_user_text_makes_no_links(rendering: dict[str, Any]) -> None:
    """Bare addresses in user text (http://..., www...., name@host) are shown as text, not
    turned into links by markdown's autolinking."""
    made = sorted({link for links in rendering["links"].values() for link in links})
    assert made == [], "\n".join(made)


def test_payloads_cover_every_class_and_field() -> None:
    assert len(ALL_PAYLOADS) >= 30
    assert len({p.marker for p in ALL_PAYLOADS}) == len(ALL_PAYLOADS)
