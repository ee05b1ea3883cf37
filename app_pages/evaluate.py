"""Evaluate: honest metrics of a finished run on images it never trained on, and its analyses.

The owner's visit starts the run's evaluation (a job) when it has none; a read-only link sees
the owner's newest evaluation in full (per-class table, clickable confusion matrix, mistakes,
Grad-CAM, the analyses' results) and starts nothing.
"""

from __future__ import annotations

import streamlit as st

from ui import common, run_picker
from ui.evaluate import analyses, label_fixes, results

access = common.workspace_or_stop()
common.page_header(
    "4. Evaluate",
    "How good is the model really? Measured on held-out images that training never saw.",
)
run_dir = run_picker.pick_finished_run("eval_run")
if run_dir is None:
    st.stop()
try:  # evaluated by a worker process; this page shows its files
    if access.is_owner:
        job = results.evaluation_job(run_dir)
        result = results.show_job(run_dir, job) if job is not None else None
    else:  # evaluating writes into the run: a viewer sees the owner's evaluation, if any
        job = results.finished_evaluation(run_dir)
        result = results.load_result(job) if job is not None else None
except Exception as error:  # a damaged file, a full disk: a sentence, not a traceback
    common.show_error(error, "evaluating the run")
    st.stop()
if not access.is_owner and result is None:
    results.show_stored_evaluation(run_dir)
    st.stop()
if job is None or result is None:
    if job is not None and job.state in ("failed", "interrupted"):  # e.g. a moved dataset
        common.page_link("data", label="Check the dataset on the Data page")
    st.stop()
results.show_metrics(result)
results.show_gallery(result)
results.show_gradcam(job)
try:  # each analysis is a job of its own; a damaged result file must not end the page
    label_fixes.show_label_issues(run_dir)
    analyses.show_learning_curve(run_dir)
    analyses.show_calibration(run_dir)
except Exception as error:
    common.show_error(error, "showing the analyses")
common.page_link("predict", label="Next: try the model on your own images")
common.page_link("runs", label="Export or download this model (Runs page)")
