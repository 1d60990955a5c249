"""The "Copy link" control: two links to the view, each copied by one click, each saying
what the person who opens it will see: "frozen at <date>" (with `as_of`) and "live"
(without: whatever the data says when it is opened). Issue 14, point 9.

Streamlit has no clipboard API, so a small component does the copying. Its HTML, CSS and
JavaScript are constants; the links reach it as data and are set as text and as the
clipboard's content, never parsed as HTML (tests/test_safe_rendering.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import streamlit as st

from core.format import day_text

HTML = """<div class="ob-share" role="group" aria-label="Copy a link to this view">
<span class="ob-lead">Copy link</span>
<button type="button" class="ob-copy" data-which="frozen"></button>
<button type="button" class="ob-copy" data-which="live"></button>
<div class="ob-status" role="status" aria-live="polite"></div>
</div>"""

CSS = """
.ob-share { display: flex; flex-wrap: wrap; gap: 0.25rem; justify-content: flex-end;
  align-items: center; font-family: var(--st-font, sans-serif); }
.ob-lead { font-size: 0.8rem; color: var(--st-text-color, #31333f); }
.ob-copy { font: inherit; font-size: 0.8rem; line-height: 1.2; cursor: pointer;
  padding: 0.3rem 0.55rem; border-radius: var(--st-base-radius, 0.5rem);
  color: var(--st-text-color, #31333f);
  background: var(--st-secondary-background-color, #f0f2f6);
  border: 1px solid var(--st-border-color, #d5d7de); }
.ob-copy:hover, .ob-copy:focus-visible { border-color: var(--st-primary-color, #ff4b4b); }
.ob-copy:focus-visible { outline: 2px solid var(--st-primary-color, #ff4b4b); outline-offset: 1px; }
.ob-status { flex-basis: 100%; text-align: right; font-size: 0.8rem;
  color: var(--st-text-color, #31333f); overflow-wrap: anywhere; }
"""

# The links arrive as `data` and are only ever set as text (textContent, title) or copied.
JS = """
async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (error) {
    // No clipboard API (plain http on another host): the selection-copy fallback.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    let copied = false;
    try { copied = document.execCommand("copy"); } catch (ignored) { copied = false; }
    area.remove();
    return copied;
  }
}

export default function (component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector(".ob-share");
  if (!root || !data) return;
  const status = root.querySelector(".ob-status");
  for (const button of root.querySelectorAll("button.ob-copy")) {
    const link = data[button.dataset.which];
    if (!link) continue;
    button.textContent = link.label;
    button.title = link.sees;
    button.setAttribute("aria-label", link.label + ": " + link.sees);
    button.dataset.url = link.url;
    button.onclick = async () => {
      const copied = await copyText(link.url);
      status.textContent = copied ? link.copied : "Copy this link by hand: " + link.url;
    };
  }
}
"""

_share_component = st.components.v2.component("outcomes_share_link", html=HTML, css=CSS, js=JS)


@dataclass(frozen=True)
class ShareLink:
    url: str
    label: str  # the button's text
    sees: str  # what the person who opens it sees (its tooltip and accessible name)
    copied: str  # said once copied


def share_links(base: str, params: Mapping[str, str], as_of: dt.date) -> dict[str, ShareLink]:
    """The frozen and the live link to the view at `base` with these query parameters."""
    others = {name: value for name, value in params.items() if name != "as_of"}
    day = day_text(as_of)

    def url(query: Mapping[str, str]) -> str:
        return f"{base}?{urlencode(query)}" if query else base

    return {
        "frozen": ShareLink(
            url=url({**others, "as_of": as_of.isoformat()}),
            label=f"Frozen at {day}",
            sees=f"whoever opens it sees this view as it stood on {day}, however the data "
            "changes later (read-only)",
            copied=f"Copied: opens this view as of {day}.",
        ),
        "live": ShareLink(
            url=url(others),
            label="Live",
            sees="whoever opens it sees this view with the data of the day they open it "
            "(read-only)",
            copied="Copied: opens this view live, with that day's data.",
        ),
    }


def share_link_buttons(base: str, params: Mapping[str, str], as_of: dt.date) -> None:
    """The two copy buttons (one click each) and, once clicked, what was copied."""
    links = share_links(base, params, as_of)
    _share_component(
        key="share_link",
        data={
            name: {"url": link.url, "label": link.label, "sees": link.sees, "copied": link.copied}
            for name, link in links.items()
        },
        width="stretch",
    )
