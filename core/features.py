"""Feature caching: run a frozen feature extractor once, train the head on the arrays.

When nothing below the head is trainable (``BuiltModel.fully_frozen_extractor``), every epoch
of ``model.fit`` would push each image through the same frozen backbone again. Computing the
cut output once and fitting the head on it gives the same head at a fraction of the cost.

The arrays are also kept on disk under ``Settings.cache_dir``, keyed by a content hash of
everything that changes them (backbone, weights, cut, surgery, input size, resize mode, the
file list with each file's content hash, augmentation views), so a second run with another head
on the same data and cut skips the extraction entirely.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import DataError, TrainingError
from core.images import load_image_array

Items = Sequence[tuple[str, int]]
Progress = Callable[[int, int], None]


class StopRequested(Exception):
    """The user pressed Stop while features were being extracted."""


def file_sha1(path: str) -> str:
    """SHA-1 of a file's bytes (for the cache key)."""
    digest = hashlib.sha1(usedforsecurity=False)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def feature_cache_key(
    model_spec: Any,
    resize_mode: str,
    items: Items,
    *,
    hashes: dict[str, str] | None = None,
    view: int = 0,
    augment: Any = None,
    seed: int = 0,
) -> str:
    """Returns a hex key that changes whenever the cached features would change.

    Args:
        model_spec: the ``ModelSpec``; its head and freeze settings do not affect the features
            and are left out, so another head on the same cut reuses the cache.
        resize_mode: how images are resized.
        items: (path, class index) pairs, in order.
        hashes: known SHA-1 per path (from the dataset scan); missing ones are computed.
        view: index of the augmented view (0 = plain images when ``augment`` is None).
        augment: the ``AugmentSpec`` when ``view`` is an augmented view.
        seed: the training seed; part of the key for random-initialized backbones (their
            weights depend on it) and for augmented views.
    """
    import keras  # lazily: keeps `import core.features` cheap

    spec = model_spec.to_dict()
    spec.pop("head", None)
    spec.pop("freeze", None)
    spec["input_size"] = model_spec.resolved_input_size
    known = hashes or {}
    payload = {
        "spec": spec,
        "resize_mode": resize_mode,
        "files": [[path, label, known.get(path) or file_sha1(path)] for path, label in items],
        "view": view,
        "augment": augment.to_dict() if augment is not None else None,
        "seed": seed if (augment is not None or spec.get("weights") != "imagenet") else None,
        "keras": keras.__version__,
    }
    text = json.dumps(payload, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


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


def _load_batch(items: Items, image_size: int, resize_mode: str) -> np.ndarray:
    arrays = []
    for path, _ in items:
        try:
            arrays.append(load_image_array(path, image_size, resize_mode))
        except (DataError, OSError) as error:
            raise TrainingError(
                f"Training stopped: the image '{path}' could not be read ({error}). "
                "Remove or replace it and start again."
            ) from error
    return np.stack(arrays)


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
) -> tuple[np.ndarray, np.ndarray]:
    """Runs ``extractor`` over all images once (decoding the next batch while one runs).

    Returns:
        ``(features, labels)``: float32 (N, *cut_shape) and int32 (N,).

    Raises:
        TrainingError: an image cannot be read (the file is named).
        StopRequested: ``should_stop()`` became true.
    """
    batches = [items[i : i + batch_size] for i in range(0, len(items), batch_size)]
    outputs: list[np.ndarray] = []
    done = 0
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(_load_batch, batches[0], image_size, resize_mode) if batches else None
        for index in range(len(batches)):
            assert pending is not None
            images = pending.result()
            if index + 1 < len(batches):
                pending = pool.submit(_load_batch, batches[index + 1], image_size, resize_mode)
            if should_stop is not None and should_stop():
                raise StopRequested()
            if augmenter is not None:
                images = np.asarray(augmenter(images, training=True))
            features = _inference_function(extractor)(images)
            outputs.append(np.asarray(features, dtype=np.float32))
            done += len(images)
            if progress is not None:
                progress(done, len(items))
    labels = np.asarray([label for _, label in items], dtype=np.int32)
    if not outputs:
        return np.zeros((0,), np.float32), labels
    return np.concatenate(outputs), labels


class FeatureCache:
    """Feature arrays on disk, one ``<key>.npz`` per (split, view); writes are atomic."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def _file(self, key: str) -> Path:
        return self.folder / f"{key}.npz"

    def load(self, key: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Returns cached ``(features, labels)`` or None (missing or unreadable file)."""
        try:
            with np.load(self._file(key), allow_pickle=False) as data:
                return data["features"], data["labels"]
        except (OSError, ValueError, KeyError):
            return None

    def save(self, key: str, features: np.ndarray, labels: np.ndarray) -> None:
        """Stores the arrays (temp file + rename, so a reader never sees half a file)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{key}.", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, features=features, labels=labels)
            os.replace(tmp, self._file(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def cached_extract(
    cache: FeatureCache | None, key: str, extract: Callable[[], tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray, bool, float]:
    """Loads features from ``cache`` or computes them with ``extract()`` and stores them.

    Returns:
        ``(features, labels, from_cache, seconds)``.
    """
    start = time.perf_counter()
    if cache is not None:
        hit = cache.load(key)
        if hit is not None:
            return hit[0], hit[1], True, time.perf_counter() - start
    features, labels = extract()
    if cache is not None:
        # A full disk only costs the next run an extraction.
        with contextlib.suppress(OSError):
            cache.save(key, features, labels)
    return features, labels, False, time.perf_counter() - start


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
) -> PhaseData:
    """Extracts (or loads from the cache) the features of every split for the head phase.

    With augmentation on, the training split gets ``views`` augmented copies of each image
    (each view its own cache entry, seeded so a rerun gives the same views).
    """
    size = model_spec.resolved_input_size
    augment = data_spec.augmentation if data_spec.augmentation.enabled else None
    num_classes = len(split.classes)
    totals = {"seconds": 0.0, "images": 0, "hits": 0, "parts": 0}

    def features_of(name: str, items: Items, view: int, aug: Any) -> tuple[np.ndarray, np.ndarray]:
        augmenter = None
        if aug is not None:
            from core.augment import build_augmenter

            augmenter = build_augmenter(aug, seed + view)
        key = feature_cache_key(
            model_spec,
            data_spec.resize_mode,
            items,
            hashes=hashes,
            view=view,
            augment=aug,
            seed=seed,
        )
        x, y, hit, seconds = cached_extract(
            cache,
            key,
            lambda: extract_features(
                extractor,
                items,
                image_size=size,
                resize_mode=data_spec.resize_mode,
                batch_size=batch_size,
                augmenter=augmenter,
                should_stop=should_stop,
                progress=(lambda done, total: progress(name, done, total)) if progress else None,
            ),
        )
        totals["seconds"] += seconds
        totals["images"] += 0 if hit else len(items)
        totals["hits"] += int(hit)
        totals["parts"] += 1
        return x, y

    train_parts = [
        features_of("train", split.train, view, augment) for view in range(views if augment else 1)
    ]
    train_x = np.concatenate([x for x, _ in train_parts])
    train_y = np.concatenate([y for _, y in train_parts])
    held_out = {}
    for name in ("val", "test"):
        items = getattr(split, name)
        if items:
            x, y = features_of(name, items, 0, None)
            held_out[name] = (x, encode_labels(y, num_classes, outputs))
    return PhaseData(
        train_x=train_x,
        train_y=encode_labels(train_y, num_classes, outputs),
        validation=held_out.get("val"),
        test=held_out.get("test"),
        train_count=len(train_x),
        batch_size=batch_size,
        arrays=True,
        extract_seconds=totals["seconds"],
        extracted_images=int(totals["images"]),
        from_cache=totals["hits"] == totals["parts"],
    )


def prepare_streamed(
    *,
    split: Any,
    data_spec: Any,
    image_size: int,
    batch_size: int,
    seed: int,
    outputs: int,
    augment_train: bool = True,
) -> PhaseData:
    """Streaming ``tf.data`` datasets (``core.pipeline``) for end-to-end training."""
    import tensorflow as tf

    from core.pipeline import make_dataset

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


def fold_head_prefix(head: Any) -> tuple[list[Any], Any]:
    """Splits a chain-shaped head into leading parameter-free layers and a trainable rest.

    A head that starts with global pooling (or Flatten) gives the same result whether the
    pooling runs every epoch or once on the cached features, so it is folded into the cache:
    the head then trains on (N, channels) arrays instead of (N, h, w, channels) ones, which
    is what makes training on cached features cheap. The rest reuses the head's own layer
    objects, so the full model sees the trained weights.

    Returns:
        ``(prefix_layers, trainable_head)``; ``([], head)`` when nothing can be folded.
    """
    import keras

    foldable = (
        keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D, keras.layers.Flatten,
    )  # fmt: skip
    layers = list(head.layers)
    if not layers or not isinstance(layers[0], keras.layers.InputLayer):
        return [], head
    try:  # only a simple chain (each layer fed by the previous one) can be split safely
        if any(layer.input is not layers[i].output for i, layer in enumerate(layers[1:])):
            return [], head
    except (AttributeError, ValueError):
        return [], head
    prefix = []
    for layer in layers[1:]:
        if not isinstance(layer, foldable) or layer.weights:
            break
        prefix.append(layer)
    if not prefix or len(prefix) == len(layers) - 1:
        return [], head
    inputs = keras.Input(shape=tuple(prefix[-1].output.shape[1:]), name="pooled_features")
    outputs = inputs
    for layer in layers[1 + len(prefix) :]:
        outputs = layer(outputs)
    return prefix, keras.Model(inputs, outputs, name="head_after_pooling")


def fold_phase_data(data: PhaseData, layers: list[Any], batch: int = 256) -> PhaseData:
    """Applies the folded head layers to every cached array of ``data``."""
    import keras

    def apply(features: np.ndarray) -> np.ndarray:
        parts = []
        for start in range(0, len(features), batch):
            values = features[start : start + batch]
            for layer in layers:
                values = layer(values)
            parts.append(np.asarray(keras.ops.convert_to_numpy(values), dtype=np.float32))
        return np.concatenate(parts) if parts else features

    data.train_x = apply(data.train_x)
    if data.validation is not None:
        data.validation = (apply(data.validation[0]), data.validation[1])
    if data.test is not None:
        data.test = (apply(data.test[0]), data.test[1])
    return data
