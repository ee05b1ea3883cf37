"""Model summary as table rows for the UI, and exact parameter counts.

Counts follow ``model.summary()``: every weight counted once (shared layers too), trainable
weights are those in ``model.trainable_weights``; BatchNorm moving statistics are
non-trainable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from core.model.keras_graph import nodes_by_depth

if TYPE_CHECKING:
    import keras


def _size(weights: list[Any]) -> int:
    seen: dict[int, int] = {}
    for weight in weights:
        seen[id(weight)] = int(np.prod(weight.shape))
    return sum(seen.values())


def count_params(model: keras.Model) -> dict[str, int]:
    """Returns ``{"total", "trainable", "non_trainable"}`` exactly as Keras counts them."""
    trainable = _size(model.trainable_weights)
    non_trainable = _size(model.non_trainable_weights)
    return {
        "total": trainable + non_trainable,
        "trainable": trainable,
        "non_trainable": non_trainable,
    }


def _output_shapes(model: keras.Model) -> dict[int, list[int | None]]:
    """Output shape of each operation as called in ``model`` (a layer may be reused elsewhere)."""
    shapes: dict[int, list[int | None]] = {}
    for nodes in nodes_by_depth(model).values():
        for node in nodes:
            if node.operation is not None and node.outputs:
                shapes[id(node.operation)] = list(node.outputs[0].shape)
    return shapes


def summary_rows(model: keras.Model, expand_nested: bool = True) -> list[dict[str, Any]]:
    """One row per layer: name, type, output_shape, params, trainable, trainable_params.

    Args:
        model: Any functional Keras model.
        expand_nested: List the layers of nested models (e.g. the head) instead of one row.
    """
    import keras

    shapes = _output_shapes(model)
    rows: list[dict[str, Any]] = []
    for layer in model.layers:
        if expand_nested and isinstance(layer, keras.Model):
            rows.extend(row for row in summary_rows(layer, True) if row["type"] != "InputLayer")
            continue
        rows.append(
            {
                "name": layer.name,
                "type": type(layer).__name__,
                "output_shape": shapes.get(id(layer)),
                "params": _size(layer.weights),
                "trainable": bool(layer.trainable),
                "trainable_params": _size(layer.trainable_weights),
            }
        )
    return rows
