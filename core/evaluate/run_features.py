"""The backbone features of a run's images, from the feature cache training filled.

Label issues, near-duplicates, the learning curve and calibration all work on the features the
run's frozen backbone gives at its cut. Training already computed them (``core.train.features``)
and stored them in the feature cache under a key of backbone, weights, cut, input size, resize
mode, the files and their hashes (``core.store.feature_cache``). This module asks the cache with
the very same key, so an analysis of a run that cached its features pushes no image through the
backbone again. In order of preference, per split:

1. the plain features of the split (val and test always; train when augmentation was off);
2. for train with augmentation on: the mean of its cached augmented views (pooled), which is
   what the run's head was trained on;
3. otherwise (a run trained end to end, or a cache entry evicted since) the features are
   extracted once with the run's own backbone and stored under the same key, so the next
   analysis, or the next run on the same data and cut, finds them.

``RunFeatures.source`` says which it was per split.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.config.run import RunConfig
from core.config.settings import Settings
from core.data.dataset_version import relative_path
from core.data.run_split import RunSplit, load_run_split
from core.data.stored_split import SPLIT_FILE, SPLIT_NAMES, read_stored_split
from core.model.builder import build_model
from core.store.feature_cache import (
    FeatureCache,
    cached_extract,
    feature_cache_folder,
    feature_cache_key,
)
from core.store.run_config import read_run_config
from core.train.extraction import extract_features

Progress = Callable[[str, int, int], None]
FROM_CACHE = "cache"
FROM_VIEWS = "cache (mean of the augmented views)"
EXTRACTED = "extracted"


@dataclass
class RunFeatures:
    """Features, labels and paths of a run's splits (non-empty splits only).

    Attributes:
        config: the run's config.
        run_split: the run's split over its dataset folder now (``core.data.run_split``).
        features: split name -> features; pooled (N, channels) float32 unless asked raw.
        labels: split name -> class indices (N,).
        source: split name -> ``FROM_CACHE``, ``FROM_VIEWS`` or ``EXTRACTED``.
        extracted_images: images pushed through the backbone (0 when all came from the cache).
    """

    config: RunConfig
    run_split: RunSplit
    features: dict[str, np.ndarray] = field(default_factory=dict)
    labels: dict[str, np.ndarray] = field(default_factory=dict)
    source: dict[str, str] = field(default_factory=dict)
    extracted_images: int = 0

    @property
    def classes(self) -> list[str]:
        """The run's class names (label indices point into it)."""
        return list(self.run_split.split.classes)

    @property
    def root(self) -> str:
        """The dataset folder."""
        return self.run_split.report.root

    def items(self, name: str) -> list[tuple[str, int]]:
        """(absolute path, class index) of split ``name``, in the features' order."""
        return list(getattr(self.run_split.split, name))

    def paths(self, name: str) -> list[str]:
        """Paths of split ``name`` relative to the dataset folder, in the features' order."""
        return [relative_path(path, self.root) for path, _ in self.items(name)]


def pool(features: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Global average over the spatial axes: (N, h, w, c) -> (N, c) float32, chunk by chunk.

    Reading a memory-mapped float16 entry a chunk at a time keeps only one chunk in memory.
    (N, c) features are returned as float32 unchanged.
    """
    if features.ndim <= 2:
        return np.asarray(features, dtype=np.float32).reshape(len(features), -1)
    axes = tuple(range(1, features.ndim - 1))
    parts = [
        np.asarray(features[start : start + chunk], dtype=np.float32).mean(axis=axes)
        for start in range(0, len(features), chunk)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, features.shape[-1]), np.float32)


def read_run_split(run_dir: str | os.PathLike[str]) -> tuple[RunConfig, RunSplit]:
    """The run's config and its stored split over the dataset folder as it is now.

    Raises:
        DataError: the dataset is not there any more.
        StudioError: the run's config cannot be read.
    """
    folder = Path(run_dir)
    config = read_run_config(folder / "config.json")
    return config, load_run_split(config.data, read_stored_split(folder / SPLIT_FILE))


def load_run_features(
    run_dir: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    splits: tuple[str, ...] = SPLIT_NAMES,
    pooled: bool = True,
    progress: Progress | None = None,
    run: tuple[RunConfig, RunSplit] | None = None,
) -> RunFeatures:
    """The features of the run's splits, from the cache when it has them (module docstring).

    Args:
        run_dir: the run folder (``config.json``, ``split.json``).
        settings: where the feature cache is (default: ``Settings.from_env()``).
        splits: which splits to load; empty splits are left out of the result.
        pooled: average over the spatial axes (else the raw cut output, memory-mapped when it
            comes from the cache; augmented views are then not used).
        progress: called with (split, images done, total) while extracting.
        run: the run's config and split when the caller read them already (``read_run_split``).

    Raises:
        DataError: the dataset is not there any more (``load_run_split``).
        StudioError: the run's config cannot be read, or its backbone cannot be built.
    """
    config, run_split = run or read_run_split(run_dir)
    result = RunFeatures(config, run_split)
    loader = _SplitLoader(config, run_split, settings or Settings.from_env(), progress)
    for name in splits:
        items = result.items(name)
        if not items:
            continue
        features, result.source[name] = loader.features(name, items, pooled)
        result.features[name] = features
        result.labels[name] = np.asarray([label for _, label in items], dtype=np.int64)
    result.extracted_images = loader.extracted
    return result


class _SplitLoader:
    """Looks a split up in the feature cache under the key training used; extracts on a miss."""

    def __init__(
        self, config: RunConfig, run_split: RunSplit, settings: Settings, progress: Any
    ) -> None:
        self.config, self.run_split, self.settings, self.progress = (
            config, run_split, settings, progress,
        )  # fmt: skip
        self.cache = FeatureCache(feature_cache_folder(settings.cache_dir))
        self.hashes = {record.path: record.sha1 for record in run_split.report.records}
        self.extractor: Any = None
        self.extracted = 0

    def _key(self, items: list[tuple[str, int]], view: int = 0, augment: Any = None) -> str:
        return feature_cache_key(
            self.config.model, self.config.data.resize_mode, items, hashes=self.hashes,
            view=view, augment=augment, seed=self.config.train.seed,
        )  # fmt: skip

    def features(self, name: str, items: list[tuple[str, int]], pooled: bool) -> tuple[Any, str]:
        """(features, source) of one split."""
        key = self._key(items)
        hit = self.cache.load(key, len(items))
        if hit is not None:
            return (pool(hit) if pooled else hit), FROM_CACHE
        if name == "train" and pooled:
            views = self._augmented_views(items)
            if views is not None:
                return views, FROM_VIEWS
        features, _, _ = cached_extract(
            self.cache, key, len(items), lambda: self._extract(name, items)
        )
        return (pool(features) if pooled else features), EXTRACTED

    def _augmented_views(self, items: list[tuple[str, int]]) -> np.ndarray | None:
        """The mean of the pooled augmented views training cached; None unless all are there."""
        augment = self.config.data.augmentation
        count = self.config.train.augment_views
        if not augment.enabled or count < 1:
            return None
        total: np.ndarray | None = None
        for view in range(count):
            hit = self.cache.load(self._key(items, view, augment), len(items))
            if hit is None:
                return None
            total = pool(hit) if total is None else total + pool(hit)
        return None if total is None else total / count

    def _extract(self, name: str, items: list[tuple[str, int]]) -> np.ndarray:
        if self.extractor is None:
            self.extractor = _build_extractor(self.config, len(self.run_split.split.classes))
        progress = self.progress
        features, _ = extract_features(
            self.extractor,
            items,
            image_size=self.config.model.resolved_input_size,
            resize_mode=self.config.data.resize_mode,
            batch_size=self.settings.extract_batch_size,
            progress=(lambda done, total: progress(name, done, total)) if progress else None,
            dtype=np.float16,  # as training stores its entries
            root=self.run_split.report.root,
        )
        self.extracted += len(items)
        return features


def _build_extractor(config: RunConfig, num_classes: int) -> Any:
    """The run's frozen feature extractor, built as training built it (same seed first).

    The seed matters for a randomly initialised backbone (``weights="none"``): training seeds
    the generators before building, so the same seed gives the same weights.
    """
    import keras

    keras.utils.set_random_seed(config.train.seed)
    return build_model(config.model, num_classes).feature_extractor
