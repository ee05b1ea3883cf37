"""Predict: classify your own images with a run, an uploaded ``.keras`` file, or ImageNet."""

from __future__ import annotations

import streamlit as st

from ui import common
from ui.predict import answers, models

common.workspace_or_stop()
common.page_header(
    "5. Predict",
    "Try a model on your own photos: one or many images, the camera, or a zip of images.",
)
source = st.radio("Model", models.SOURCES, horizontal=True, key="predict_source")
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
