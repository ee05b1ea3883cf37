"""Feature extraction and the disk cache (a fake extractor keeps these tests TF-free)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from core.errors import TrainingError
from core.train.extraction import StopRequested, extract_features


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


def test_bad_file_is_named_relative_to_the_dataset(tiny_dataset: Path) -> None:
    broken = tiny_dataset / "red" / "r3.png"
    broken.write_bytes(b"garbage")
    with pytest.raises(TrainingError, match=r"'red/r3\.png'") as caught:
        extract_features(
            MeanColor(), _items(tiny_dataset), image_size=16, resize_mode="stretch",
            root=tiny_dataset,
        )  # fmt: skip
    assert str(tiny_dataset) not in str(caught.value)


def test_float16_output_widens_when_values_do_not_fit(tiny_dataset: Path) -> None:
    items = _items(tiny_dataset)
    small, _ = extract_features(
        MeanColor(), items, image_size=16, resize_mode="stretch", dtype=np.float16
    )
    assert small.dtype == np.float16

    class Huge(MeanColor):
        def __call__(self, images: Any, training: bool = False) -> Any:
            return keras.ops.mean(images, axis=(1, 2)) * 1e4  # up to 2.5e6: beyond float16

    big, _ = extract_features(
        Huge(), items, image_size=16, resize_mode="stretch", dtype=np.float16, batch_size=4
    )
    assert big.dtype == np.float32 and np.isfinite(big).all()
    np.testing.assert_allclose(big / 1e4, small, rtol=2e-3)


def test_stop_during_extraction(tiny_dataset: Path) -> None:
    with pytest.raises(StopRequested):
        extract_features(
            MeanColor(),
            _items(tiny_dataset),
            image_size=16,
            resize_mode="stretch",
            should_stop=lambda: True,
        )
