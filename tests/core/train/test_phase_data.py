"""The streamed phase: tf.data batches of raw images with targets encoded for the loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.config.data import AugmentConfig, DataConfig
from core.data.pipeline import load_split
from core.train.phase_data import encode_labels, prepare_streamed


def test_encode_labels_one_hot_or_sigmoid_column() -> None:
    labels = np.array([0, 2, 1])
    np.testing.assert_array_equal(encode_labels(labels, 3, 3), np.eye(3)[[0, 2, 1]])
    column = encode_labels(np.array([1, 0]), 2, 1)
    assert column.shape == (2, 1) and column.dtype == np.float32 and column[:, 0].tolist() == [1, 0]


def test_streamed_phase_batches_every_split(tiny_dataset: Path) -> None:
    spec = DataConfig(
        path=str(tiny_dataset), val_ratio=0.25, test_ratio=0.0,
        augmentation=AugmentConfig(flip_horizontal=True),
    )  # fmt: skip
    _, split = load_split(spec)
    data = prepare_streamed(
        split=split, data_spec=spec, image_size=16, batch_size=4, seed=0, outputs=2
    )
    assert not data.arrays and data.train_y is None and data.test is None
    assert data.train_count == len(split.train) == 12
    images, targets = next(iter(data.train_x))
    assert images.shape == (4, 16, 16, 3) and float(np.max(images)) > 1.0  # raw 0..255
    assert targets.shape == (4, 2) and np.all(np.sum(targets, axis=1) == 1)
    _, val_targets = next(iter(data.validation))
    assert val_targets.shape == (4, 2)
    sigmoid = prepare_streamed(
        split=split, data_spec=spec, image_size=16, batch_size=4, seed=0, outputs=1
    )
    assert next(iter(sigmoid.train_x))[1].shape == (4, 1)
