"""Read-only model facts for the Model and Train pages, cached across reruns and sessions.

Listing a backbone's layers or counting a model's parameters builds a Keras model, which takes
seconds; the results (plain lists and dicts, never a model) are cached with ``st.cache_data``.
Counts do not depend on the weights, so they are computed with ``weights="none"`` (no weights
file read, and no download).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from core.config.backbones import list_backbones
from core.config.model import ModelConfig
from core.model.builder import build_model
from core.model.codegen import generate_code
from core.model.cuts import LayerInfo, default_cut, list_layers
from core.model.freezing import unfreeze_candidates
from core.model.summary import count_params, summary_rows
from core.model.weights import has_offline_weights

# Speed columns are labelled with their source: published figures, not measured here.
CPU_SPEED_COLUMN = "CPU ms/step (Keras docs)"
GPU_SPEED_COLUMN = "GPU ms/step (Keras docs)"
# The columns the picker shows until "Show every column" is on (they fit a phone's width).
COMPACT_COLUMNS = ("Backbone", "Params (M)", "ImageNet top-1 (%)", "Offline weights")


@st.cache_data(show_spinner=False)
def backbone_rows() -> list[dict[str, Any]]:
    """One row per backbone for the picker table (params, sizes, top-1, speed, offline weights).

    Speeds are the Keras Applications table's "Time (ms) per inference step" (None where it
    gives none). Backbones whose weights are available offline come first, then the smallest.
    """
    rows = [
        {
            "Backbone": info.id,
            "Family": info.family,
            "Params (M)": round(info.params_no_top / 1e6, 1),
            "Default size": info.default_size,
            "Min size": info.min_size,
            "ImageNet top-1 (%)": info.imagenet_top1,
            CPU_SPEED_COLUMN: info.cpu_ms,
            GPU_SPEED_COLUMN: info.gpu_ms,
            "Offline weights": "yes" if has_offline_weights(info.id) else "no",
        }
        for info in list_backbones()
    ]
    return sorted(rows, key=lambda row: (row["Offline weights"] != "yes", row["Params (M)"]))


def _layer_row(layer: LayerInfo) -> dict[str, Any]:
    """One layer as a table row: its output shape as text ("12×12×96", no batch dimension)."""
    shape = [dim for dim in layer.output_shape if dim is not None]
    return {
        "name": layer.name,
        "type": layer.type,
        "shape": "×".join(str(dim) for dim in shape),
        "params_below": int(layer.params_below),
        "position": int(layer.position),
        "recommended": bool(layer.recommended),
        "reason": layer.reason or "",
    }


@st.cache_data(show_spinner=False, max_entries=32)
def layer_rows(backbone_id: str, input_size: int) -> list[dict[str, Any]]:
    """The layers a backbone can be cut at, with output shapes (builds it once, no weights)."""
    return [_layer_row(layer) for layer in list_layers(backbone_id, input_size)]


def layer_names(backbone_id: str, input_size: int, up_to: str | None = None) -> list[str]:
    """The backbone's layer names in order, up to and including ``up_to`` when given."""
    names = [row["name"] for row in layer_rows(backbone_id, input_size)]
    return names[: names.index(up_to) + 1] if up_to in names else names


@st.cache_data(show_spinner=False, max_entries=32)
def unfreeze_rows(spec_json: str) -> list[dict[str, Any]]:
    """The layers a fine-tune phase of this model can unfreeze from, in the order to offer them.

    Args:
        spec_json: ``ModelConfig.to_json()`` (a hashable cache key).

    Returns:
        Rows like ``layer_rows``' (see ``core.model.freezing.unfreeze_candidates``).
    """
    spec = ModelConfig.from_json(spec_json)
    layers = list_layers(spec.backbone, spec.resolved_input_size)
    # To unfreeze from, every block boundary is a sound choice (not just the few suggested cuts).
    return [
        {**_layer_row(layer), "recommended": layer.block_end}
        for layer in unfreeze_candidates(layers, spec.cut_layer, spec.surgery)
    ]


@st.cache_data(show_spinner=False, max_entries=32)
def default_cut_name(backbone_id: str, input_size: int) -> str:
    """The layer the model is cut at when the user picks none."""
    return default_cut(backbone_id, input_size)


@st.cache_data(show_spinner=False, max_entries=16)
def model_summary(spec_json: str, num_classes: int) -> dict[str, Any]:
    """Builds the model once (weights "none") and returns its layer table and counts.

    Args:
        spec_json: ``ModelConfig.to_json()`` (a hashable cache key).
        num_classes: Number of classes of the output layer.

    Returns:
        ``{"rows": summary rows, "counts": {"total", "trainable", "non_trainable"}}``.
    """
    from dataclasses import replace

    spec = replace(ModelConfig.from_json(spec_json), weights="none")
    built = build_model(spec, num_classes)
    facts = {"rows": summary_rows(built.model), "counts": count_params(built.model)}
    # No keras.backend.clear_session() here: a training job may be running in this process.
    del built
    return facts


@st.cache_data(show_spinner=False, max_entries=16)
def python_code(spec_json: str, num_classes: int) -> str:
    """The Keras code that builds the same model (``core.model.codegen``)."""
    return generate_code(ModelConfig.from_json(spec_json), num_classes)
