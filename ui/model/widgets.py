"""Widgets of the Model page: backbone, size, cut, freezing and surgery (the head: ``head``)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.config.backbones import SPEED_SOURCE, get_backbone
from core.config.model import SURGERY_LAYERS, FreezeConfig, ModelConfig, SurgeryConfig
from core.model.weights import weights_available
from ui import common
from ui.model import facts

FREEZE_LABELS = {
    "backbone": "Freeze the whole backbone (train the head only; fastest)",
    "first_n": "Freeze the first N layers",
    "up_to": "Freeze up to a chosen layer",
    "last_n_trainable": "Train only the last N backbone layers",
    "all_but_last": "Train only the output layer",
    "none": "Train everything (slowest; needs many images)",
}
_SURGERY_KEY = "model.surgery_ops"


def backbone_picker(spec: ModelConfig) -> tuple[str, str]:
    """Shows the sortable backbone table and returns (backbone id, weights)."""
    rows = facts.backbone_rows()
    # Speeds stay numbers (they sort as numbers); a missing one is shown as the placeholder "—".
    speed = st.column_config.NumberColumn(format="%.1f", help=SPEED_SOURCE)
    # Four narrow columns by default: the table fits a phone without scrolling sideways.
    every = st.toggle("Show every column", value=False, key="model_all_columns")
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        height=260,
        key="model_backbones",
        placeholder="—",
        column_order=None if every else facts.COMPACT_COLUMNS,
        column_config={
            facts.CPU_SPEED_COLUMN: speed,
            facts.GPU_SPEED_COLUMN: speed,
            "Backbone": st.column_config.TextColumn(width=140),
            "Params (M)": st.column_config.NumberColumn("M params", width=60),
            "ImageNet top-1 (%)": st.column_config.NumberColumn("top-1 %", width=60),
            "Offline weights": st.column_config.TextColumn("offline", width=60),
        },
    )
    st.caption(
        "Click a column header to sort. Params are without the ImageNet classifier. "
        f"Speeds: {SPEED_SOURCE}; '—' where that table has no figure."
    )
    ids = [row["Backbone"] for row in rows]
    left, right = st.columns(2)
    backbone = left.selectbox(
        "Backbone",
        ids,
        index=ids.index(spec.backbone) if spec.backbone in ids else 0,
        key="model_backbone",
    )
    weights = right.radio(
        "Weights",
        ("imagenet", "none"),
        index=0 if spec.weights == "imagenet" else 1,
        horizontal=True,
        format_func={"imagenet": "Pretrained on ImageNet", "none": "Random (no pretraining)"}.get,
        key="model_weights",
    )
    if weights == "imagenet":
        show_weights_availability(str(backbone), right)
    return str(backbone), str(weights)


def show_weights_availability(backbone: str, where: Any = st) -> bool:
    """Says whether the backbone's ImageNet weights can be had; False when they cannot.

    A local file says nothing; a download that will happen on Start is a warning; weights that
    can be neither found nor downloaded are an error naming the file to provide.
    """
    availability = weights_available(backbone)
    if not availability.ok:
        where.error(common.escape_markdown(availability.message), icon=":material/cloud_off:")
    elif not availability.local:
        where.warning(
            common.escape_markdown(availability.message), icon=":material/cloud_download:"
        )
    return availability.ok


def size_picker(backbone: str, current: int | None) -> int:
    """Returns the chosen square input size (fixed for some backbones)."""
    info = get_backbone(backbone)
    if info.fixed_size:
        st.caption(f"{backbone} only accepts {info.default_size}×{info.default_size} images.")
        return info.default_size
    value = current if current and current >= info.min_size else info.default_size
    size = st.number_input(
        f"Input size (pixels; default {info.default_size}, at least {info.min_size})",
        min_value=info.min_size,
        max_value=1024,
        value=value,
        step=8,
        key=f"model_size_{backbone}",
        help="Smaller inputs train faster and use less memory; the default matches pretraining.",
    )
    return int(size)


def cut_picker(backbone: str, size: int, current: str | None) -> str:
    """Lists the layers (output shapes, recommended ones marked) and returns the chosen cut."""
    layers = facts.layer_rows(backbone, size)
    default = facts.default_cut_name(backbone, size)
    names = [row["name"] for row in layers]
    by_name = {row["name"]: row for row in layers}
    only_recommended = st.toggle("Show recommended cut points only", value=True, key="model_rec")
    options = [n for n in names if by_name[n]["recommended"] or n == default]
    if not only_recommended or not options:
        options = names
    chosen = current if current in options else default
    cut = st.selectbox(
        "Cut the backbone after layer",
        options,
        index=options.index(chosen) if chosen in options else len(options) - 1,
        format_func=lambda n: (
            f"{n}  ·  {by_name[n]['shape']}"
            + ("  ★ recommended" if by_name[n]["recommended"] else "")
            + ("  (default)" if n == default else "")
        ),
        key=f"model_cut_{backbone}_{size}",
        help="★ marks the suggested cut points, one per resolution stage:\n\n"
        + "\n".join(f"- `{n}`: {by_name[n]['reason']}" for n in names if by_name[n]["reason"]),
    )
    row, total = by_name[str(cut)], max(by_name[names[-1]]["params_below"], 1)
    if row["reason"]:
        st.caption(f"★ Recommended. {row['reason']}")
    st.caption(
        f"Output {row['shape']}; keeps {row['params_below'] / 1e6:.2f} M of "
        f"{total / 1e6:.2f} M backbone parameters ({100 * row['params_below'] / total:.0f} %). "
        "An earlier cut gives bigger, more generic feature maps and a faster backbone."
    )
    return str(cut)


def freeze_fields(current: FreezeConfig, layer_names: list[str]) -> FreezeConfig:
    """Freeze policy fields (inside the page's form); returns a FreezeConfig."""
    st.markdown("**Freezing** — which pretrained weights stay fixed")
    policies = list(FREEZE_LABELS)
    policy = st.selectbox(
        "Policy",
        policies,
        index=policies.index(current.policy),
        format_func=FREEZE_LABELS.__getitem__,
    )
    cols = st.columns(2)
    n = int(cols[0].number_input("N (for the 'N layers' policies)", 0, 2000, current.n))
    last = len(layer_names) - 1 if layer_names else None
    layer = cols[1].selectbox(
        "Layer (for 'up to a layer')",
        layer_names,
        index=layer_names.index(current.layer) if current.layer in layer_names else last,
    )
    return FreezeConfig(
        policy=str(policy), n=n, layer=str(layer) if policy == "up_to" and layer else None
    )


def surgery_ops() -> tuple[SurgeryConfig, ...]:
    """The surgery steps added so far in this session."""
    return tuple(st.session_state.get(_SURGERY_KEY, ()))


def set_surgery_ops(ops: tuple[SurgeryConfig, ...]) -> None:
    """Replaces the surgery steps (a re-run loads its model's own steps)."""
    st.session_state[_SURGERY_KEY] = list(ops)


def surgery_editor(layer_names: list[str]) -> None:
    """A small form that adds a replace/insert step; the steps are listed with a clear button."""
    ops = list(surgery_ops())
    for op in ops:
        target = op.first if op.action == "insert_after" else f"{op.first} … {op.last_layer}"
        st.markdown(f"- {op.action.replace('_', ' ')} `{target}` → **{op.layer_type}**")
    if ops and st.button("Remove all surgery steps", key="model_surgery_clear"):
        st.session_state[_SURGERY_KEY] = []
        st.rerun()
    with st.form("model_surgery_form"):
        cols = st.columns(3)
        action = cols[0].selectbox(
            "Action", ("insert_after", "replace"), format_func=lambda a: a.replace("_", " ")
        )
        first = cols[1].selectbox("Layer (first)", layer_names)
        last = cols[2].selectbox("Last layer (replace only)", ["(same)", *layer_names])
        new_cols = st.columns(4)
        layer_type = new_cols[0].selectbox("New layer", SURGERY_LAYERS)
        filters = int(new_cols[1].number_input("Filters", 1, 4096, 64))
        kernel = int(new_cols[2].number_input("Kernel", 1, 15, 3))
        rate = float(new_cols[3].slider("Dropout rate", 0.0, 0.9, 0.5, 0.05))
        if st.form_submit_button("Add surgery step"):
            try:
                op = SurgeryConfig(
                    action=str(action),
                    first=str(first),
                    last=None if action == "insert_after" or last == "(same)" else str(last),
                    layer_type=str(layer_type),
                    filters=filters,
                    kernel_size=kernel,
                    rate=rate,
                )
            except ValueError as error:
                st.error(str(error))
                return
            st.session_state[_SURGERY_KEY] = [*ops, op]
            st.rerun()
