"""tf.data pipeline: shapes, labels, streaming from disk, augmentation on train only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.data_config import AugmentSpec, DataSpec
from core.images import load_image_array
from core.pipeline import load_split, make_dataset, make_split_datasets
from tests.conftest import write_image

AUG = AugmentSpec(flip_horizontal=True, rotation=20, contrast=0.3, brightness=0.2)


def _all(dataset) -> tuple[np.ndarray, np.ndarray]:
    images, labels = zip(*((x.numpy(), y.numpy()) for x, y in dataset), strict=True)
    return np.concatenate(images), np.concatenate(labels)


def test_batches_have_the_contract_shapes(tiny_dataset: Path):
    _, split = load_split(DataSpec(str(tiny_dataset), 0.25, 0.0))
    images, labels = _all(make_dataset(split.train, image_size=24, batch_size=5))
    assert images.shape == (len(split.train), 24, 24, 3) and images.dtype == np.float32
    assert labels.dtype == np.int32 and sorted(labels.tolist()) == sorted(y for _, y in split.train)
    assert images.min() >= 0.0 and images.max() <= 255.0


def test_pixels_equal_the_single_decoder(tiny_dataset: Path):
    items = [(str(p), 0) for p in sorted((tiny_dataset / "red").iterdir())[:3]]
    images, _ = _all(make_dataset(items, image_size=20, resize_mode="pad", batch_size=2))
    expected = np.stack([load_image_array(path, 20, "pad") for path, _ in items])
    np.testing.assert_array_equal(images, expected)


def test_shuffle_is_seeded(tiny_dataset: Path):
    _, split = load_split(DataSpec(str(tiny_dataset), 0.0, 0.0))

    def order(seed: int) -> list[int]:
        dataset = make_dataset(split.train, image_size=8, batch_size=16, shuffle=True, seed=seed)
        return _all(dataset)[0][:, 0, 0, 0].tolist()

    assert order(1) == order(1) and order(1) != order(2)


def test_augmentation_applies_to_train_only(tiny_dataset: Path):
    spec = DataSpec(str(tiny_dataset), 0.25, 0.25, augmentation=AUG)
    _, split = load_split(spec)
    datasets = make_split_datasets(split, spec, image_size=16, batch_size=4)
    val_images, _ = _all(datasets["val"])
    val_expected = np.stack([load_image_array(path, 16) for path, _ in split.val])
    np.testing.assert_array_equal(val_images, val_expected)  # untouched
    plain = make_dataset(split.train, image_size=16, batch_size=4, shuffle=True, seed=spec.seed)
    train_images, _ = _all(datasets["train"])
    plain_images, _ = _all(plain)  # same shuffle order, no augmentation
    assert not np.allclose(train_images, plain_images)
    assert train_images.min() >= 0.0 and train_images.max() <= 255.0


def test_streams_from_disk_each_epoch(tmp_path: Path):
    """No in-memory cache: a file changed between epochs is read anew."""
    path = write_image(tmp_path / "x.png", (10, 10, 10))
    dataset = make_dataset([(str(path), 0)], image_size=8, batch_size=1)
    first = next(iter(dataset))[0].numpy()
    write_image(path, (250, 250, 250))
    second = next(iter(dataset))[0].numpy()
    assert first.mean() < 60 and second.mean() > 200


def test_file_broken_after_scan_is_skipped_not_fatal(tmp_path: Path):
    good = write_image(tmp_path / "ok.png", (10, 10, 10))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"")
    _, labels = _all(make_dataset([(str(good), 1), (str(bad), 0)], image_size=8, batch_size=2))
    assert labels.tolist() == [1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"image_size": 4}, "at least 8"), ({"resize_mode": "x"}, "Resize mode"),
     ({"batch_size": 0}, "Batch size")],
)  # fmt: skip
def test_bad_arguments(tmp_path: Path, kwargs: dict, message: str):
    args = {"image_size": 16, **kwargs}
    with pytest.raises(ValueError, match=message):
        make_dataset([("x.png", 0)], **args)
    with pytest.raises(ValueError, match="no images"):
        make_dataset([], image_size=16)
