"""Model: backbone, input size, cut point, head, freezing and surgery; summary and code."""

from __future__ import annotations

import streamlit as st

from ui import choices, common, run_picker, shared_run
from ui.model import advisor, facts, head, summary, widgets

access = common.workspace_or_stop()
common.page_header(
    "2. Model",
    "Reuse a network pretrained on ImageNet as a feature extractor, cut it where you like, and "
    "put a small classifier (the head) on top. The defaults work well for most datasets.",
)
if not access.is_owner:  # a read-only link: a run's model and its model card, no choices
    run_dir = run_picker.pick_finished_run("model_shared_run")
    if run_dir is not None:
        shared_run.show_run_model(run_dir)
    st.stop()
num_classes = summary.class_count()

spec = choices.get_model_spec()
try:
    with st.container(border=True):
        st.subheader("Backbone")
        backbone, weights = widgets.backbone_picker(spec)
        same = backbone == spec.backbone
        size = widgets.size_picker(backbone, spec.input_size if same else None)
    with st.container(border=True):
        st.subheader("Cut point")
        layer_names = facts.layer_names(backbone, size)  # a worker lists them once
        cut = widgets.cut_picker(backbone, size, spec.cut_layer if same else None)
        advisor.section(backbone, size, weights, cut)
    with st.expander("Layer surgery (advanced)"):
        st.caption("Replace a run of backbone layers by one new layer, or insert one.")
        widgets.surgery_editor(facts.layer_names(backbone, size, up_to=cut))
    with st.container(border=True):
        st.subheader("Head and freezing")
        conv_count, dense_count = head.head_counts(spec.head)
        with st.form("model_head_form", border=False):
            head_spec = head.head_fields(spec.head, conv_count, dense_count)
            freeze = widgets.freeze_fields(spec.freeze, layer_names)
            pressed = st.form_submit_button(
                "Use this model", type="primary", icon=":material/check:"
            )
except ValueError as error:
    common.show_error(error)
    st.stop()

if pressed:
    summary.confirm(
        spec,
        num_classes,
        backbone=backbone,
        weights=weights,
        input_size=size,
        cut_layer=cut,
        surgery=widgets.surgery_ops(),
        head=head_spec,
        freeze=freeze,
    )
else:
    summary.confirm_pending()

if choices.model_confirmed():
    try:
        summary.show_summary(num_classes)
    except Exception as error:  # shown as a plain sentence
        common.show_error(error, "summarizing the model")
    common.page_link("train", label="Next: train", icon=":material/arrow_forward:")
else:
    st.info("Press **Use this model** to check the model and see its summary.")
