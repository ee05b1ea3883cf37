"""Near-duplicate images within a split and across train/val/test (leaks), and a dedupe.

Two images are flagged as a pair when any of these holds:

- the same file bytes (SHA-1 from the scan): an exact copy;
- perceptual hashes (``imagehash.phash``, 64 bits, DCT of a 32×32 grey thumbnail) at most
  ``HASH_DISTANCE`` bits apart: the same picture resized, recompressed or slightly recoloured;
- cosine similarity of backbone features (when given, e.g. a run's cached features) at least
  ``MIN_COSINE``: the same scene seen almost the same way (a burst of photos, a crop).

A pair across splits is a *leak*: the model is scored on an image it has (almost) trained on.
``dedupe_removals`` keeps one image of each group of duplicates (the one in the earliest split,
train first, so held-out copies of training images are dropped), and
``write_deduplicated_version`` writes the result as a new dataset version
(``core.data.dataset_version``); the original folder is never changed.

Comparing every pair is quadratic; it is done in blocks (one block of rows against all images
at a time), so memory stays at ``block × N`` and 10,000 images take seconds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.data.dataset_version import relative_path, version_images, write_dataset_version
from core.data.images import load_image
from core.data.report import DatasetReport
from core.data.splits import SplitData

HASH_DISTANCE = 3  # of 64 bits: resized copies measured 0-2; distinct drawn-sample pairs 4+
MIN_COSINE = 0.95  # of pooled backbone features; see bench/beyond.py for the clean-set count
SPLIT_ORDER = ("train", "val", "test")
_BLOCK = 1024


@dataclass(frozen=True)
class DuplicatePair:
    """Two images that are (nearly) the same picture; paths relative to the dataset folder."""

    first: str
    second: str
    first_split: str
    second_split: str
    first_label: str
    second_label: str
    exact: bool  # same file bytes
    hash_distance: int  # bits that differ between the perceptual hashes
    cosine: float | None  # of the features, when features were compared

    @property
    def leak(self) -> bool:
        """True when the two images are in different splits."""
        return self.first_split != self.second_split

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, with ``leak`` added."""
        return {**asdict(self), "leak": self.leak}


@dataclass(frozen=True)
class DuplicateReport:
    """Every flagged pair (leaks first, closest first) and counts per kind of pair."""

    pairs: list[DuplicatePair]
    images: int  # images compared
    features_used: bool
    root: str = ""  # the dataset folder the paths are relative to (to show the images; a
    # server path, so it is left out of ``to_dict``)

    @property
    def leaks(self) -> list[DuplicatePair]:
        """The pairs across splits."""
        return [pair for pair in self.pairs if pair.leak]

    def counts(self) -> dict[str, int]:
        """Pairs per kind: "train" (within train), ..., "train-test" (a leak), ..."""
        result: dict[str, int] = {}
        for pair in self.pairs:
            ends = sorted((pair.first_split, pair.second_split), key=SPLIT_ORDER.index)
            key = ends[0] if not pair.leak else f"{ends[0]}-{ends[1]}"
            result[key] = result.get(key, 0) + 1
        return result

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {
            "images": self.images,
            "features_used": self.features_used,
            "pairs": len(self.pairs),
            "leaks": len(self.leaks),
            "counts": self.counts(),
            "flagged": [pair.to_dict() for pair in self.pairs],
        }


def perceptual_hashes(paths: list[str], workers: int = 2) -> np.ndarray:
    """64-bit perceptual hashes (``imagehash.phash``) of the images, as uint64 (N,).

    Images are decoded with the studio's decoder (EXIF rotation, RGB), a few in parallel
    (PIL releases the GIL while decoding).

    Raises:
        DataError: an image cannot be decoded (the file is named).
    """

    def one(path: str) -> np.uint64:
        import imagehash

        bits = imagehash.phash(load_image(path)).hash.reshape(-1)
        return np.frombuffer(np.packbits(bits).tobytes(), dtype=">u8")[0].astype(np.uint64)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return np.asarray(list(pool.map(one, paths)), dtype=np.uint64)


def similar_pairs(
    hashes: np.ndarray,
    features: np.ndarray | None = None,
    *,
    max_distance: int = HASH_DISTANCE,
    min_cosine: float = MIN_COSINE,
    same: np.ndarray | None = None,
) -> list[tuple[int, int, int, float | None]]:
    """Index pairs (i < j) that are near-duplicates by hash, features or ``same`` group.

    Args:
        hashes: uint64 perceptual hashes (N,).
        features: optional (N, D) features; rows are compared by cosine similarity.
        max_distance: most differing hash bits for a pair.
        min_cosine: least cosine similarity for a pair.
        same: optional (N,) group ids (e.g. content hashes as ints): equal ids are a pair.

    Returns:
        ``(i, j, hash_distance, cosine or None)`` for every flagged pair.
    """
    unit = _unit_rows(features) if features is not None else None
    found = []
    for start in range(0, len(hashes), _BLOCK):
        rows = slice(start, min(start + _BLOCK, len(hashes)))
        distance = np.bitwise_count(hashes[rows, None] ^ hashes[None, :]).astype(np.int16)
        flagged = distance <= max_distance
        cosine = unit[rows] @ unit.T if unit is not None else None
        if cosine is not None:
            flagged |= cosine >= min_cosine
        if same is not None:
            flagged |= same[rows, None] == same[None, :]
        flagged &= np.arange(len(hashes))[None, :] > np.arange(rows.start, rows.stop)[:, None]
        for i, j in zip(*np.nonzero(flagged), strict=True):
            similarity = float(cosine[i, j]) if cosine is not None else None
            found.append((start + int(i), int(j), int(distance[i, j]), similarity))
    return found


def _unit_rows(features: np.ndarray) -> np.ndarray:
    matrix = np.asarray(features, dtype=np.float32).reshape(len(features), -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def find_near_duplicates(
    split: SplitData,
    root: str | os.PathLike[str],
    *,
    sha1: Mapping[str, str] | None = None,
    features: Mapping[str, np.ndarray] | None = None,
    hashes: Callable[[list[str]], np.ndarray] = perceptual_hashes,
    max_distance: int = HASH_DISTANCE,
    min_cosine: float = MIN_COSINE,
) -> DuplicateReport:
    """Near-duplicate pairs among all images of ``split`` (see the module docstring).

    Args:
        split: the images (absolute paths) of each split.
        root: the dataset folder (pairs name paths relative to it).
        sha1: absolute path -> content hash (from the scan), for exact copies.
        features: split name -> (N, D) features in the split's order (optional).
        hashes: computes the perceptual hashes (a test may pass a cheaper one).
        max_distance: most differing hash bits for a pair.
        min_cosine: least feature cosine similarity for a pair.
    """
    entries = [(name, path, index) for name in SPLIT_ORDER for path, index in getattr(split, name)]
    paths = [path for _, path, _ in entries]
    known = sha1 or {}
    groups = {digest: n for n, digest in enumerate(sorted(set(known.values())))}
    same = np.asarray([groups.get(known.get(path, ""), -1 - n) for n, path in enumerate(paths)])
    vectors = None
    if features is not None:
        parts = [np.asarray(features[name]) for name in SPLIT_ORDER if getattr(split, name)]
        vectors = np.concatenate([part.reshape(len(part), -1) for part in parts])
    pairs = []
    found = similar_pairs(
        hashes(paths), vectors, max_distance=max_distance, min_cosine=min_cosine, same=same
    )
    for i, j, distance, cosine in found:
        (split_i, path_i, label_i), (split_j, path_j, label_j) = entries[i], entries[j]
        pairs.append(
            DuplicatePair(
                relative_path(path_i, root),
                relative_path(path_j, root),
                split_i,
                split_j,
                split.classes[label_i],
                split.classes[label_j],
                bool(same[i] == same[j]),
                distance,
                cosine,
            )
        )
    pairs.sort(key=lambda p: (not p.leak, not p.exact, p.hash_distance, -(p.cosine or 0.0)))
    return DuplicateReport(pairs, len(paths), vectors is not None, str(root))


def dataset_near_duplicates(report: DatasetReport, split: SplitData) -> DuplicateReport:
    """Near-duplicates of a scanned dataset before training (file and perceptual hashes only).

    For the Data page: ``split`` is the split training would use (``split_dataset``), so
    pairs across its splits are the leaks a run would have.
    """
    sha1 = {record.path: record.sha1 for record in report.records}
    return find_near_duplicates(split, report.root, sha1=sha1)


def dedupe_removals(pairs: list[DuplicatePair]) -> list[str]:
    """Relative paths to remove so that one image of each group of duplicates is left.

    Groups are the connected pairs; the image kept is the one in the earliest split (train,
    then val, then test), then the first path, so a leak loses its held-out copy.
    """
    parent: dict[str, str] = {}

    def find(path: str) -> str:
        while parent.setdefault(path, path) != path:
            parent[path] = parent[parent[path]]
            path = parent[path]
        return path

    where = {}
    for pair in pairs:
        where[pair.first], where[pair.second] = pair.first_split, pair.second_split
        parent[find(pair.first)] = find(pair.second)
    groups: dict[str, list[str]] = {}
    for path in where:
        groups.setdefault(find(path), []).append(path)
    removed = []
    for members in groups.values():
        members.sort(key=lambda path: (SPLIT_ORDER.index(where[path]), path))
        removed.extend(members[1:])
    return sorted(removed)


def write_deduplicated_version(
    split: SplitData,
    root: str | os.PathLike[str],
    report: DuplicateReport,
    dest: str | os.PathLike[str],
) -> Path:
    """Writes a dataset version without the duplicates (``dedupe_removals``); returns its folder.

    The version keeps the split (given as train/val/test folders), so a retrain on it holds out
    the same images minus the leaked copies. The original dataset is never changed.
    """
    removed = dedupe_removals(report.pairs)
    changes = [{"path": path, "action": "remove", "why": "near-duplicate"} for path in removed]
    return write_dataset_version(
        dest,
        version_images(split, root, remove=removed),
        kind="dedupe",
        source_root=str(root),
        changes=changes,
    )
