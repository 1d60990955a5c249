"""PI overview: the home page (being built)."""

import streamlit as st

from ui.frame import page_frame

frame = page_frame("overview")
st.title("PI overview")
