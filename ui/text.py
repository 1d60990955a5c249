"""User text made safe to show: escaped for markdown, links only http(s). One copy, used by
every page and form (tests/test_safe_rendering.py checks the rendering paths)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping all of
# them defuses markdown, HTML and Streamlit's own directives (":red[...]", ":material/x:",
# "$math$").
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
# GitHub's autolink literals (www.x.y, http://..., name@host) are found in the text after
# escapes are resolved, so escaping alone still makes links (measured in Chromium): an
# invisible word joiner after "http", "https", "www" and "@" breaks each pattern.
_AUTOLINK_START = re.compile(r"(?i)(https?|www)(?=\\[:.])")
WORD_JOINER = "\u2060"


def escape_markdown(text: object) -> str:
    """User text made safe for st.markdown / st.title / captions / help tooltips: shown as
    typed, never as a link, image, heading, HTML or Streamlit directive."""
    if text is None:
        return ""
    flat = " ".join(str(text).split())  # line breaks would start lists or headings
    escaped = _MARKDOWN_PUNCTUATION.sub(r"\\\1", flat)
    escaped = _AUTOLINK_START.sub(r"\1" + WORD_JOINER, escaped)
    return escaped.replace("\\@", "\\@" + WORD_JOINER)


def safe_url(url: object) -> str | None:
    """An http(s) link as given, or None for anything else (javascript:, data:, blanks)."""
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url
