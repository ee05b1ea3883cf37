"""tf.data pipeline: shapes, labels, streaming from disk, augmentation on train only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from core.config.data import AugmentConfig, DataConfig
from core.data.images import load_image_array
from core.data.pipeline import (
    decode_for_pipeline,
    explain_pipeline_error,
    load_split,
    make_dataset,
    make_split_datasets,
)
from core.errors import DataError
from tests.conftest import write_image

AUG = AugmentConfig(flip_horizontal=True, rotation=20, contrast=0.3, brightness=0.2)


def _all(dataset) -> tuple[np.ndarray, np.ndarray]:
    images, labels = zip(*((x.numpy(), y.numpy()) for x, y in dataset), strict=True)
    return np.concatenate(images), np.concatenate(labels)


def test_batches_have_the_contract_shapes(tiny_dataset: Path):
    _, split = load_split(DataConfig(str(tiny_dataset), 0.25, 0.0))
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
    _, split = load_split(DataConfig(str(tiny_dataset), 0.0, 0.0))

    def order(seed: int) -> list[int]:
        dataset = make_dataset(split.train, image_size=8, batch_size=16, shuffle=True, seed=seed)
        return _all(dataset)[0][:, 0, 0, 0].tolist()

    assert order(1) == order(1) and order(1) != order(2)


def test_augmentation_applies_to_train_only(tiny_dataset: Path):
    spec = DataConfig(str(tiny_dataset), 0.25, 0.25, augmentation=AUG)
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


def test_file_broken_after_scan_stops_iteration_naming_it(tmp_path: Path):
    """Issue 8: a corrupt file met mid-training fails cleanly with the file's name."""
    root = tmp_path / "data"
    for index in range(3):
        write_image(root / "train" / "ants" / f"a{index}.png", (200, 40, 40), seed=index)
        write_image(root / "train" / "bees" / f"b{index}.png", (40, 40, 200), seed=9 + index)
    report, split = load_split(DataConfig(str(root), 0.0, 0.0))
    victim = root / "train" / "ants" / "a1.png"
    victim.write_bytes(b"this is not an image any more")  # changed after the scan
    dataset = make_dataset(split.train, image_size=8, batch_size=2)
    with pytest.raises(tf.errors.OpError) as caught:
        _all(dataset)
    assert f"Could not read image '{victim.resolve()}'" in str(caught.value)
    sentence = explain_pipeline_error(caught.value, report.root)
    assert sentence is not None
    assert sentence.startswith("Could not read image 'train/ants/a1.png': not an image")
    assert "load the dataset again" in sentence
    full = explain_pipeline_error(caught.value)
    assert full is not None and str(victim.resolve()) in full


def test_deleted_file_with_unicode_name_is_named(tmp_path: Path):
    victim = write_image(tmp_path / "caf\u00e9 noir" / "\u00e9t\u00e9 1.png", (10, 10, 10))
    dataset = make_dataset([(str(victim), 0)], image_size=8, batch_size=1)
    victim.unlink()
    with pytest.raises(tf.errors.OpError) as caught:
        next(iter(dataset))
    sentence = explain_pipeline_error(caught.value, tmp_path)
    assert sentence is not None
    assert "'caf\u00e9 noir/\u00e9t\u00e9 1.png': cannot open the file" in sentence


def test_error_raised_inside_keras_fit_is_explained(tmp_path: Path):
    import keras

    paths = [write_image(tmp_path / "c" / f"{i}.png", (20 * i, 9, 9), seed=i) for i in range(4)]
    dataset = make_dataset([(str(p), i % 2) for i, p in enumerate(paths)], image_size=8)
    paths[2].write_bytes(paths[2].read_bytes()[:60])  # truncated after the scan
    model = keras.Sequential(
        [keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.raises(tf.errors.OpError) as caught:
        model.fit(dataset, epochs=1, verbose=0, shuffle=False)
    sentence = explain_pipeline_error(caught.value, tmp_path)
    assert sentence is not None and sentence.startswith("Could not read image 'c/2.png': ")


def test_explain_ignores_other_errors_and_follows_causes():
    assert explain_pipeline_error(RuntimeError("Out of memory")) is None
    inner = DataError("Could not read image '/d/x.jpg': empty file (0 bytes).")
    outer = RuntimeError("training failed")
    outer.__cause__ = inner
    assert explain_pipeline_error(outer, "/d") == (
        "Could not read image 'x.jpg': empty file (0 bytes). The file was changed or removed "
        "after the dataset was checked; fix or delete it, then load the dataset again."
    )


def test_decoder_failure_message_has_marker_and_path(tmp_path: Path):
    bad = tmp_path / "x.jpg"
    bad.write_bytes(b"")
    with pytest.raises(DataError, match=r"^Could not read image '.*x\.jpg': empty file"):
        decode_for_pipeline(str(bad), 8, "stretch")


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
