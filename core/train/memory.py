"""Memory guard: estimate a run's peak memory and refuse or shrink the batch before it starts.

Streamlit Community Cloud gives an app about 2.7 GB for everything, so one visitor's training
must not take the others down with an out-of-memory kill. The estimate is deliberately simple
and on the safe side: weights, optimizer slots, activations per image times the batch size,
the input pipeline's prefetched batches, and the cached feature arrays. "Memory left" is the
budget minus what this process already uses (other jobs and the TensorFlow runtime included).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import psutil

from core.errors import TrainingError

MB = 1024 * 1024
BYTES_PER_FLOAT = 4
PREFETCHED_BATCHES = 3  # batches in flight in tf.data (prefetch + map buffers)
MIN_BATCH_SIZE = 4


@dataclass(frozen=True)
class ModelFootprint:
    """Sizes measured on the built model (all counts are float32 numbers)."""

    params: int
    trainable_params: int
    activation_floats: int  # sum of every layer output of the extractor, for one image
    feature_floats: int  # size of the cut output (one cached feature vector/map)
    input_size: int


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated peak memory of a run, by part, in megabytes."""

    batch_size: int
    parts_mb: dict[str, float] = field(default_factory=dict)

    @property
    def total_mb(self) -> float:
        """Sum of all parts."""
        return sum(self.parts_mb.values())


def _layer_output_floats(layer: Any) -> int:
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return 0
    dims = [d for d in shape[1:] if d is not None]
    return int(math.prod(dims)) if dims else 0


def activation_floats(model: Any) -> int:
    """Sum of the output sizes of all layers of ``model`` (nested models included)."""
    total = 0
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            total += activation_floats(layer)
        else:
            total += _layer_output_floats(layer)
    return total


def measure_footprint(built: Any) -> ModelFootprint:
    """Measures a ``BuiltModel`` (model engine) for the estimate."""
    extractor = built.feature_extractor
    feature_shape = [d for d in extractor.output.shape[1:] if d is not None]
    return ModelFootprint(
        params=int(built.model.count_params()),
        trainable_params=int(sum(math.prod(w.shape) for w in built.model.trainable_weights)),
        activation_floats=activation_floats(extractor),
        feature_floats=int(math.prod(feature_shape)) if feature_shape else 0,
        input_size=int(extractor.input.shape[1]),
    )


def estimate_memory(
    footprint: ModelFootprint,
    batch_size: int,
    *,
    cached_images: int,
    backprop_backbone: bool,
    cached_floats: int | None = None,
    staging_images: int = 0,
) -> MemoryEstimate:
    """Estimates the peak memory of training with ``batch_size``.

    Args:
        footprint: sizes of the model.
        batch_size: images per step.
        cached_images: number of feature vectors kept in memory (0 without caching).
        backprop_backbone: True when gradients flow through the backbone (fine-tuning), which
            keeps every activation of the forward pass alive for the backward pass.
        cached_floats: floats kept per cached image when less than the cut output (the head's
            global pooling is applied to the features as they are extracted: (h, w, c) -> c).
        staging_images: images of the largest part (split or view) held as full float16 cut
            outputs before pooling (``core.train.features``).
    """
    activation_factor = 2.0 if backprop_backbone else 1.0
    image_floats = footprint.input_size * footprint.input_size * 3
    parts = {
        "weights": footprint.params * BYTES_PER_FLOAT / MB,
        # gradient + two Adam slots per trainable weight
        "optimizer": footprint.trainable_params * BYTES_PER_FLOAT * 3 / MB,
        "activations": batch_size
        * footprint.activation_floats
        * BYTES_PER_FLOAT
        * activation_factor
        / MB,
        "input batches": PREFETCHED_BATCHES * batch_size * image_floats * BYTES_PER_FLOAT / MB,
        "feature cache": (
            cached_images * (cached_floats or footprint.feature_floats) * BYTES_PER_FLOAT
            + staging_images * footprint.feature_floats * 2  # float16
        )
        / MB,
    }
    return MemoryEstimate(
        batch_size=batch_size, parts_mb={k: round(v, 1) for k, v in parts.items()}
    )


def process_memory_mb() -> float:
    """Resident memory of this process in megabytes."""
    return psutil.Process().memory_info().rss / MB


def fit_batch_size(
    footprint: ModelFootprint,
    batch_size: int,
    *,
    budget_mb: float,
    used_mb: float,
    cached_images: int,
    backprop_backbone: bool,
    cached_floats: int | None = None,
    staging_images: int = 0,
) -> tuple[MemoryEstimate, str | None]:
    """Returns an estimate that fits the memory left, halving the batch size if needed.

    ``cached_floats`` and ``staging_images`` are passed on to ``estimate_memory``.

    Returns:
        ``(estimate, note)``: ``note`` explains a reduced batch size, else None.

    Raises:
        TrainingError: even the smallest batch would not fit; the message says what uses the
            memory and what to change.
    """
    left = budget_mb - used_mb
    size = batch_size
    while True:
        estimate = estimate_memory(
            footprint, size, cached_images=cached_images, backprop_backbone=backprop_backbone,
            cached_floats=cached_floats, staging_images=staging_images,
        )  # fmt: skip
        if estimate.total_mb <= left:
            break
        if size <= MIN_BATCH_SIZE:
            raise _does_not_fit_error(estimate, left, budget_mb)
        size = max(MIN_BATCH_SIZE, size // 2)
    note = None if size == batch_size else _lowered_batch_note(batch_size, estimate, left)
    return estimate, note


def _does_not_fit_error(estimate: MemoryEstimate, left: float, budget_mb: float) -> TrainingError:
    """The refusal: what the run needs, what is left, its largest part and what to change."""
    biggest = max(estimate.parts_mb.items(), key=lambda item: item[1])
    return TrainingError(
        f"This run would need about {estimate.total_mb:.0f} MB but only "
        f"{max(left, 0):.0f} MB of memory is left (budget {budget_mb:.0f} MB). "
        f"The largest part is the {biggest[0]} ({biggest[1]:.0f} MB): use a smaller "
        "input size, cut the backbone earlier, use fewer images, or wait for other "
        "runs to finish."
    )


def _lowered_batch_note(requested: int, estimate: MemoryEstimate, left: float) -> str:
    """Tells the user the batch size was lowered from ``requested`` to ``estimate``'s."""
    return (
        f"Batch size lowered from {requested} to {estimate.batch_size} so the run fits the "
        f"memory left ({left:.0f} MB; estimated peak {estimate.total_mb:.0f} MB)."
    )
