"""Near-duplicates: planted exact and resized copies and a cross-split leak are found."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from core.data.near_duplicates import (
    DuplicatePair,
    dataset_near_duplicates,
    dedupe_removals,
    find_near_duplicates,
    perceptual_hashes,
    similar_pairs,
    write_deduplicated_version,
)
from core.data.scan import scan_dataset
from core.data.splits import SplitData
from tests.helpers.analysis import colour_dataset


def _patterned(path: Path, seed: int, size: int = 64) -> Path:
    """A picture with coarse random structure (distinct pictures get distant hashes)."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    pixels = np.kron(blocks, np.ones((size // 8, size // 8, 1), dtype=np.uint8))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def _given_splits(root: Path) -> Path:
    """train/val/test folders of distinct pictures, two classes."""
    seed = 0
    for split, count in (("train", 6), ("val", 3), ("test", 3)):
        for name in ("ants", "bees"):
            for index in range(count):
                seed += 1
                _patterned(root / split / name / f"{name}{index}.png", seed)
    return root


def test_planted_exact_and_resized_copies_and_leaks_are_found(tmp_path: Path) -> None:
    root = _given_splits(tmp_path / "data")
    clean = scan_dataset(root)
    from core.data.splits import split_dataset

    assert dataset_near_duplicates(clean, split_dataset(clean, 0.2, 0.2, 1)).pairs == []
    shutil.copy(root / "val/ants/ants0.png", root / "train/ants/copy.png")  # exact: a leak
    with Image.open(root / "test/bees/bees1.png") as image:  # resized: a leak
        image.resize((40, 40), Image.Resampling.BILINEAR).save(root / "train/bees/small.png")
    with Image.open(root / "train/ants/ants2.png") as image:  # within train
        image.resize((96, 96)).save(root / "train/ants/big.png")
    scan = scan_dataset(root)
    report = dataset_near_duplicates(scan, split_dataset(scan, 0.2, 0.2, 1))
    found = {frozenset((pair.first, pair.second)): pair for pair in report.pairs}
    exact = found[frozenset(("train/ants/copy.png", "val/ants/ants0.png"))]
    assert exact.exact and exact.leak and exact.hash_distance == 0
    resized = found[frozenset(("train/bees/small.png", "test/bees/bees1.png"))]
    assert resized.leak and not resized.exact and resized.hash_distance <= 2
    within = found[frozenset(("train/ants/ants2.png", "train/ants/big.png"))]
    assert not within.leak
    assert len(report.pairs) == 3 and len(report.leaks) == 2
    assert report.counts() == {"train-val": 1, "train-test": 1, "train": 1}
    assert report.pairs[0].leak  # leaks first


def test_dedupe_keeps_the_training_copy_and_leaves_the_original(tmp_path: Path) -> None:
    root = _given_splits(tmp_path / "data")
    shutil.copy(root / "val/ants/ants0.png", root / "train/ants/copy.png")
    shutil.copy(root / "val/ants/ants0.png", root / "test/ants/again.png")
    scan = scan_dataset(root)
    from core.data.splits import split_dataset

    split = split_dataset(scan, 0.2, 0.2, 1)
    report = dataset_near_duplicates(scan, split)
    assert dedupe_removals(report.pairs) == ["test/ants/again.png", "val/ants/ants0.png"]
    before = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png"))
    images = write_deduplicated_version(split, scan.root, report, tmp_path / "deduped")
    after = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png"))
    assert after == before
    version = scan_dataset(images)
    assert len(version.records) == len(scan.records) - 2
    assert dataset_near_duplicates(version, split_dataset(version, 0.2, 0.2, 1)).pairs == []


def test_feature_similarity_flags_what_the_hash_misses() -> None:
    hashes = np.array([0, 2**64 - 1, 0x00FF00FF00FF00FF], dtype=np.uint64)
    features = np.array([[1.0, 0.0], [0.99, 0.05], [0.0, 1.0]])
    assert similar_pairs(hashes) == []
    pairs = similar_pairs(hashes, features, min_cosine=0.95)
    assert [(i, j) for i, j, _, _ in pairs] == [(0, 1)]
    assert pairs[0][2] == 64 and pairs[0][3] is not None and pairs[0][3] > 0.99


def test_run_features_are_compared_per_split(tmp_path: Path) -> None:
    data, _ = colour_dataset(tmp_path / "data", per_class=3)
    paths = sorted(str(p) for p in data.rglob("*.png"))
    split = SplitData(["blue", "red"], [(paths[0], 0), (paths[3], 1)], [(paths[1], 0)])
    features = {"train": np.array([[1.0, 0.0], [0.0, 1.0]]), "val": np.array([[0.0, 1.0]])}
    report = find_near_duplicates(split, data, features=features)
    assert report.features_used and [p.leak for p in report.pairs] == [True]
    assert report.pairs[0].first == Path(paths[3]).relative_to(data).as_posix()
    assert report.pairs[0].cosine == 1.0


def test_hashes_of_a_resized_copy_match_and_distinct_pictures_do_not(tmp_path: Path) -> None:
    first, second = _patterned(tmp_path / "a.png", 1), _patterned(tmp_path / "b.png", 2)
    with Image.open(first) as image:
        image.resize((37, 37)).save(tmp_path / "a_small.png")
    hashes = perceptual_hashes([str(first), str(tmp_path / "a_small.png"), str(second)])
    distance = np.bitwise_count(hashes[:, None] ^ hashes[None, :])
    assert distance[0, 1] <= 2 and distance[0, 2] > 10


def test_groups_of_pairs_keep_one_image() -> None:
    def pair(a: str, b: str, split_a: str, split_b: str) -> DuplicatePair:
        return DuplicatePair(a, b, split_a, split_b, "x", "x", False, 0, None)

    pairs = [pair("t/2", "v/1", "test", "val"), pair("v/1", "a/1", "val", "train")]
    assert dedupe_removals(pairs) == ["t/2", "v/1"]


def test_the_report_knows_its_folder_but_its_json_does_not(tmp_path: Path) -> None:
    root = _given_splits(tmp_path / "data")
    shutil.copy(root / "val/ants/ants0.png", root / "train/ants/copy.png")
    scan = scan_dataset(root)
    from core.data.splits import split_dataset

    report = dataset_near_duplicates(scan, split_dataset(scan, 0.2, 0.2, 1))
    assert (Path(report.root) / report.pairs[0].first).is_file()
    assert str(tmp_path) not in str(report.to_dict())
