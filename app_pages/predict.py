"""Predict: classify your own images with a run, an uploaded ``.keras`` file, or ImageNet.

A read-only link may predict too (the workspace's runs only): its photos are classified in
memory and never stored; a zip of images, which runs as a job, is the owner's.
"""

from __future__ import annotations

import streamlit as st

from ui import common
from ui.predict import answers, models

access = common.workspace_or_stop()
common.page_header(
    "5. Predict",
    "Try a model on your own photos: one or many images, the camera, or a zip of images.",
)
if access.is_owner:
    source = st.radio("Model", models.SOURCES, horizontal=True, key="predict_source")
else:
    source = models.SOURCES[0]
    st.caption("Your photos are classified in memory and never stored.")
try:
    choice = models.choose_model(str(source))
except Exception as error:
    common.show_error(error, "loading the model")
    st.stop()
if choice is None:
    st.stop()
models.describe(choice)
k, threshold = models.answer_options(choice)
try:
    answers.input_tabs(choice, k, threshold)
except Exception as error:
    common.show_error(error, "predicting")
