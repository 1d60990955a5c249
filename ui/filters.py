"""Filters bound to the URL: each reads its query parameter, shows a select box, and
writes the choice back, so the address bar is always a link to the same view; the
dashboards' filter rows (train, PI, team, outcome, as of) with the title above them, and
links to other pages that keep the filters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from core.errors import ValidationError
from core.format import day_text
from core.model import (
    OutcomeSpec,
    OutcomeStatus,
    PIInfo,
    TeamInfo,
)
from ui import reads
from ui.format import outcome_spec, pi_progress_text, pi_span_text
from ui.share_link import share_link_buttons
from ui.site import SHARED_PARAMS
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
    """Two links to this exact view, each copied with one click: frozen at its as-of date,
    and live (ui/share_link.py)."""
    base = (st.context.url or "").split("?", 1)[0]
    try:
        as_of = parse_as_of(st.query_params.get("as_of")) or today()
    except ValidationError:
        as_of = today()  # the picker has said so and dropped it
    share_link_buttons(base, st.query_params.to_dict(), as_of)


# ---------------------------------------------------------------- filter rows


def page_params(**values: str | None) -> dict[str, str]:
    """Query parameters for a link to another page: the shared context, overridden."""
    params = {name: st.query_params[name] for name in SHARED_PARAMS if name in st.query_params}
    for name, value in values.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return params


@dataclass(frozen=True)
class Filters:
    """What a dashboard shows: the chosen train (None in a train-less install), PI and
    as-of date."""

    train: str | None
    pi: PIInfo | None
    as_of: dt.date
    top: Top


def today() -> dt.date:
    return dt.date.today()


def _train_of_requested_pi(pis: Sequence[PIInfo]) -> str | None:
    requested = st.query_params.get("pi")
    return next((p.train_name for p in pis if p.name == requested), None)


def _pi_label(pis: Sequence[PIInfo]) -> Any:
    by_name = {p.name: p for p in pis}

    def label(name: str) -> str:
        pi = by_name.get(name)
        return f"{name} ({pi_span_text(pi)})" if pi else name

    return label


def train_select(where: Any, *, page: str) -> str | None:
    """The Train select box (skipped when the workspace has no trains). Changing the train
    drops a PI of another train from the URL, so the PI default applies."""
    names = reads.train_names()
    if not names:
        st.query_params.pop("train", None)
        return None
    default = _train_of_requested_pi(reads.list_pis()) if "train" not in st.query_params else None
    train = param_select("Train", names, param="train", default=default, container=where)
    seen_key = f"views.train_seen.{page}"
    seen = st.session_state.get(seen_key)
    if seen is not None and seen != train:
        st.query_params.pop("pi", None)
    st.session_state[seen_key] = train
    return train


def pi_select(
    where: Any, *, train: str | None, as_of: dt.date, pis: Sequence[PIInfo] | None = None
) -> PIInfo | None:
    """The PI select box, defaulting to the PI running on `as_of` (else the next, else
    the last); None with a message when there is no PI."""
    pis = list(pis) if pis is not None else reads.list_pis(train)
    if not pis:
        st.query_params.pop("pi", None)
        return None
    current = reads.current_pi(today=as_of, train_name=train)
    names = [p.name for p in reversed(pis)]  # newest first: the likely choices on top
    chosen = param_select(
        "PI",
        names,
        param="pi",
        default=current.name if current else names[0],
        format_func=_pi_label(pis),
        container=where,
        noun="PI",
    )
    return next((p for p in pis if p.name == chosen), None)


@dataclass(frozen=True)
class Top:
    """The top of a dashboard: a slot for the title row (filled once the names are known,
    so it still sits above the filters) and one column per filter."""

    head: Any
    columns: Sequence[Any]
    as_of: dt.date


def page_top(widths: Sequence[float]) -> Top:
    """The title slot and a row of filter columns; the last column holds As of."""
    head = st.container()
    columns = st.columns(list(widths), vertical_alignment="bottom")
    as_of = as_of_picker(container=columns[-1], today=today())
    return Top(head=head, columns=columns, as_of=as_of)


# A constant (no user text): a long title one size down, the size of a section heading
# (Streamlit's h2), and smaller still on a phone.
SMALL_TITLE_CSS = "<style>.st-key-small-title h1 { font-size: min(2.25rem, 7vw); }</style>"


def title_row(
    top: Top, title: str, *, caption: str = "", help: str | None = None, small: bool = False
) -> None:
    """The page title (user text, escaped) with Copy link beside it and a caption line;
    `small` for long titles (outcome statements). Call after every filter has written its
    parameter: the link is built from the URL."""
    with top.head:
        left, right = st.columns([6, 1.4], vertical_alignment="center")
        if small:
            # A sentence-long title reads better smaller, but it stays the page's one h1
            # (an h2 left the outcome page without one: axe, issue 14 item 8).
            st.html(SMALL_TITLE_CSS)
            left.container(key="small-title").title(escape_markdown(title), anchor=False, help=help)
        else:
            left.title(escape_markdown(title), anchor=False, help=help)
        with right.container(horizontal_alignment="right"):
            copy_link()
        if caption:
            st.caption(escape_markdown(caption))


def filter_row(*, page: str) -> Filters:
    """Train, PI and As of in one row, all bound to the URL (the title slot above)."""
    top = page_top([2, 3, 2])
    train = train_select(top.columns[0], page=page)
    pi = pi_select(top.columns[1], train=train, as_of=top.as_of)
    return Filters(train=train, pi=pi, as_of=top.as_of, top=top)


def pi_caption(filters: Filters) -> str:
    """ "Payments train · 14 Sep – 4 Dec 2026 · day 50 of 82 · as of 2 Nov 2026"."""
    assert filters.pi is not None
    parts = (
        f"{filters.train} train" if filters.train else "",
        pi_span_text(filters.pi),
        pi_progress_text(filters.pi, filters.as_of),
        f"as of {day_text(filters.as_of)}",
    )
    return " · ".join(part for part in parts if part)


def team_filter_row() -> tuple[TeamInfo | None, Filters]:
    """Team, PI and As of; the team's train is written to the URL to keep links whole."""
    top = page_top([2, 3, 2])
    teams = reads.teams(train_name=None, include_inactive=True)
    key = param_select(
        "Team",
        [t.key for t in teams],
        param="team",
        format_func=team_label(teams),
        container=top.columns[0],
    )
    team = next((t for t in teams if t.key == key), None)
    train_names = {t.id: t.name for t in reads.list_trains()}
    train = train_names.get(team.train_id) if team and team.train_id is not None else None
    if train:
        st.query_params["train"] = train
    else:
        st.query_params.pop("train", None)
    pi = pi_select(top.columns[1], train=train, as_of=top.as_of) if team else None
    return team, Filters(train=train, pi=pi, as_of=top.as_of, top=top)


def team_label(teams: Sequence[TeamInfo]) -> Any:
    by_key = {t.key: t for t in teams}

    def label(key: str) -> str:
        team = by_key.get(key)
        if team is None:
            return key
        return team.name if team.active else f"{team.name} (inactive)"

    return label


def known_train() -> str | None:
    """The `train` of the URL when it names a train; an unknown one is said and dropped."""
    requested = st.query_params.get("train")
    if requested is None:
        return None
    if requested in reads.train_names():
        return requested
    st.warning(f"There is no train “{escape_markdown(requested)}” here; showing every train's PIs.")
    st.query_params.pop("train", None)
    return None


def outcome_select(
    where: Any, view: reads.PIView
) -> tuple[OutcomeStatus, OutcomeSpec, TeamInfo | None] | None:
    """The Outcome select box over every outcome of the PI (team outcomes by team, then the
    train's), defaulting to the first of the URL's team; writes `team` to match."""
    status = view.status
    entries: list[tuple[OutcomeStatus, TeamInfo | None]] = [
        (o, t.team) for t in status.teams for o in t.outcomes
    ]
    entries += [(o, None) for o in status.train_outcomes]
    if not entries:
        st.query_params.pop("outcome", None)
        return None
    by_key = {o.key: (o, team) for o, team in entries}
    team_key = st.query_params.get("team")
    default = next((o.key for o, team in entries if team and team.key == team_key), None)

    def label(key: str) -> str:
        outcome, team = by_key[key]
        return f"{key} · {outcome.title} ({team.name if team else 'train'})"

    key = param_select(
        "Outcome",
        list(by_key),
        param="outcome",
        default=default,
        format_func=label,
        container=where,
    )
    if key is None:
        return None
    outcome, team = by_key[key]
    spec = outcome_spec(view.snapshot, outcome.outcome_id)
    if spec is None:
        return None
    if team is not None:
        st.query_params["team"] = team.key
    else:
        st.query_params.pop("team", None)
    return outcome, spec, team
