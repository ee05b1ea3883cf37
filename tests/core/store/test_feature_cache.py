"""Feature cache: the content-hash key, float16 entries read memory-mapped, LRU order."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from core.config.model import HeadConfig, ModelConfig
from core.store.feature_cache import FeatureCache, cached_extract, feature_cache_key
from tests.conftest import write_image


def _items(root: Path) -> list[tuple[str, int]]:
    return [(str(p), 0 if p.parent.name == "blue" else 1) for p in sorted(root.rglob("*.png"))]


def test_cache_key_follows_what_changes_the_features(tiny_dataset: Path) -> None:
    items = _items(tiny_dataset)
    spec = ModelConfig(backbone="mobilenet_v2", input_size=96)
    key = feature_cache_key(spec, "stretch", items)
    other_head = ModelConfig(backbone="mobilenet_v2", input_size=96, head=HeadConfig(dropout=0.5))
    assert feature_cache_key(other_head, "stretch", items) == key  # head does not matter
    assert feature_cache_key(spec, "crop", items) != key
    assert (
        feature_cache_key(ModelConfig(backbone="mobilenet_v2", input_size=128), "stretch", items)
        != key
    )
    assert feature_cache_key(spec, "stretch", items[:-1]) != key
    write_image(Path(items[0][0]), (0, 255, 0))  # same file name, new content
    assert feature_cache_key(spec, "stretch", items) != key


def test_disk_cache_round_trip_hit_memory_mapped_and_lru(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path / "cache")
    calls = []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.arange(6, dtype=np.float16).reshape(3, 2)

    first = cached_extract(cache, "k1", 3, compute)
    second = cached_extract(cache, "k1", 3, compute)
    assert (first[1], second[1]) == (False, True) and len(calls) == 1
    assert isinstance(second[0], np.memmap) and second[0].dtype == np.float16
    np.testing.assert_array_equal(first[0], second[0])
    assert cached_extract(cache, "k1", 4, compute)[1] is False  # other row count: recomputed
    cached_extract(cache, "k2", 3, compute)
    os.utime(tmp_path / "cache" / "k1.npy", (1, 1))
    os.utime(tmp_path / "cache" / "k2.npy", (2, 2))
    assert [e.path.name for e in cache.entries()] == ["k1.npy", "k2.npy"]
    assert cache.load("k1") is not None  # a hit marks it as just used
    assert [e.path.name for e in cache.entries()] == ["k2.npy", "k1.npy"]
    (tmp_path / "cache" / "k1.npy").write_bytes(b"truncated")
    assert cache.load("k1") is None  # a damaged entry is recomputed, not fatal


def test_the_cache_key_reads_kerass_version_without_importing_keras() -> None:
    """Analyses on cached features need no TensorFlow: the key reads Keras's version only."""
    import keras

    code = (
        "import sys; from core.store.feature_cache import keras_version; "
        "print(keras_version(), 'keras' in sys.modules, 'tensorflow' in sys.modules)"
    )
    repo = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo)
    assert out.stdout.split() == [keras.__version__, "False", "False"]
