"""Filters bound to the URL: each reads its query parameter, shows a select box, and
writes the choice back, so the address bar is always a link to the same view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from core.errors import ValidationError
from ui.text import escape_markdown


def _write_param(param: str, key: str) -> None:
    value = st.session_state.get(key)
    if value is None:
        st.query_params.pop(param, None)
    else:
        st.query_params[param] = str(value)


def param_select(
    label: str,
    options: Sequence[str],
    *,
    param: str,
    default: str | None = None,
    format_func: Callable[[Any], str] = str,
    help: str | None = None,
    container: Any = None,
    noun: str | None = None,
) -> str | None:
    """A select box labelled `label` over `options`, bound to `?param=`.

    An unknown value in the URL gets a clear message and falls back to the default."""
    where = container or st
    requested = st.query_params.get(param)
    if requested is not None and requested not in options:
        shown = escape_markdown(requested)  # the URL is anyone's text
        st.warning(f"There is no {noun or label.lower()} “{shown}” here; showing another one.")
        requested = None
    if not options:
        st.query_params.pop(param, None)
        return None
    value = requested or (default if default in options else options[0])
    key = f"filter.{param}"
    # Set on every run, equal or not: only a value set this run is sent to the browser
    # (`set_value`). The browser keeps its own value per widget id, and a keyed widget's
    # id is its key alone, the same on every page; skipping an equal value let it show
    # and hold a choice from earlier, and picking that choice then sent nothing (the
    # long-session test: the PI select showed PI 27.1 over a PI 26.3 page, dead).
    st.session_state[key] = value
    where.selectbox(
        label,
        list(options),
        key=key,
        format_func=format_func,
        help=help,
        on_change=_write_param,
        args=(param, key),
    )
    st.query_params[param] = value
    return value


def parse_as_of(raw: str | None) -> dt.date | None:
    """`as_of=YYYY-MM-DD`; raises ValidationError naming the parameter when malformed."""
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError as error:
        raise ValidationError(f"“{raw}” is not a date (use YYYY-MM-DD)", where="as_of") from error


def as_of_picker(*, container: Any = None, today: dt.date | None = None) -> dt.date:
    """The as-of date: `?as_of=` when given (the view as it stood then), else today."""
    where = container or st
    today = today or dt.date.today()
    try:
        chosen = parse_as_of(st.query_params.get("as_of"))
    except ValidationError as error:
        st.warning(f"{escape_markdown(str(error))}; showing today.")
        st.query_params.pop("as_of", None)
        chosen = None
    key = "filter.as_of"
    value = chosen or today
    st.session_state[key] = value  # on every run: see param_select
    where.date_input(
        "As of",
        key=key,
        format="YYYY-MM-DD",
        help="Show the view as it stood on this date. Today is the live view.",
        on_change=_write_as_of,
        args=(key, today),
    )
    return value


def _write_as_of(key: str, today: dt.date) -> None:
    value = st.session_state.get(key)
    if not value or value == today:
        st.query_params.pop("as_of", None)
    else:
        st.query_params["as_of"] = value.isoformat()


def copy_link() -> None:
    """Show the address of this exact view, with a copy button (st.code has one)."""
    base = (st.context.url or "").split("?", 1)[0]
    query = "&".join(f"{name}={_quote(value)}" for name, value in st.query_params.to_dict().items())
    url = f"{base}?{query}" if query else base
    with st.popover("Copy link", icon=":material/link:"):
        st.caption("Anyone with this link sees this view (read-only).")
        st.code(url, language=None, wrap_lines=True)


def _quote(value: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(value)
