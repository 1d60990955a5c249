"""Plan page (being built)."""

import streamlit as st

from ui.frame import page_frame

frame = page_frame("plan")
st.title("Plan")
