"""A run's features come from the cache training filled; a miss is extracted once and stored."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from core.evaluate.run_features import EXTRACTED, FROM_CACHE, load_run_features, pool
from core.store.feature_cache import feature_cache_folder
from tests.helpers.analysis import colour_dataset, train_tiny_run


def test_cached_features_are_found_and_a_miss_is_extracted_once(tmp_path: Path) -> None:
    data, _ = colour_dataset(tmp_path / "data", per_class=6)
    run_dir, settings = train_tiny_run(data, tmp_path)
    cached = load_run_features(run_dir, settings, splits=("val", "test"))
    assert cached.extracted_images == 0 and set(cached.source.values()) == {FROM_CACHE}
    shutil.rmtree(feature_cache_folder(settings.cache_dir))
    fresh = load_run_features(run_dir, settings, splits=("val", "test"))
    held_out = len(cached.items("val")) + len(cached.items("test"))
    assert fresh.extracted_images == held_out == 8 and set(fresh.source.values()) == {EXTRACTED}
    # the same backbone built again with the run's seed gives the features training cached
    np.testing.assert_allclose(fresh.features["val"], cached.features["val"], atol=1e-2)
    again = load_run_features(run_dir, settings, splits=("val", "test"))
    assert again.extracted_images == 0
    assert again.paths("val") and all(not path.startswith("/") for path in again.paths("val"))


def test_pool_averages_the_spatial_axes() -> None:
    maps = np.arange(2 * 2 * 2 * 3, dtype=np.float16).reshape(2, 2, 2, 3)
    np.testing.assert_allclose(pool(maps, chunk=1), maps.astype(np.float32).mean(axis=(1, 2)))
    flat = np.ones((3, 4), np.float32)
    assert pool(flat).shape == (3, 4)
