"""Data: choose where the images come from, check the report, split, duplicates, augmentation."""

from __future__ import annotations

import streamlit as st

from ui import choices, common
from ui.data import duplicates, sources, widgets

common.workspace_or_stop()
common.page_header(
    "1. Data",
    "Images sorted in one folder per class. The studio checks every file, splits them into "
    "training, validation and test sets, and shows what it found.",
)
with st.container(border=True):
    st.subheader("Source")
    sources.source_picker()

state = choices.get_data()
if state is None:
    st.info("No dataset loaded yet. The sample dataset is the quickest way to start.")
    st.stop()
widgets.show_report(state)
state = widgets.split_form(state)
with st.container(border=True):
    duplicates.section(state)
widgets.augmentation_section(state)
st.divider()
common.page_link("model", label="Next: choose a model", icon=":material/arrow_forward:")
