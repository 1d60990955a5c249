"""Issue 15: a fragment rerun (the present page's timer, or one a client forges after a
sign-out) checks the sign-in again instead of drawing with the page's old actor."""

from __future__ import annotations

import pytest

import ui.frame
from core.access import Actor
from ui.frame import PAGES, Frame, recheck_frame

SIGNED_IN = Actor(username="ana", role="viewer", session_version=7)


@pytest.fixture
def reruns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(ui.frame.st, "rerun", lambda scope="app": calls.append(scope))
    return calls


def _frame() -> Frame:
    return Frame(engine=None, actor=SIGNED_IN, page=PAGES["present"])  # type: ignore[arg-type]


def test_fragment_after_sign_out_reruns_the_whole_page(
    monkeypatch: pytest.MonkeyPatch, reruns: list[str]
) -> None:
    monkeypatch.setattr(ui.frame, "current_actor", lambda engine: Actor.anonymous())
    monkeypatch.setenv("OUTCOMES_PUBLIC_READ", "false")
    recheck_frame(_frame())
    assert reruns == ["app"]


def test_fragment_of_an_unchanged_session_goes_on(
    monkeypatch: pytest.MonkeyPatch, reruns: list[str]
) -> None:
    monkeypatch.setattr(ui.frame, "current_actor", lambda engine: SIGNED_IN)
    monkeypatch.setenv("OUTCOMES_PUBLIC_READ", "false")
    recheck_frame(_frame())
    assert reruns == []
