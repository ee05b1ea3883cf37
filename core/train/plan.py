"""How the head phase of a run trains: on cached features or end-to-end, and at what batch size.

``cache_decision`` says whether the backbone's features can be computed once (nothing below the
head trains, caching is on, and augmentation is either off or baked into cached views) and
explains the choice in a sentence for the user. ``memory_guard`` sizes the batch so the run fits
the memory that is free when it starts (``core.train.memory.memory_budget``), counting the
cached features it will keep.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.config.run import RunConfig
from core.config.settings import Settings
from core.data.splits import SplitData
from core.train.memory import fit_batch_size, measure_footprint, memory_budget


def cache_decision(config: RunConfig, fully_frozen: bool) -> tuple[bool, str]:
    """Whether the head phase trains on cached features, and why (one plain sentence).

    Args:
        config: the run config (caching switch, augmentation, augmented views).
        fully_frozen: True when no weight below the head is trainable.
    """
    train, augment = config.train, config.data.augmentation
    if not train.cache_features:
        return False, "Feature caching is off: training the whole network end-to-end."
    if not fully_frozen:
        return False, (
            "Some layers below the head are trainable, so every epoch runs the "
            "whole network (no feature caching)."
        )
    if augment.enabled and train.augment_views == 0:
        return False, (
            "Augmentation is on: training end-to-end so every epoch sees new "
            "random changes (set augmented views above 0 to cache instead)."
        )
    if augment.enabled:
        return True, (
            f"The backbone is frozen: caching {train.augment_views} augmented "
            "views of each training image and training only the head on them."
        )
    return True, (
        "The backbone is frozen: computing its features once and training only "
        "the head on them (feature caching)."
    )


def memory_guard(
    built: Any,
    config: RunConfig,
    split: SplitData,
    settings: Settings,
    *,
    cached: bool,
    backprop: bool,
    folded: list[Any] | None = None,
) -> tuple[Any, str | None]:
    """Applies the memory guard; returns ``(MemoryEstimate, note)`` as ``fit_batch_size`` does.

    With caching, the arrays kept are the folded (pooled) features when the head starts
    with pooling, plus one split/view of full float16 cut outputs while it is pooled.
    """
    train = config.train
    views = max(1, train.augment_views) if config.data.augmentation.enabled else 1
    count = len(split.train) * views + len(split.val) + len(split.test) if cached else 0
    kept = None
    if cached and folded:
        kept = int(np.prod([d for d in folded[-1].output.shape[1:] if d is not None]))
    budget = memory_budget(settings.memory_budget_mb)  # measured now, in the job's process
    return fit_batch_size(
        measure_footprint(built),
        train.batch_size,
        budget_mb=budget.total_mb,
        used_mb=budget.used_mb,
        source=budget.source,
        cached_images=count,
        backprop_backbone=backprop,
        cached_floats=kept,
        staging_images=max(len(split.train), len(split.val), len(split.test)) if kept else 0,
    )
