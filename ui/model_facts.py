"""Read-only model facts for the Model page, cached across reruns and sessions.

Listing a backbone's layers or counting a model's parameters builds a Keras model, which takes
seconds; the results (plain lists and dicts, never a model) are cached with ``st.cache_data``.
Counts do not depend on the weights, so they are computed with ``weights="none"`` (no weights
file read, and no download).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

# Speed columns are labelled with their source: published figures, not measured here.
CPU_SPEED_COLUMN = "CPU ms/step (Keras docs)"
GPU_SPEED_COLUMN = "GPU ms/step (Keras docs)"


@st.cache_data(show_spinner=False)
def backbone_rows() -> list[dict[str, Any]]:
    """One row per backbone for the picker table (params, sizes, top-1, speed, offline weights).

    Speeds are the Keras Applications table's "Time (ms) per inference step" (None where it
    gives none). Backbones whose weights are available offline come first, then the smallest.
    """
    from core.model.backbones import has_offline_weights, list_backbones

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


@st.cache_data(show_spinner=False, max_entries=32)
def layer_rows(backbone_id: str, input_size: int) -> list[dict[str, Any]]:
    """The layers a backbone can be cut at, with output shapes (builds it once, no weights)."""
    from core.model.cuts import list_layers

    rows = []
    for layer in list_layers(backbone_id, input_size):
        shape = [dim for dim in layer.output_shape if dim is not None]
        rows.append(
            {
                "name": layer.name,
                "type": layer.type,
                "shape": "×".join(str(dim) for dim in shape),
                "params_below": int(layer.params_below),
                "position": int(layer.position),
                "recommended": bool(layer.recommended),
            }
        )
    return rows


@st.cache_data(show_spinner=False, max_entries=32)
def default_cut_name(backbone_id: str, input_size: int) -> str:
    """The layer the model is cut at when the user picks none."""
    from core.model.cuts import default_cut

    cut = default_cut(backbone_id, input_size)
    return str(getattr(cut, "name", cut))


@st.cache_data(show_spinner=False, max_entries=16)
def model_summary(spec_json: str, num_classes: int) -> dict[str, Any]:
    """Builds the model once (weights "none") and returns its layer table and counts.

    Args:
        spec_json: ``ModelSpec.to_json()`` (a hashable cache key).
        num_classes: Number of classes of the output layer.

    Returns:
        ``{"rows": summary rows, "counts": {"total", "trainable", "non_trainable"}}``.
    """
    from dataclasses import replace

    from core.model.builder import build_model
    from core.model.spec import ModelSpec
    from core.model.summary import count_params, summary_rows

    spec = replace(ModelSpec.from_json(spec_json), weights="none")
    built = build_model(spec, num_classes)
    facts = {"rows": summary_rows(built.model), "counts": count_params(built.model)}
    # No keras.backend.clear_session() here: a training job may be running in this process.
    del built
    return facts


@st.cache_data(show_spinner=False, max_entries=16)
def python_code(spec_json: str, num_classes: int) -> str:
    """The Keras code that builds the same model (``core.model.codegen``)."""
    from core.model.codegen import generate_code
    from core.model.spec import ModelSpec

    return generate_code(ModelSpec.from_json(spec_json), num_classes)
