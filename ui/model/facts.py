"""Read-only model facts for the Model and Train pages, answered by workers and stored.

Listing a backbone's layers or counting a model's parameters builds a Keras model; the web
process never imports TensorFlow, so a short ``model_facts`` job does it once per question
(``core.model.facts`` in the worker) and every visitor reads the stored answer (plain lists and
dicts) afterwards (``ui.jobs.stored_answer``). Until it is there, the page shows the job's
progress and stops; the poll reruns it when the answer is stored.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from core.config.backbones import list_backbones
from core.config.model import ModelConfig
from core.model.codegen import generate_code
from core.model.cuts import LayerInfo
from core.model.freezing import unfreeze_candidates
from core.model.weights import has_offline_weights
from core.store.answers import MODEL_FACTS, layers_question
from ui import jobs

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


def _layers_answer(backbone_id: str, input_size: int) -> dict[str, Any]:
    """The backbone's layers and default cut, listed by a worker once (``model_facts``)."""
    params = layers_question(backbone_id, input_size)
    return jobs.stored_answer(
        MODEL_FACTS, params, "Listing the layers of the backbone", "facts_layers"
    )


def layer_rows(backbone_id: str, input_size: int) -> list[dict[str, Any]]:
    """The layers a backbone can be cut at, with output shapes (from a worker, stored)."""
    return [
        _layer_row(LayerInfo(**row)) for row in _layers_answer(backbone_id, input_size)["layers"]
    ]


def default_cut_name(backbone_id: str, input_size: int) -> str:
    """The layer the model is cut at when the user picks none."""
    return str(_layers_answer(backbone_id, input_size)["default_cut"])


def layer_names(backbone_id: str, input_size: int, up_to: str | None = None) -> list[str]:
    """The backbone's layer names in order, up to and including ``up_to`` when given."""
    names = [row["name"] for row in layer_rows(backbone_id, input_size)]
    return names[: names.index(up_to) + 1] if up_to in names else names


def unfreeze_rows(spec_json: str) -> list[dict[str, Any]] | None:
    """The layers a fine-tune phase of this model can unfreeze from, in the order to offer them.

    Made from the backbone's listed layers (the Model page's answer, usually there already);
    when they are not listed yet a worker is asked, its progress shown, and None returned: the
    Train page goes on without waiting for a field most runs never use.

    Args:
        spec_json: ``ModelConfig.to_json()``.

    Returns:
        Rows like ``layer_rows``' (see ``core.model.freezing.unfreeze_candidates``), or None.
    """
    spec = ModelConfig.from_json(spec_json)
    params = layers_question(spec.backbone, spec.resolved_input_size)
    answer = jobs.asked_answer(
        MODEL_FACTS, params, "Listing the layers of the backbone", "facts_unfreeze"
    )
    if answer is None:
        return None
    layers = [LayerInfo(**row) for row in answer["layers"]]
    # To unfreeze from, every block boundary is a sound choice (not just the few suggested cuts).
    return [
        {**_layer_row(layer), "recommended": layer.block_end}
        for layer in unfreeze_candidates(layers, spec.cut_layer, spec.surgery)
    ]


def model_summary(spec_json: str, num_classes: int, *, retry: bool = False) -> dict[str, Any]:
    """The model's layer table and counts, built by a worker once (weights "none"; stored).

    Args:
        spec_json: ``ModelConfig.to_json()``.
        num_classes: Number of classes of the output layer.
        retry: build it again when the last attempt failed (the user pressed the button).

    Returns:
        ``{"rows": summary rows, "counts": {"total", "trainable", "non_trainable"}}``.

    Raises:
        StudioError: the model cannot be built (a bad cut, surgery or head), in a sentence.
    """
    params = {"what": "summary", "spec": json.loads(spec_json), "num_classes": int(num_classes)}
    return jobs.stored_answer(
        "model_facts", params, "Building the model to check it", "facts_summary", retry=retry
    )


@st.cache_data(show_spinner=False, max_entries=16)
def python_code(spec_json: str, num_classes: int) -> str:
    """The Keras code that builds the same model (``core.model.codegen``)."""
    return generate_code(ModelConfig.from_json(spec_json), num_classes)
