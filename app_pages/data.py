"""Data: choose where the images come from, check the report, split, duplicates, augmentation."""

from __future__ import annotations

import streamlit as st

from ui import choices, common, run_picker, shared_run
from ui.data import duplicates, sources, widgets

access = common.workspace_or_stop()
common.page_header(
    "1. Data",
    "Images sorted in one folder per class. The studio checks every file, splits them into "
    "training, validation and test sets, and shows what it found.",
)
if not access.is_owner:  # a read-only link: the data a run learned from, nothing to load
    run_dir = run_picker.pick_finished_run("data_shared_run")
    if run_dir is not None:
        shared_run.show_run_dataset(run_dir)
    st.stop()
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
