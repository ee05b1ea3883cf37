"""The Model page's check and summary: build the chosen model once, then show what it holds."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import streamlit as st

from core.config.model import ModelConfig
from core.model.weights import weights_available
from ui import choices, common
from ui.model import facts

ASSUMED_CLASSES = 2  # until a dataset is loaded
_PENDING_KEY = "model.pending_confirm"  # (model, classes) whose check a worker is building


def class_count() -> int:
    """Classes of the loaded dataset; says the summary assumes 2 when none is loaded yet."""
    data = choices.get_data()
    if data is not None:
        return len(data.report.classes)
    common.require("data")
    st.caption(f"Until a dataset is loaded, the summary assumes {ASSUMED_CLASSES} classes.")
    return ASSUMED_CLASSES


def confirm(spec: ModelConfig, num_classes: int, **fields: Any) -> None:
    """Builds ``spec`` with ``fields`` once to check it, then makes it the session's model.

    A worker builds it (this process never imports TensorFlow): until its answer is stored,
    the page shows the job's progress and stops; the rerun after that finishes this
    confirmation (``confirm_pending``).

    Args:
        spec: The session's current model.
        num_classes: Classes of the output layer.
        **fields: ``ModelConfig`` fields chosen on the page (backbone, cut_layer, head...).
    """
    try:
        chosen = replace(spec, **fields)
    except Exception as error:
        common.show_error(error, "building the model")
        return
    _confirm(chosen, num_classes, retry=True)


def confirm_pending() -> None:
    """Finishes a "Use this model" whose model a worker was still building."""
    pending = st.session_state.get(_PENDING_KEY)
    if pending is not None:
        chosen, num_classes = pending
        _confirm(chosen, num_classes, retry=False)


def _confirm(chosen: ModelConfig, num_classes: int, *, retry: bool) -> None:
    """Checks ``chosen`` (its summary, built by a worker) and saves it for training."""
    if chosen.weights == "imagenet" and not _weights_ok(chosen.backbone):
        return  # refused before Start, with the file to provide (not after a failed run)
    st.session_state[_PENDING_KEY] = (chosen, num_classes)
    try:
        facts.model_summary(chosen.to_json(), num_classes, retry=retry)
    except Exception as error:
        st.session_state.pop(_PENDING_KEY, None)
        common.show_error(error, "building the model")
        return
    st.session_state.pop(_PENDING_KEY, None)
    choices.set_model_spec(chosen)
    st.toast("Model saved for training.")


def _weights_ok(backbone: str) -> bool:
    """False (with an error) when the ImageNet weights can be neither found nor downloaded."""
    availability = weights_available(backbone)
    if not availability.ok:
        st.error(
            "Not saved: " + common.escape_markdown(availability.message), icon=":material/block:"
        )
    return availability.ok


def show_summary(num_classes: int) -> None:
    """The confirmed model's counts, layer table and Python code (with a download)."""
    spec = choices.get_model_spec()
    summary = facts.model_summary(spec.to_json(), num_classes)
    counts = summary["counts"]
    st.subheader("Summary")
    cols = st.columns(3)
    cols[0].metric("Parameters", f"{counts['total']:,}")
    cols[1].metric("Trainable", f"{counts['trainable']:,}")
    cols[2].metric("Frozen (non-trainable)", f"{counts['non_trainable']:,}")
    st.dataframe(summary["rows"], hide_index=True, width="stretch", height=320, key="model_summary")
    with st.expander("Show as Python code"):
        code = facts.python_code(spec.to_json(), num_classes)
        st.code(code, language="python")
        st.download_button(
            "Download model.py",
            code,
            file_name="model.py",
            mime="text/x-python",
            key="model_code_download",
        )
