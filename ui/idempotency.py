"""Idempotency keys of submitted forms: one key per form render cycle, held in session
state, so a double click, a rerun or a reconnect sends the same key and writes once."""

from __future__ import annotations

import uuid

import streamlit as st

from ui import state


def _keys() -> dict[str, str]:
    keys = st.session_state.get(state.SUBMISSIONS)
    if not isinstance(keys, dict):
        keys = {}
        st.session_state[state.SUBMISSIONS] = keys
    return keys


def submission_key(form: str) -> str:
    """The key of `form`'s current cycle: the same on every rerun until `rotate(form)`."""
    keys = _keys()
    if form not in keys:
        keys[form] = uuid.uuid4().hex
    return keys[form]


def rotate(form: str) -> str:
    """Start a new cycle for `form` (after its save landed): the next submit is new."""
    key = uuid.uuid4().hex
    _keys()[form] = key
    return key
