"""What ``model.fit`` gets in one phase (``PhaseData``), and the streamed (non-cached) phase.

A phase trains either on cached feature arrays (``core.train.features.prepare_cached``) or on
streaming ``tf.data`` datasets of images (``prepare_streamed``, here), when the backbone is
trained too or augmentation has to run on the images every epoch. Either way the targets are
already encoded for the loss (``encode_labels``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.config.data import DataConfig
from core.data.pipeline import make_dataset
from core.data.splits import SplitData

Items = Sequence[tuple[str, int]]


@dataclass
class PhaseData:
    """What ``model.fit`` gets in one phase: cached arrays or streaming datasets.

    With arrays, ``train_x``/``train_y`` are numpy arrays and ``validation``/``test`` are
    ``(x, y)`` tuples; with streaming, ``train_x`` is a ``tf.data.Dataset`` of (images, targets)
    batches, ``train_y`` is None, and ``validation``/``test`` are datasets. Targets are already
    encoded for the loss (one-hot, or a float column for a sigmoid head).
    """

    train_x: Any
    train_y: Any
    validation: Any
    test: Any
    train_count: int
    batch_size: int
    arrays: bool
    extract_seconds: float = 0.0
    extracted_images: int = 0
    from_cache: bool = False


def encode_labels(labels: np.ndarray, num_classes: int, outputs: int) -> np.ndarray:
    """Class indices -> targets: one-hot (N, C), or (N, 1) floats for a sigmoid head."""
    if outputs == 1:
        return labels.astype(np.float32).reshape(-1, 1)
    return np.eye(num_classes, dtype=np.float32)[labels]


def prepare_streamed(
    *,
    split: SplitData,
    data_spec: DataConfig,
    image_size: int,
    batch_size: int,
    seed: int,
    outputs: int,
    augment_train: bool = True,
) -> PhaseData:
    """Streaming ``tf.data`` datasets (``core.data.pipeline``) for end-to-end training."""
    import tensorflow as tf

    num_classes = len(split.classes)

    def encode(images: Any, labels: Any) -> tuple[Any, Any]:
        if outputs == 1:
            return images, tf.cast(labels, tf.float32)[:, None]
        return images, tf.one_hot(labels, num_classes)

    def dataset(items: Items, training: bool) -> Any:
        augment = data_spec.augmentation if training and augment_train else None
        return make_dataset(
            list(items),
            image_size=image_size,
            resize_mode=data_spec.resize_mode,
            batch_size=batch_size,
            shuffle=training,
            seed=seed,
            augment=augment if augment is not None and augment.enabled else None,
        ).map(encode)

    return PhaseData(
        train_x=dataset(split.train, True),
        train_y=None,
        validation=dataset(split.val, False) if split.val else None,
        test=dataset(split.test, False) if split.test else None,
        train_count=len(split.train),
        batch_size=batch_size,
        arrays=False,
    )
