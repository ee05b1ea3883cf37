"""tf.data input pipeline: file paths in, batches of raw RGB float32 images out.

Images are decoded by the studio's one PIL decoder (``core.data.images.load_image_array``) inside
``tf.numpy_function``, so training sees exactly the pixels evaluation and prediction see. The
dataset holds only the file paths: images stream from disk batch by batch (no ``.cache()``), so
memory stays flat as the dataset grows. Augmentation, when given, runs on batches in the
pipeline; callers pass it for the training split only. A file that cannot be read any more is
never skipped silently: iterating raises an error naming it (``explain_pipeline_error``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.config.data import RESIZE_MODES, AugmentConfig, DataConfig
from core.data.augment import build_augmenter
from core.data.images import ImageDecodeError, load_image_array
from core.data.report import DatasetReport
from core.data.scan import scan_dataset
from core.data.splits import SplitData, split_dataset
from core.errors import DataError

if TYPE_CHECKING:
    import tensorflow as tf

# Start of the message of the error raised for a file that cannot be decoded mid-pipeline.
# TensorFlow re-raises it as an InvalidArgumentError whose text contains this message, which
# ``explain_pipeline_error`` recognises.
READ_ERROR_MARKER = "Could not read image"
_READ_ERROR = re.compile(
    re.escape(READ_ERROR_MARKER) + r" '(?P<path>[^\n]+?)': (?P<reason>[^\n]*?)\.?$", re.MULTILINE
)


def decode_for_pipeline(path: str, image_size: int, resize_mode: str) -> np.ndarray:
    """Decodes one image for the pipeline; a failure names the file (see ``READ_ERROR_MARKER``).

    Raises:
        DataError: "Could not read image '<path>': <reason>." for any decoding failure.
    """
    try:
        return load_image_array(path, image_size, resize_mode)
    except ImageDecodeError as error:
        reason = error.reason
    except Exception as error:  # a decoder bug on a hostile file: still name the file
        reason = f"could not be decoded ({type(error).__name__}: {error})"
    raise DataError(f"{READ_ERROR_MARKER} '{path}': {reason}.")


def explain_pipeline_error(
    error: BaseException, root: str | os.PathLike[str] | None = None
) -> str | None:
    """Turns the error raised while iterating a dataset into a sentence for the user.

    A file that became unreadable after the scan (deleted, overwritten, truncated) makes
    iteration raise a TensorFlow error (``InvalidArgumentError``) that wraps the pipeline's
    ``DataError``. This finds that message in the error or its causes.

    Args:
        error: the exception caught around ``model.fit`` or a loop over the dataset.
        root: the dataset folder; when given, the file is named relative to it.

    Returns:
        A plain sentence naming the file and the reason, or None when the error is not about
        an unreadable image (then it is some other failure and should be handled as such).
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        match = _READ_ERROR.search(str(current))
        if match:
            return _read_error_sentence(match.group("path"), match.group("reason"), root)
        current = current.__cause__ or current.__context__
    return None


def _read_error_sentence(path: str, reason: str, root: str | os.PathLike[str] | None) -> str:
    shown = path
    if root is not None:
        for base in (Path(root).resolve(), Path(root)):  # the pipeline holds resolved paths
            if Path(path).is_relative_to(base):
                shown = Path(path).relative_to(base).as_posix()
                break
    return (
        f"{READ_ERROR_MARKER} '{shown}': {reason}. The file was changed or removed after the "
        "dataset was checked; fix or delete it, then load the dataset again."
    )


def _check_args(
    items: list[tuple[str, int]], image_size: int, resize_mode: str, batch: int
) -> None:
    if not items:
        raise ValueError("There are no images in this split.")
    if image_size < 8:
        raise ValueError(f"Image size must be at least 8 pixels, got {image_size}.")
    if resize_mode not in RESIZE_MODES:
        raise ValueError(f"Resize mode must be one of {', '.join(RESIZE_MODES)}.")
    if batch < 1:
        raise ValueError(f"Batch size must be at least 1, got {batch}.")


def make_dataset(
    items: list[tuple[str, int]],
    *,
    image_size: int,
    resize_mode: str = "stretch",
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    augment: AugmentConfig | None = None,
) -> tf.data.Dataset:
    """Builds a streaming dataset of (images, labels) batches.

    Args:
        items: (file path, class index) pairs, e.g. ``SplitData.train``.
        image_size: side of the square images the model takes.
        resize_mode: "stretch", "crop" or "pad".
        batch_size: images per batch (the last batch may be smaller).
        shuffle: reshuffle the order every epoch (training); seeded, so reproducible.
        seed: seed for the shuffling and the augmentation.
        augment: augmentation for this split (pass it for the training split only).

    Returns:
        ``tf.data.Dataset`` of (float32 (B, size, size, 3) in 0..255, int32 (B,)).

    Raises:
        ValueError: on an empty split or a bad size/mode/batch size.

    Iterating the dataset raises a TensorFlow error (``InvalidArgumentError``) when a file
    cannot be read any more; ``explain_pipeline_error`` turns it into a sentence naming it.
    """
    _check_args(items, image_size, resize_mode, batch_size)
    import tensorflow as tf

    dataset = _path_dataset(items, shuffle=shuffle, seed=seed)
    # A file deleted or damaged after the scan stops the iteration with an error naming it
    # (see ``explain_pipeline_error``): dropping it silently would change the data trained on.
    dataset = _decoded(dataset, image_size, resize_mode)
    dataset = _augmented(dataset.batch(batch_size), augment, seed)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _path_dataset(items: list[tuple[str, int]], *, shuffle: bool, seed: int) -> tf.data.Dataset:
    """A dataset of (path, label) pairs, reshuffled every epoch when ``shuffle``."""
    import tensorflow as tf

    paths = [path for path, _ in items]
    labels = np.asarray([label for _, label in items], dtype=np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((paths, labels))
    if shuffle:
        # Only the paths are shuffled, so a full-size buffer costs a few bytes per image.
        dataset = dataset.shuffle(len(items), seed=seed, reshuffle_each_iteration=True)
    return dataset


def _decoded(pairs: tf.data.Dataset, image_size: int, resize_mode: str) -> tf.data.Dataset:
    """Maps (path, label) pairs to (image, label) with the studio's PIL decoder, in order."""
    import tensorflow as tf

    def decode(path: bytes) -> np.ndarray:
        return decode_for_pipeline(path.decode("utf-8"), image_size, resize_mode)

    def load(path: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        image = tf.numpy_function(decode, [path], tf.float32, stateful=False)
        image.set_shape((image_size, image_size, 3))
        return image, label

    return pairs.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def _augmented(
    batches: tf.data.Dataset, augment: AugmentConfig | None, seed: int
) -> tf.data.Dataset:
    """``batches`` with the augmentation applied, or unchanged when there is none."""
    import tensorflow as tf

    augmenter = build_augmenter(augment, seed)
    if augmenter is None:
        return batches
    return batches.map(
        lambda images, labels: (augmenter(images, training=True), labels),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def load_split(spec: DataConfig) -> tuple[DatasetReport, SplitData]:
    """Scans ``spec.path`` and splits it with the spec's ratios and seed.

    Raises:
        DataError: when the dataset cannot be used (see ``scan_dataset``).
    """
    report = scan_dataset(spec.path)
    return report, split_dataset(report, spec.val_ratio, spec.test_ratio, spec.seed)


def make_split_datasets(
    split: SplitData, spec: DataConfig, image_size: int, batch_size: int
) -> dict[str, tf.data.Dataset]:
    """Datasets for each non-empty split; only "train" is shuffled and augmented."""
    result = {}
    for name, items in (("train", split.train), ("val", split.val), ("test", split.test)):
        if items:
            training = name == "train"
            result[name] = make_dataset(
                items,
                image_size=image_size,
                resize_mode=spec.resize_mode,
                batch_size=batch_size,
                shuffle=training,
                seed=spec.seed,
                augment=spec.augmentation if training else None,
            )
    return result
