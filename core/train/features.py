"""Feature caching: run a frozen feature extractor once, train the head on the arrays.

When nothing below the head is trainable (``BuiltModel.fully_frozen_extractor``), every epoch
of ``model.fit`` would push each image through the same frozen backbone again. Computing the
cut output once and fitting the head on it gives the same head at a fraction of the cost.

Memory stays low on a 2.7 GB server: features are written into one preallocated float16 array
per split/view (no per-batch list to concatenate), stored on disk (``core.store.feature_cache``) and
read back memory-mapped; parameter-free head layers (global pooling) are applied to each part
as soon as it exists (``transform``), so the full (N, h, w, c) maps of all views are never in
memory together. ``prepare_cached`` gives the phase's ``PhaseData``; the streamed phase (images
every epoch) is prepared by ``core.train.phase_data``; the extraction itself is
``core.train.extraction``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.data.augment import build_augmenter
from core.store.feature_cache import (
    FeatureCache,
    cached_extract,
    feature_cache_key,
)
from core.train.extraction import extract_features
from core.train.phase_data import Items, PhaseData, encode_labels

Transform = Callable[[np.ndarray], np.ndarray]


def _labels(items: Items) -> np.ndarray:
    """The class indices of ``items`` as int32 (N,)."""
    return np.asarray([label for _, label in items], dtype=np.int32)


def prepare_cached(
    extractor: Any,
    *,
    model_spec: Any,
    data_spec: Any,
    split: Any,
    hashes: dict[str, str],
    batch_size: int,
    views: int,
    seed: int,
    cache: FeatureCache | None,
    outputs: int,
    progress: Callable[[str, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    transform: Transform | None = None,
    root: str | os.PathLike[str] | None = None,
) -> PhaseData:
    """Extracts (or loads from the cache) the features of every split for the head phase.

    With augmentation on, the training split gets ``views`` augmented copies of each image
    (each view its own cache entry, seeded so a rerun gives the same views). ``transform``
    (e.g. the head's global pooling, see ``fold_features``) is applied to each part as soon as
    it is extracted or loaded, so only the transformed arrays stay in memory. ``batch_size`` is
    the extraction batch; ``root`` names unreadable files relative to the dataset folder.
    """
    parts = _PartFeatures(
        extractor, model_spec=model_spec, data_spec=data_spec, hashes=hashes,
        batch_size=batch_size, seed=seed, cache=cache, progress=progress,
        should_stop=should_stop, transform=transform, root=root,
    )  # fmt: skip
    augment = data_spec.augmentation if data_spec.augmentation.enabled else None
    num_classes = len(split.classes)
    train_x, train_labels = _training_part(parts, split, augment, views)
    held_out = _held_out_parts(parts, split, num_classes, outputs)
    return PhaseData(
        train_x=train_x,
        train_y=encode_labels(train_labels, num_classes, outputs),
        validation=held_out.get("val"),
        test=held_out.get("test"),
        train_count=len(train_x),
        batch_size=batch_size,
        arrays=True,
        extract_seconds=parts.seconds,
        extracted_images=parts.images,
        from_cache=parts.hits == parts.count,
    )


@dataclass
class _PartFeatures:
    """Features of one part (a split, or one augmented view of it), cached or extracted.

    Tallies what it did over all parts, for the ``PhaseData`` of ``prepare_cached``.
    """

    extractor: Any
    model_spec: Any
    data_spec: Any
    hashes: dict[str, str]
    batch_size: int
    seed: int
    cache: FeatureCache | None
    progress: Callable[[str, int, int], None] | None
    should_stop: Callable[[], bool] | None
    transform: Transform | None
    root: str | os.PathLike[str] | None
    seconds: float = 0.0  # spent extracting or loading
    images: int = 0  # pushed through the extractor (cache misses)
    hits: int = 0  # parts loaded from the cache
    count: int = 0  # parts asked for

    def features(self, name: str, items: Items, view: int, augment: Any) -> np.ndarray:
        """The (transformed) features of ``items``; ``name`` labels the progress reports."""
        key = feature_cache_key(
            self.model_spec, self.data_spec.resize_mode, items,
            hashes=self.hashes, view=view, augment=augment, seed=self.seed,
        )  # fmt: skip
        features, hit, seconds = cached_extract(
            self.cache, key, len(items), lambda: self._extract(name, items, view, augment)
        )
        self.seconds += seconds
        self.images += 0 if hit else len(items)
        self.hits += int(hit)
        self.count += 1
        return self.transform(features) if self.transform is not None else _as_float32(features)

    def _extract(self, name: str, items: Items, view: int, augment: Any) -> np.ndarray:
        progress = self.progress
        features, _ = extract_features(
            self.extractor,
            items,
            image_size=self.model_spec.resolved_input_size,
            resize_mode=self.data_spec.resize_mode,
            batch_size=self.batch_size,
            augmenter=build_augmenter(augment, self.seed + view) if augment is not None else None,
            should_stop=self.should_stop,
            progress=(lambda done, total: progress(name, done, total)) if progress else None,
            # float16 halves the cached arrays (widened to float32 on overflow: ``_Output``)
            dtype=np.float16 if self.cache is not None else np.float32,
            root=self.root,
        )
        return features


def _training_part(
    parts: _PartFeatures, split: Any, augment: Any, views: int
) -> tuple[np.ndarray, np.ndarray]:
    """Features and class indices of the training split, views after one another.

    With ``augment`` set there are ``views`` augmented copies of each image, else one plain one.
    """
    views_used = views if augment else 1
    features = np.concatenate(
        [parts.features("train", split.train, view, augment) for view in range(views_used)]
    )
    return features, np.tile(_labels(split.train), views_used)


def _held_out_parts(
    parts: _PartFeatures, split: Any, num_classes: int, outputs: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(features, targets) of the non-empty "val" and "test" splits, never augmented."""
    held_out = {}
    for name in ("val", "test"):
        items = getattr(split, name)
        if items:
            features = parts.features(name, items, 0, None)
            held_out[name] = (features, encode_labels(_labels(items), num_classes, outputs))
    return held_out


def _as_float32(features: np.ndarray) -> np.ndarray:
    """An in-memory float32 copy (Keras trains on float32; a memory map is read once here)."""
    return np.asarray(features, dtype=np.float32)
