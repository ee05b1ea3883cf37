"""Running a frozen feature extractor over images once, in bounded batches.

``extract_features`` decodes the next batch on a thread while the extractor runs on the current
one (a compiled ``tf.function``, traced once per extractor), writes the features into one
preallocated array (float16 when asked, widened to float32 on overflow) and checks Stop between
batches. The feature cache (``core.train.features``), the analyses and the Ray extraction
(``core.cluster.features``) all extract through it, so they compute the same numbers.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from core.data.pipeline import decode_for_pipeline, explain_pipeline_error
from core.errors import TrainingError
from core.train.phase_data import Items

Progress = Callable[[int, int], None]
FLOAT16_LIMIT = 65000.0  # larger activations are kept in float32


class StopRequested(Exception):
    """The user pressed Stop while features were being extracted."""


_compiled: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _inference_function(extractor: Any) -> Any:
    """A compiled ``extractor(images, training=False)``, traced once per extractor.

    ``model.predict`` costs a fixed overhead per call (a new data iterator each time) that is
    a large share of the time on small batches; a ``tf.function`` traced once does not. The
    function is built once per extractor (weakly referenced), so train, val and test splits
    share the trace.
    """
    function = _compiled.get(extractor)
    if function is None:
        import tensorflow as tf

        model_ref = weakref.ref(extractor)

        def infer(images: Any) -> Any:
            model = model_ref()
            assert model is not None
            return model(images, training=False)

        function = tf.function(infer, reduce_retracing=True)
        _compiled[extractor] = function
    return function


def _load_batch(
    items: Items, image_size: int, resize_mode: str, root: str | os.PathLike[str] | None
) -> np.ndarray:
    """Decodes a batch with the pipeline's decoder; an unreadable file fails the run, named."""
    arrays = []
    for path, _ in items:
        try:
            arrays.append(decode_for_pipeline(path, image_size, resize_mode))
        except Exception as error:
            raise TrainingError(explain_pipeline_error(error, root) or str(error)) from error
    return np.stack(arrays)


class _Output:
    """The preallocated result array of an extraction, widened to float32 on overflow."""

    def __init__(self, count: int, dtype: Any) -> None:
        self.count, self.dtype = count, np.dtype(dtype)
        self.array: np.ndarray | None = None

    def put(self, start: int, features: np.ndarray) -> None:
        if self.array is None:
            self.array = np.empty((self.count, *features.shape[1:]), self.dtype)
        if self.array.dtype == np.float16 and float(np.abs(features).max()) > FLOAT16_LIMIT:
            self.array = self.array.astype(np.float32)  # rare: keep exact values instead
        self.array[start : start + len(features)] = features

    def result(self) -> np.ndarray:
        """The filled array; an empty float32 array when there were no items."""
        return self.array if self.array is not None else np.zeros((0,), np.float32)


def extract_features(
    extractor: Any,
    items: Items,
    *,
    image_size: int,
    resize_mode: str,
    batch_size: int = 32,
    augmenter: Any = None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    dtype: Any = np.float32,
    root: str | os.PathLike[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Runs ``extractor`` over all images once (decoding the next batch while one runs).

    Args:
        extractor: the frozen feature extractor (raw 0..255 images in).
        items: (path, class index) pairs.
        image_size: side of the square input.
        resize_mode: how images are resized.
        batch_size: images per extractor call (activation memory grows with it).
        augmenter: optional Keras augmentation applied to each batch first.
        progress: called with (images done, total) after every batch.
        should_stop: polled between batches.
        dtype: dtype of the result; float16 halves its memory (widened to float32 when a value
            is beyond float16's range).
        root: the dataset folder, so an unreadable file is named relative to it.

    Returns:
        ``(features, labels)``: (N, *cut_shape) of ``dtype`` (or float32) and int32 (N,).

    Raises:
        TrainingError: an image cannot be read (the file is named).
        StopRequested: ``should_stop()`` became true.
    """
    output = _Output(len(items), dtype)
    done = 0
    with ThreadPoolExecutor(max_workers=1) as pool:
        for images in _prefetched_batches(pool, items, batch_size, image_size, resize_mode, root):
            if should_stop is not None and should_stop():
                raise StopRequested()
            output.put(done, _run_extractor(extractor, images, augmenter))
            done += len(images)
            if progress is not None:
                progress(done, len(items))
    return output.result(), np.asarray([label for _, label in items], dtype=np.int32)


def _prefetched_batches(
    pool: ThreadPoolExecutor,
    items: Items,
    batch_size: int,
    image_size: int,
    resize_mode: str,
    root: str | os.PathLike[str] | None,
) -> Iterator[np.ndarray]:
    """Yields the decoded batches in order, decoding the next one on ``pool`` meanwhile.

    Decoding (PIL, I/O) then overlaps the extractor call on the current batch.
    """
    batches = [items[i : i + batch_size] for i in range(0, len(items), batch_size)]

    def load(index: int) -> Any:
        return pool.submit(_load_batch, batches[index], image_size, resize_mode, root)

    pending = load(0) if batches else None
    for index in range(len(batches)):
        assert pending is not None
        images = pending.result()
        if index + 1 < len(batches):
            pending = load(index + 1)
        yield images


def _run_extractor(extractor: Any, images: np.ndarray, augmenter: Any) -> np.ndarray:
    """One batch through the (optional) augmenter, then the compiled frozen extractor."""
    if augmenter is not None:
        images = np.asarray(augmenter(images, training=True))
    return np.asarray(_inference_function(extractor)(images))
