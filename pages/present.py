"""Present: a full-screen, big-type slide show for PI planning and Inspect & Adapt, one
team per slide, then the train summary and the Inspect & Adapt slide, advancing on its
own every `interval` seconds."""

from __future__ import annotations

import math
import time

import streamlit as st

from core.errors import ValidationError
from core.format import day_text, format_percent
from core.inspect_adapt import inspect_and_adapt
from core.model import PIStatus, TeamStatus
from ui import reads, state
from ui.filters import known_train, parse_as_of, pi_select, today
from ui.format import (
    band_badge_md,
    count_badges_md,
    health_badge_md,
    health_counts,
    mean_progress,
    predictability_text,
    verdict_counts,
)
from ui.frame import page_frame, recheck_frame
from ui.inspect_adapt import inspect_adapt_slide
from ui.iterations import present_goal
from ui.present import PRESENT_CSS, PRESENT_KEYS, present_interval
from ui.text import escape_markdown
from ui.theme import HEALTH_ORDER, VERDICT_ORDER

frame = page_frame("present")

# A constant style block (no user text): big type and high contrast for a projector.
st.html(PRESENT_CSS)
# A constant script from ui/present.py (no user text): arrows, Space and a
# clicker's PageUp/PageDown press the Previous/Next buttons below.
st.html(PRESENT_KEYS, unsafe_allow_javascript=True)

SHOWN_AT = "present.shown_at"
DRAWN = "present.drawn"  # the slide the placeholder holds, to clear it on a change
TICK_S = 1  # the countdown's step

interval = present_interval(st.query_params.get("interval"))
try:
    as_of = parse_as_of(st.query_params.get("as_of")) or today()
except ValidationError as error:
    st.warning(f"{escape_markdown(error)}; showing today.")
    st.query_params.pop("as_of", None)
    as_of = today()
train = known_train()
with st.sidebar:
    st.divider()
    pi = pi_select(st.sidebar, train=train, as_of=as_of)
    st.caption(
        f"Advances every {interval} s. Set `interval=` in the address (3 s or more) to change it."
    )
if pi is None:
    st.title("Present")
    st.info("There is no PI to present yet.")
    st.stop()
view = reads.pi_view(pi_name=pi.name, as_of=as_of)
status = view.status
# After the team slides: the train summary (None), then Inspect & Adapt.
INSPECT = "inspect"
slides: list[TeamStatus | str | None] = [*status.teams, None, INSPECT]


def go(step: int) -> None:
    st.session_state[state.PRESENT_SLIDE] = st.session_state.get(state.PRESENT_SLIDE, 0) + step
    st.session_state[SHOWN_AT] = time.monotonic()


def toggle_pause() -> None:
    st.session_state[state.PRESENT_PAUSED] = not st.session_state.get(state.PRESENT_PAUSED, False)
    st.session_state[SHOWN_AT] = time.monotonic()


def team_slide(team: TeamStatus) -> None:
    st.title(escape_markdown(team.team.name), anchor=False)
    p = team.predictability
    st.markdown(
        f"{len(team.outcomes)} outcomes · mean progress "
        f"{format_percent(mean_progress(team.outcomes))} · predictability "
        f"{escape_markdown(predictability_text(p, len(team.outcomes)))}"
    )
    if not team.outcomes:
        st.markdown("### No outcomes in this PI.")
    for outcome in team.outcomes:
        row = st.columns([1.7, 8, 1.1], vertical_alignment="center")
        row[0].markdown(health_badge_md(outcome.health))
        row[1].markdown(f"### {escape_markdown(outcome.key)} · {escape_markdown(outcome.title)}")
        row[2].markdown(f"### {format_percent(outcome.progress)}", text_alignment="right")
    present_goal(pi, team.team.id, as_of)


def train_slide(pi_status: PIStatus) -> None:
    name = pi.train_name or train
    st.title(escape_markdown(f"{name} train" if name else "The whole train"), anchor=False)
    outcomes = [o for t in pi_status.teams for o in t.outcomes] + list(pi_status.train_outcomes)
    rollup = pi_status.train_predictability
    if rollup.not_yet_scored and not rollup.pi_ended:
        team_outcomes = sum(len(t.outcomes) for t in pi_status.teams)
        headline = escape_markdown(predictability_text(rollup, team_outcomes))
        st.markdown(f"### Predictability: {headline}")
    else:
        pooled = "not yet scored" if rollup.pooled is None else f"{rollup.pooled:.0f}% pooled"
        mean = (
            "" if rollup.mean_of_teams is None else f" · {rollup.mean_of_teams:.0f}% mean of teams"
        )
        st.markdown(f"### Predictability: {pooled}{mean} {band_badge_md(rollup.pooled_band)}")
    st.markdown(
        f"### {len(outcomes)} outcomes: "
        + count_badges_md(health_counts(outcomes), order=HEALTH_ORDER, kind="health")
    )
    verdicts = verdict_counts(outcomes)
    if verdicts:
        st.markdown(
            f"### {sum(verdicts.values())} hypotheses: "
            + count_badges_md(verdicts, order=VERDICT_ORDER, kind="verdict")
        )
    if pi_status.train_outcomes:
        st.divider()
        st.markdown("### Train outcomes")
        for outcome in pi_status.train_outcomes:
            line = st.columns([1.7, 8, 1.1], vertical_alignment="center")
            line[0].markdown(health_badge_md(outcome.health))
            line[1].markdown(
                f"### {escape_markdown(outcome.key)} · {escape_markdown(outcome.title)}"
            )
            line[2].markdown(f"### {format_percent(outcome.progress)}", text_alignment="right")
    st.divider()
    for team in pi_status.teams:
        row = st.columns([2.2, 8], vertical_alignment="center")
        row[0].markdown(f"### {escape_markdown(team.team.name)}")
        row[1].markdown(
            count_badges_md(health_counts(team.outcomes), order=HEALTH_ORDER, kind="health")
            or "no outcomes"
        )


def countdown_text(remaining: int) -> str:
    return f"Next slide in {remaining} s"


@st.fragment(run_every=TICK_S)
def countdown() -> None:
    """Ticks every second and redraws only its own line, so the slide is not redrawn
    each second; when the countdown reaches 0 it moves on and reruns the page."""
    recheck_frame(frame)  # after a sign-out, a fragment rerun must not go on
    now = time.monotonic()
    shown_at = st.session_state.get(SHOWN_AT)
    if shown_at is None or st.session_state.get(state.PRESENT_PAUSED, False):
        # A paused slide keeps its full interval for when the show resumes.
        st.session_state[SHOWN_AT] = shown_at = now
    elif now - shown_at >= interval - 0.5:
        # The timer's step (button clicks and keys reset `shown_at`, so none counts twice).
        go(1)
        st.rerun(scope="app")  # the slide is drawn outside this fragment
    # Markdown, not a caption: full-contrast text at the slide's size (PRESENT_CSS), as
    # it is read from across the room.
    keys = "right arrow, Page Down or Space: next · left arrow or Page Up: back"
    if st.session_state.get(state.PRESENT_PAUSED, False):
        st.markdown(f"Paused · {keys}")
    else:
        remaining = max(1, math.ceil(interval - (now - shown_at)))
        st.markdown(f"{countdown_text(remaining)} · {keys}")


@st.fragment
def slide_show() -> None:
    """The slide and its buttons; a click or key reruns only this."""
    recheck_frame(frame)  # after a sign-out, a fragment rerun must not draw slides
    paused = st.session_state.get(state.PRESENT_PAUSED, False)
    index = st.session_state.get(state.PRESENT_SLIDE, 0) % len(slides)
    st.session_state[state.PRESENT_SLIDE] = index
    slide = slides[index]
    # The slide's container hides its stale elements (PRESENT_CSS): the browser keeps the
    # old slide's rows until the run ends, and the new title over them would mix slides.
    # The slide is redrawn only when it changes, so nothing else ever goes stale in it.
    with st.container(key="present-slide"):
        if slide is None:
            train_slide(status)
        elif slide == INSPECT:
            inspect_adapt_slide(inspect_and_adapt(status, view.snapshot))
        elif isinstance(slide, TeamStatus):
            team_slide(slide)
    st.divider()
    controls = st.columns([1, 1, 1, 4], vertical_alignment="center")
    controls[0].button(
        "Previous",
        icon=":material/skip_previous:",
        on_click=go,
        args=(-1,),
        key="present-previous",
        help="Left arrow or Page Up",
    )
    controls[1].button(
        "Play" if paused else "Pause",
        icon=":material/play_arrow:" if paused else ":material/pause:",
        on_click=toggle_pause,
        key="present-pause",
    )
    controls[2].button(
        "Next",
        icon=":material/skip_next:",
        on_click=go,
        args=(1,),
        key="present-next",
        help="Right arrow, Page Down or Space",
    )
    controls[3].markdown(
        f"Slide {index + 1} of {len(slides)} · {escape_markdown(pi.name)} · "
        f"as of {day_text(as_of)}" + (" · paused" if paused else "")
    )


slide_show()
countdown()
