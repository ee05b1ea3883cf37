"""Feature extraction and the disk cache (a fake extractor keeps these tests TF-free)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from core.errors import TrainingError
from core.features import (
    FeatureCache,
    StopRequested,
    cached_extract,
    extract_features,
    feature_cache_key,
)
from core.model_spec import HeadSpec, ModelSpec
from tests.conftest import write_image


class MeanColor:
    """Stands in for a Keras extractor: the mean colour of each image."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, images: Any, training: bool = False) -> Any:
        self.calls += 1  # counts traces of the compiled function, not batches
        return keras.ops.mean(images, axis=(1, 2))


def _items(root: Path) -> list[tuple[str, int]]:
    return [(str(p), 0 if p.parent.name == "blue" else 1) for p in sorted(root.rglob("*.png"))]


def test_extracts_in_batches_with_progress(tiny_dataset: Path) -> None:
    items = _items(tiny_dataset)
    seen: list[tuple[int, int]] = []
    extractor = MeanColor()
    features, labels = extract_features(
        extractor,
        items,
        image_size=16,
        resize_mode="stretch",
        batch_size=5,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert features.shape == (16, 3) and labels.tolist() == [0] * 8 + [1] * 8
    assert seen == [(5, 16), (10, 16), (15, 16), (16, 16)]
    assert extractor.calls <= 2  # traced once (and once more for the last, smaller batch)
    assert features[0, 2] > features[0, 0]  # blue images are blue


def test_bad_file_is_named(tiny_dataset: Path) -> None:
    broken = tiny_dataset / "red" / "r3.png"
    broken.write_bytes(b"garbage")
    with pytest.raises(TrainingError, match=r"r3\.png"):
        extract_features(MeanColor(), _items(tiny_dataset), image_size=16, resize_mode="stretch")


def test_stop_during_extraction(tiny_dataset: Path) -> None:
    with pytest.raises(StopRequested):
        extract_features(
            MeanColor(),
            _items(tiny_dataset),
            image_size=16,
            resize_mode="stretch",
            should_stop=lambda: True,
        )


def test_cache_key_follows_what_changes_the_features(tiny_dataset: Path) -> None:
    items = _items(tiny_dataset)
    spec = ModelSpec(backbone="mobilenet_v2", input_size=96)
    key = feature_cache_key(spec, "stretch", items)
    other_head = ModelSpec(backbone="mobilenet_v2", input_size=96, head=HeadSpec(dropout=0.5))
    assert feature_cache_key(other_head, "stretch", items) == key  # head does not matter
    assert feature_cache_key(spec, "crop", items) != key
    assert (
        feature_cache_key(ModelSpec(backbone="mobilenet_v2", input_size=128), "stretch", items)
        != key
    )
    assert feature_cache_key(spec, "stretch", items[:-1]) != key
    write_image(Path(items[0][0]), (0, 255, 0))  # same file name, new content
    assert feature_cache_key(spec, "stretch", items) != key


def test_disk_cache_round_trip_and_hit(tmp_path: Path) -> None:
    cache = FeatureCache(tmp_path / "cache")
    calls = []

    def compute() -> tuple[np.ndarray, np.ndarray]:
        calls.append(1)
        return np.arange(6, dtype=np.float32).reshape(3, 2), np.array([0, 1, 0], np.int32)

    first = cached_extract(cache, "k1", compute)
    second = cached_extract(cache, "k1", compute)
    assert (first[2], second[2]) == (False, True) and len(calls) == 1
    np.testing.assert_array_equal(first[0], second[0])
    (tmp_path / "cache" / "k1.npz").write_bytes(b"truncated")
    assert cache.load("k1") is None  # a damaged entry is recomputed, not fatal


def test_folding_the_pooling_into_the_cache_is_exact() -> None:
    from core.features import PhaseData, fold_head_prefix, fold_phase_data
    from core.model_builder import build_model

    spec = ModelSpec(backbone="mobilenet_v2", input_size=32, weights="none", cut_layer="Conv1_relu")
    built = build_model(spec, 3)
    prefix, rest = fold_head_prefix(built.head)
    assert [type(layer).__name__ for layer in prefix] == ["GlobalAveragePooling2D"]
    features = np.random.default_rng(0).random((5, 16, 16, 32), dtype=np.float32)
    data = PhaseData(features, None, None, None, train_count=5, batch_size=2, arrays=True)
    pooled = fold_phase_data(data, prefix, batch=2).train_x
    assert pooled.shape == (5, 32)
    np.testing.assert_allclose(
        rest.predict(pooled, verbose=0), built.head.predict(features, verbose=0), atol=1e-6
    )
    assert rest.layers[-1] is built.head.layers[-1]  # shared weights
