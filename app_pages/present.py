"""Presentation: one run on one page (big numbers, confusion matrix, examples, a photo to try).

Made for the read-only link a presenter sends (``/present?view=...&run=...``) and for a phone.
"""

from __future__ import annotations

import streamlit as st

from ui import common, present, run_picker

common.workspace_or_stop()
run_dir = run_picker.pick_finished_run("present_run")
if run_dir is None:
    st.stop()
found = present.evaluation(run_dir)
if found is None:
    st.stop()
job, result = found
present.show_title(run_dir, result)
present.show_numbers(result)
present.show_confusion(result)
present.show_examples(job)
present.show_try_it(run_dir)
st.divider()
common.page_link("evaluate", label="The full evaluation: per-class scores and every mistake")
