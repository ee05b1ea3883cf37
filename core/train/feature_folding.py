"""Folding a head's parameter-free first layers (global pooling) into the feature cache.

A head that starts with global pooling gives the same result whether the pooling runs every
epoch or once on the cached features. Pooling each cached part as soon as it exists means the
head trains on (N, channels) arrays instead of (N, h, w, channels) ones (fast), and the large
cut outputs of all views are never in memory together (small).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def fold_head_prefix(head: Any) -> tuple[list[Any], Any]:
    """Splits a chain-shaped head into leading parameter-free layers and a trainable rest.

    A head that starts with global pooling (or Flatten) gives the same result whether the
    pooling runs every epoch or once on the cached features, so it is folded into the cache:
    the head then trains on (N, channels) arrays instead of (N, h, w, channels) ones, which
    is what makes training on cached features cheap. The rest reuses the head's own layer
    objects, so the full model sees the trained weights.

    Returns:
        ``(prefix_layers, trainable_head)``; ``([], head)`` when nothing can be folded.
    """
    import keras

    foldable = (
        keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D, keras.layers.Flatten,
    )  # fmt: skip
    layers = list(head.layers)
    if not layers or not isinstance(layers[0], keras.layers.InputLayer):
        return [], head
    try:  # only a simple chain (each layer fed by the previous one) can be split safely
        if any(layer.input is not layers[i].output for i, layer in enumerate(layers[1:])):
            return [], head
    except (AttributeError, ValueError):
        return [], head
    prefix = []
    for layer in layers[1:]:
        if not isinstance(layer, foldable) or layer.weights:
            break
        prefix.append(layer)
    if not prefix or len(prefix) == len(layers) - 1:
        return [], head
    inputs = keras.Input(shape=tuple(prefix[-1].output.shape[1:]), name="pooled_features")
    outputs = inputs
    for layer in layers[1 + len(prefix) :]:
        outputs = layer(outputs)
    return prefix, keras.Model(inputs, outputs, name="head_after_pooling")


def fold_features(features: np.ndarray, layers: list[Any], batch: int = 256) -> np.ndarray:
    """Applies the folded head layers (``fold_head_prefix``) to ``features`` in chunks.

    Reading a memory-mapped float16 array chunk by chunk keeps only one chunk of the large
    (N, h, w, c) maps in memory; the result (e.g. (N, c) after pooling) is float32.
    """
    import keras

    parts = []
    for start in range(0, len(features), batch):
        values: Any = np.asarray(features[start : start + batch], dtype=np.float32)
        for layer in layers:
            values = layer(values)
        parts.append(np.asarray(keras.ops.convert_to_numpy(values), dtype=np.float32))
    return np.concatenate(parts) if parts else np.asarray(features, dtype=np.float32)
