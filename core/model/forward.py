"""Bounded-batch forward passes: the one place where many images meet a model.

Every forward pass over more than one input (the app's predictions, evaluation, calibration,
the export parity check of every format, batch prediction, the light predictor, a run's final
metrics) goes through ``forward_in_batches``, so the inputs decoded and the activations alive at
any moment never exceed one batch of ``FORWARD_BATCH`` images, whatever the count.

Why 8: MobileNetV2 at 224 on 2 CPU cores (``bench/job_memory.py``), on top of TensorFlow and the
model (~760 MB): a traced call on 32 images adds ~270 MB, on 8 ~70 MB, at the same speed per
image; an EAGER call of a reloaded functional model on 32 images added 2.7 GB (Keras keeps every
intermediate tensor of the call alive), on 8 still ~800 MB. So a Keras model is always called
through a traced graph function (``traced_forward``), never eagerly, and 8 images at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

FORWARD_BATCH = 8


def forward_in_batches(
    forward: Callable[[np.ndarray], Any],
    items: np.ndarray | Sequence[Any],
    *,
    decode: Callable[[Sequence[Any]], np.ndarray] | None = None,
    batch_size: int = FORWARD_BATCH,
) -> np.ndarray:
    """Runs ``forward`` on consecutive slices of ``items`` and stacks the outputs.

    Args:
        forward: one batch in (float32, e.g. images (B, H, W, 3)), (B, ...) out (a tensor or
            an array).
        items: decoded inputs (N, ...), or sources (paths, bytes) when ``decode`` is given.
        decode: turns a slice of sources into a batch; only one batch is decoded at a time.
        batch_size: inputs per call (at least 1).

    Returns:
        The outputs of all batches, concatenated along the first axis (float32).

    Raises:
        ValueError: ``batch_size`` is below 1, or ``items`` is empty (callers answer an empty
            request themselves: the output's shape is unknown without a call).
    """
    if batch_size < 1:
        raise ValueError(f"The batch size must be at least 1, got {batch_size}.")
    if len(items) == 0:
        raise ValueError("There is nothing to run the model on (no inputs were given).")
    outputs = []
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        batch = decode(list(chunk)) if decode else np.asarray(chunk, dtype=np.float32)
        outputs.append(np.asarray(forward(batch), dtype=np.float32))
    return np.concatenate(outputs, axis=0)


def traced_forward(model: Any, input_size: int) -> Callable[[np.ndarray], Any]:
    """``model(x, training=False)`` as a graph function traced once for any batch size.

    A traced call frees each activation as soon as the next layer has used it; an eager call
    of a Keras functional model keeps them all until the call returns.

    Args:
        model: a Keras model taking (N, input_size, input_size, 3) float32 images.
        input_size: the side of its square input.
    """
    import tensorflow as tf

    spec = tf.TensorSpec((None, input_size, input_size, 3), tf.float32)
    return tf.function(lambda x: model(x, training=False), input_signature=[spec])
