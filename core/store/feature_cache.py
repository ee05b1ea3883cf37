"""The on-disk cache of extracted backbone features, and its content-hash key.

Each entry is one ``<key>.npy`` file holding the cut output of one split (or one augmented
view of the training split), in float16 when the values fit (half the disk and memory of
float32; activations of the supported backbones are far inside float16's range, and the
rounding, about 0.05 %, is far below what changes a trained head). Entries are read back
memory-mapped, so a cache hit costs almost no memory until the pages are actually read.

The key is a hash of everything that changes the features (backbone, weights, cut, surgery,
input size, resize mode, the file list with each file's content hash, augmentation view), so a
second run with another head on the same data and cut skips the extraction entirely.

Loading an entry refreshes its modification time, which ``core.store.disk.trim_disk`` uses to
evict the least recently used entries first when the disk cap is reached.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

Items = Sequence[tuple[str, int]]
FEATURES_FOLDER = "features"  # sub-folder of ``Settings.cache_dir``
ENTRY_SUFFIX = ".npy"


def feature_cache_folder(cache_dir: str | os.PathLike[str]) -> Path:
    """The folder of feature entries inside ``Settings.cache_dir``."""
    return Path(cache_dir) / FEATURES_FOLDER


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
        model_spec: the ``ModelConfig``; its head and freeze settings do not affect the features
            and are left out, so another head on the same cut reuses the cache.
        resize_mode: how images are resized.
        items: (path, class index) pairs, in order.
        hashes: known SHA-1 per path (from the dataset scan); missing ones are computed.
        view: index of the augmented view (0 = plain images when ``augment`` is None).
        augment: the ``AugmentConfig`` when ``view`` is an augmented view.
        seed: the training seed; part of the key for random-initialized backbones (their
            weights depend on it) and for augmented views.
    """
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
        "keras": keras_version(),
    }
    text = json.dumps(payload, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def keras_version() -> str:
    """Keras's version from the installed package's metadata, WITHOUT importing it.

    Importing keras (and TensorFlow with it) for this string cost the analyses that only read
    cached features ~650 MB and several seconds: they need no TensorFlow otherwise.
    """
    return version("keras")


@dataclass(frozen=True)
class CacheEntry:
    """One stored feature array: its file, size and when a run last used it."""

    path: Path
    size: int
    last_used: float


class FeatureCache:
    """Feature arrays on disk, one ``<key>.npy`` per (split, view); writes are atomic."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def _file(self, key: str) -> Path:
        return self.folder / f"{key}{ENTRY_SUFFIX}"

    def load(self, key: str, count: int | None = None) -> np.ndarray | None:
        """Returns the cached features, memory-mapped read-only, or None.

        Args:
            key: the entry's key.
            count: the expected number of rows; an entry with another count is ignored.

        A missing, damaged or mismatched entry returns None (it is then recomputed). A hit
        marks the entry as just used (for the least-recently-used eviction).
        """
        path = self._file(key)
        try:
            features = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            return None
        if not isinstance(features, np.ndarray) or (count is not None and len(features) != count):
            return None
        with contextlib.suppress(OSError):
            os.utime(path)
        return features

    def save(self, key: str, features: np.ndarray) -> None:
        """Stores the array (temp file + rename, so a reader never sees half a file)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{key}.", suffix=ENTRY_SUFFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, features, allow_pickle=False)
            os.replace(tmp, self._file(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def entries(self) -> list[CacheEntry]:
        """Every complete entry, least recently used first (temp files are left out)."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.glob(f"*{ENTRY_SUFFIX}"):
            if path.name.startswith("."):
                continue  # a write in progress
            with contextlib.suppress(OSError):
                info = path.stat()
                found.append(CacheEntry(path, info.st_size, info.st_mtime))
        return sorted(found, key=lambda entry: entry.last_used)

    def size_bytes(self) -> int:
        """Bytes used by the folder (entries and any temp files)."""
        if not self.folder.is_dir():
            return 0
        total = 0
        for path in self.folder.iterdir():
            with contextlib.suppress(OSError):
                total += path.stat().st_size
        return total


def cached_extract(
    cache: FeatureCache | None, key: str, count: int, extract: Callable[[], np.ndarray]
) -> tuple[np.ndarray, bool, float]:
    """Loads features from ``cache`` or computes them with ``extract()`` and stores them.

    Args:
        cache: the cache, or None to always compute.
        key: the entry's key (``feature_cache_key``).
        count: number of images (rows) the features must have.
        extract: computes the features.

    Returns:
        ``(features, from_cache, seconds)``; cached features are memory-mapped read-only.
    """
    start = time.perf_counter()
    if cache is not None:
        hit = cache.load(key, count)
        if hit is not None:
            return hit, True, time.perf_counter() - start
    features = extract()
    if cache is not None:
        # A full disk only costs the next run an extraction.
        with contextlib.suppress(OSError):
            cache.save(key, features)
    return features, False, time.perf_counter() - start
