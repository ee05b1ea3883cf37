"""Model: backbone, input size, cut point, head, freezing and surgery; summary and code."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from ui import common, head_widgets, model_facts, model_widgets, session

common.workspace_or_stop()
common.page_header(
    "2. Model",
    "Reuse a network pretrained on ImageNet as a feature extractor, cut it where you like, and "
    "put a small classifier (the head) on top. The defaults work well for most datasets.",
)

data = session.get_data()
num_classes = len(data.report.classes) if data else 2
if data is None:
    common.require("data")
    st.caption("Until a dataset is loaded, the summary assumes 2 classes.")

spec = session.get_model_spec()
try:
    with st.container(border=True):
        st.subheader("Backbone")
        backbone, weights = model_widgets.backbone_picker(spec)
        same = backbone == spec.backbone
        size = model_widgets.size_picker(backbone, spec.input_size if same else None)
    with st.container(border=True):
        st.subheader("Cut point")
        with st.spinner("Listing the layers of the backbone..."):
            layer_names = [row["name"] for row in model_facts.layer_rows(backbone, size)]
        cut = model_widgets.cut_picker(backbone, size, spec.cut_layer if same else None)
    with st.expander("Layer surgery (advanced)"):
        st.caption("Replace a run of backbone layers by one new layer, or insert one.")
        model_widgets.surgery_editor(layer_names[: layer_names.index(cut) + 1])
    with st.container(border=True):
        st.subheader("Head and freezing")
        conv_count, dense_count = head_widgets.head_counts(spec.head)
        with st.form("model_head_form", border=False):
            head = head_widgets.head_fields(spec.head, conv_count, dense_count)
            freeze = model_widgets.freeze_fields(spec.freeze, layer_names)
            pressed = st.form_submit_button(
                "Use this model", type="primary", icon=":material/check:"
            )
except ValueError as error:
    common.show_error(error)
    st.stop()

if pressed:
    try:
        chosen = replace(
            spec,
            backbone=backbone,
            weights=weights,
            input_size=size,
            cut_layer=cut,
            surgery=model_widgets.surgery_ops(),
            head=head,
            freeze=freeze,
        )
        with st.status("Building the model to check it...", expanded=False) as status:
            model_facts.model_summary(chosen.to_json(), num_classes)
            status.update(label="Model checked", state="complete")
    except Exception as error:
        common.show_error(error, "building the model")
    else:
        session.set_model_spec(chosen)
        st.toast("Model saved for training.")


def show_summary(num_classes: int) -> None:
    """The confirmed model's counts, layer table and Python code (with a download)."""
    spec = session.get_model_spec()
    facts = model_facts.model_summary(spec.to_json(), num_classes)
    counts = facts["counts"]
    st.subheader("Summary")
    cols = st.columns(3)
    cols[0].metric("Parameters", f"{counts['total']:,}")
    cols[1].metric("Trainable", f"{counts['trainable']:,}")
    cols[2].metric("Frozen (non-trainable)", f"{counts['non_trainable']:,}")
    st.dataframe(facts["rows"], hide_index=True, width="stretch", height=320, key="model_summary")
    with st.expander("Show as Python code"):
        code = model_facts.python_code(spec.to_json(), num_classes)
        st.code(code, language="python")
        st.download_button(
            "Download model.py",
            code,
            file_name="model.py",
            mime="text/x-python",
            key="model_code_download",
        )


if session.model_confirmed():
    try:
        show_summary(num_classes)
    except Exception as error:  # shown as a plain sentence
        common.show_error(error, "summarizing the model")
    common.page_link("train", label="Next: train", icon=":material/arrow_forward:")
else:
    st.info("Press **Use this model** to check the model and see its summary.")
