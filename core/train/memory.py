"""Memory guard: estimate a run's peak memory and refuse or shrink the batch before it starts.

Streamlit Community Cloud gives an app about 2.7 GB for everything, so one visitor's training
must not take the others down with an out-of-memory kill. The estimate is deliberately simple
and on the safe side: weights, optimizer slots, activations per image times the batch size,
the input pipeline's prefetched batches, and the cached feature arrays.

"Memory left" (``memory_budget``) is measured when the job starts, in the job's own worker
process, so the TensorFlow runtime and the built model are already counted as used:

- inside a container with a memory limit (cgroup v2 ``memory.max``, or v1
  ``memory.limit_in_bytes``), the limit minus what the container uses now (its page cache that
  can be dropped, ``inactive_file``, does not count), and never more than the machine has free;
- else psutil's ``available`` memory of the machine;
- ``STUDIO_MEMORY_BUDGET_MB`` (``Settings.memory_budget_mb``) overrides both: the job may use
  that much, minus what its own process already holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from core.errors import TrainingError

MB = 1024 * 1024
BYTES_PER_FLOAT = 4
PREFETCHED_BATCHES = 3  # batches in flight in tf.data (prefetch + map buffers)
MIN_BATCH_SIZE = 4
CGROUP_ROOT = Path("/sys/fs/cgroup")
# cgroup v1 reports "no limit" as a huge number (PAGE_COUNTER_MAX pages); anything above this
# (1 PiB) is no real limit.
_NO_LIMIT_BYTES = 1 << 50


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


@dataclass(frozen=True)
class MemoryBudget:
    """How much memory a job may plan with, measured when it starts.

    Attributes:
        total_mb: the limit (container limit, machine total, or the configured budget).
        left_mb: what is free for this job now.
        source: where the numbers come from, in words for a message ("the container's
            memory limit", "this machine", "STUDIO_MEMORY_BUDGET_MB").
    """

    total_mb: float
    left_mb: float
    source: str

    @property
    def used_mb(self) -> float:
        """What is already taken (``total_mb - left_mb``)."""
        return self.total_mb - self.left_mb


def _read_int(path: Path) -> int | None:
    """An integer file of the cgroup file system; None when missing, "max" or unreadable."""
    try:
        text = path.read_text(encoding="ascii").strip()
        return None if text == "max" else int(text)
    except (OSError, ValueError):
        return None


def _stat_value(path: Path, key: str) -> int:
    """One ``key value`` line of a cgroup ``memory.stat`` file (0 when absent)."""
    try:
        for line in path.read_text(encoding="ascii").splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def cgroup_memory(root: Path = CGROUP_ROOT) -> tuple[int, int] | None:
    """``(limit, used)`` in bytes of the cgroup this process runs in, or None without a limit.

    "Used" leaves out the inactive page cache, which the kernel drops before it kills anything
    (the same working-set figure ``docker stats`` shows).

    Args:
        root: the cgroup mount (a test passes a folder with fake files).
    """
    v2_limit = _read_int(root / "memory.max")
    if v2_limit is not None and (current := _read_int(root / "memory.current")) is not None:
        return v2_limit, max(0, current - _stat_value(root / "memory.stat", "inactive_file"))
    v1 = root / "memory"
    v1_limit = _read_int(v1 / "memory.limit_in_bytes")
    if v1_limit is not None and v1_limit < _NO_LIMIT_BYTES:
        usage = _read_int(v1 / "memory.usage_in_bytes")
        if usage is not None:
            inactive = _stat_value(v1 / "memory.stat", "total_inactive_file")
            return v1_limit, max(0, usage - inactive)
    return None


def memory_budget(
    override_mb: float | None = None, cgroup_root: Path = CGROUP_ROOT
) -> MemoryBudget:
    """What a job starting now may use (see the module docstring for the rules).

    Args:
        override_mb: ``Settings.memory_budget_mb``; None measures what is free.
        cgroup_root: the cgroup mount to read the container's limit from.
    """
    if override_mb is not None:
        left = max(0.0, override_mb - process_memory_mb())
        return MemoryBudget(override_mb, left, "STUDIO_MEMORY_BUDGET_MB")
    system = psutil.virtual_memory()
    cgroup = cgroup_memory(cgroup_root)
    if cgroup is None:
        return MemoryBudget(system.total / MB, system.available / MB, "this machine")
    limit, used = cgroup
    left = min(max(0, limit - used), system.available)
    return MemoryBudget(limit / MB, left / MB, "the container's memory limit")


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
    source: str = "",
) -> tuple[MemoryEstimate, str | None]:
    """Returns an estimate that fits the memory left, halving the batch size if needed.

    ``cached_floats`` and ``staging_images`` are passed on to ``estimate_memory``; ``source``
    names where the budget comes from (``MemoryBudget.source``) in the refusal.

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
            raise _does_not_fit_error(estimate, left, budget_mb, source)
        size = max(MIN_BATCH_SIZE, size // 2)
    note = None if size == batch_size else _lowered_batch_note(batch_size, estimate, left)
    return estimate, note


def _does_not_fit_error(
    estimate: MemoryEstimate, left: float, budget_mb: float, source: str = ""
) -> TrainingError:
    """The refusal: what the run needs, what is left, its largest part and what to change."""
    biggest = max(estimate.parts_mb.items(), key=lambda item: item[1])
    limit = f"{budget_mb:.0f} MB" + (f" from {source}" if source else "")
    override = (
        " or raise STUDIO_MEMORY_BUDGET_MB if the server has more memory,"
        if source == "STUDIO_MEMORY_BUDGET_MB"
        else ""
    )
    return TrainingError(
        f"This run would need about {estimate.total_mb:.0f} MB but only "
        f"{max(left, 0):.0f} MB of memory is free for it (limit {limit}), even with a batch "
        f"of {estimate.batch_size}. The largest part is the {biggest[0]} "
        f"({biggest[1]:.0f} MB). To make it fit: use a smaller input size, cut the backbone "
        "earlier, use fewer images or augmented views,"
        f"{override} or wait until other jobs have finished."
    )


def _lowered_batch_note(requested: int, estimate: MemoryEstimate, left: float) -> str:
    """Tells the user the batch size was lowered from ``requested`` to ``estimate``'s."""
    return (
        f"Batch size lowered from {requested} to {estimate.batch_size} so the run fits the "
        f"memory left ({left:.0f} MB; estimated peak {estimate.total_mb:.0f} MB)."
    )
