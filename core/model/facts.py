"""What the Model and Train pages show about a model, as plain JSON: computed in a worker.

Listing a backbone's layers or counting a model's parameters builds a Keras model, which needs
TensorFlow; the web process never imports it, so the ``model_facts`` job kind
(``core.jobs.kinds.model_facts``) calls these functions in a worker and stores the answer on
disk (``core.store.answers``). Counts do not depend on the weights, so models are built with
``weights="none"`` (no weights file read, no download).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from core.config.model import ModelConfig
from core.model.builder import build_model
from core.model.cuts import default_cut, list_layers
from core.model.summary import count_params, summary_rows


def layer_facts(backbone_id: str, input_size: int) -> dict[str, Any]:
    """The backbone's layers as cut points (``LayerInfo`` dicts) and its default cut."""
    layers = [layer.to_dict() for layer in list_layers(backbone_id, input_size)]
    return {"layers": layers, "default_cut": default_cut(backbone_id, input_size)}


def summary_facts(spec: ModelConfig, num_classes: int) -> dict[str, Any]:
    """The model's summary rows (``core.model.summary``) and its parameter counts.

    Args:
        spec: the model (built with weights "none" whatever ``spec.weights`` says).
        num_classes: classes of the output layer.

    Raises:
        StudioError: a bad cut, surgery or head, in a plain sentence.
    """
    built = build_model(replace(spec, weights="none"), num_classes)
    return {"rows": summary_rows(built.model), "counts": count_params(built.model)}
