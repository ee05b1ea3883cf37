"""Runs: every run of this workspace; compare several, re-run, delete, download and export."""

from __future__ import annotations

import streamlit as st

from ui import common
from ui.runs import overview, share

common.workspace_or_stop()
common.page_header(
    "Runs",
    "All runs of this workspace: compare them, run one again, download or delete it.",
)
records, damaged = overview.load_records()
share.show_share(records)
if not records and not damaged:
    st.info("No runs yet in this workspace.", icon=":material/info:")
    common.page_link("train", label="Go to Train")
    st.stop()
overview.show_table(records, damaged)
if not records:
    st.stop()
try:
    overview.show_comparison(records)
    st.divider()
    overview.show_actions(records)
except Exception as error:
    common.show_error(error, "working on the run")
