"""Feature caching: run a frozen feature extractor once, train the head on the arrays.

When nothing below the head is trainable (``BuiltModel.fully_frozen_extractor``), every epoch
of ``model.fit`` would push each image through the same frozen backbone again. Computing the
cut output once and fitting the head on it gives the same head at a fraction of the cost.

Memory stays low on a 2.7 GB server: features are written into one preallocated float16 array
per split/view (no per-batch list to concatenate), stored on disk (``core.store.feature_cache``) and
read back memory-mapped; parameter-free head layers (global pooling) are applied to each part
as soon as it exists (``transform``), so the full (N, h, w, c) maps of all views are never in
memory together. ``prepare_cached`` gives the phase's ``PhaseData``; the streamed phase (images
every epoch) is prepared by ``core.train.phase_data``.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.data.augment import build_augmenter
from core.data.pipeline import decode_for_pipeline, explain_pipeline_error
from core.errors import TrainingError
from core.store.feature_cache import (
    FeatureCache,
    cached_extract,
    feature_cache_key,
)
from core.train.phase_data import Items, PhaseData, encode_labels

Progress = Callable[[int, int], None]
Transform = Callable[[np.ndarray], np.ndarray]
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
    return output.result(), _labels(items)


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


def _labels(items: Items) -> np.ndarray:
    """The class indices of ``items`` as int32 (N,)."""
    return np.asarray([label for _, label in items], dtype=np.int32)


def prepare_cached(
    extractor: Any,
    *,
    model_spec: Any,
    data_spec: Any,
    split: Any,
    hashes: dict[str, str],
    batch_size: int,
    views: int,
    seed: int,
    cache: FeatureCache | None,
    outputs: int,
    progress: Callable[[str, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    transform: Transform | None = None,
    root: str | os.PathLike[str] | None = None,
) -> PhaseData:
    """Extracts (or loads from the cache) the features of every split for the head phase.

    With augmentation on, the training split gets ``views`` augmented copies of each image
    (each view its own cache entry, seeded so a rerun gives the same views). ``transform``
    (e.g. the head's global pooling, see ``fold_features``) is applied to each part as soon as
    it is extracted or loaded, so only the transformed arrays stay in memory. ``batch_size`` is
    the extraction batch; ``root`` names unreadable files relative to the dataset folder.
    """
    parts = _PartFeatures(
        extractor, model_spec=model_spec, data_spec=data_spec, hashes=hashes,
        batch_size=batch_size, seed=seed, cache=cache, progress=progress,
        should_stop=should_stop, transform=transform, root=root,
    )  # fmt: skip
    augment = data_spec.augmentation if data_spec.augmentation.enabled else None
    num_classes = len(split.classes)
    train_x, train_labels = _training_part(parts, split, augment, views)
    held_out = _held_out_parts(parts, split, num_classes, outputs)
    return PhaseData(
        train_x=train_x,
        train_y=encode_labels(train_labels, num_classes, outputs),
        validation=held_out.get("val"),
        test=held_out.get("test"),
        train_count=len(train_x),
        batch_size=batch_size,
        arrays=True,
        extract_seconds=parts.seconds,
        extracted_images=parts.images,
        from_cache=parts.hits == parts.count,
    )


@dataclass
class _PartFeatures:
    """Features of one part (a split, or one augmented view of it), cached or extracted.

    Tallies what it did over all parts, for the ``PhaseData`` of ``prepare_cached``.
    """

    extractor: Any
    model_spec: Any
    data_spec: Any
    hashes: dict[str, str]
    batch_size: int
    seed: int
    cache: FeatureCache | None
    progress: Callable[[str, int, int], None] | None
    should_stop: Callable[[], bool] | None
    transform: Transform | None
    root: str | os.PathLike[str] | None
    seconds: float = 0.0  # spent extracting or loading
    images: int = 0  # pushed through the extractor (cache misses)
    hits: int = 0  # parts loaded from the cache
    count: int = 0  # parts asked for

    def features(self, name: str, items: Items, view: int, augment: Any) -> np.ndarray:
        """The (transformed) features of ``items``; ``name`` labels the progress reports."""
        key = feature_cache_key(
            self.model_spec, self.data_spec.resize_mode, items,
            hashes=self.hashes, view=view, augment=augment, seed=self.seed,
        )  # fmt: skip
        features, hit, seconds = cached_extract(
            self.cache, key, len(items), lambda: self._extract(name, items, view, augment)
        )
        self.seconds += seconds
        self.images += 0 if hit else len(items)
        self.hits += int(hit)
        self.count += 1
        return self.transform(features) if self.transform is not None else _as_float32(features)

    def _extract(self, name: str, items: Items, view: int, augment: Any) -> np.ndarray:
        progress = self.progress
        features, _ = extract_features(
            self.extractor,
            items,
            image_size=self.model_spec.resolved_input_size,
            resize_mode=self.data_spec.resize_mode,
            batch_size=self.batch_size,
            augmenter=build_augmenter(augment, self.seed + view) if augment is not None else None,
            should_stop=self.should_stop,
            progress=(lambda done, total: progress(name, done, total)) if progress else None,
            # float16 halves the cached arrays (widened to float32 on overflow: ``_Output``)
            dtype=np.float16 if self.cache is not None else np.float32,
            root=self.root,
        )
        return features


def _training_part(
    parts: _PartFeatures, split: Any, augment: Any, views: int
) -> tuple[np.ndarray, np.ndarray]:
    """Features and class indices of the training split, views after one another.

    With ``augment`` set there are ``views`` augmented copies of each image, else one plain one.
    """
    views_used = views if augment else 1
    features = np.concatenate(
        [parts.features("train", split.train, view, augment) for view in range(views_used)]
    )
    return features, np.tile(_labels(split.train), views_used)


def _held_out_parts(
    parts: _PartFeatures, split: Any, num_classes: int, outputs: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(features, targets) of the non-empty "val" and "test" splits, never augmented."""
    held_out = {}
    for name in ("val", "test"):
        items = getattr(split, name)
        if items:
            features = parts.features(name, items, 0, None)
            held_out[name] = (features, encode_labels(_labels(items), num_classes, outputs))
    return held_out


def _as_float32(features: np.ndarray) -> np.ndarray:
    """An in-memory float32 copy (Keras trains on float32; a memory map is read once here)."""
    return np.asarray(features, dtype=np.float32)
