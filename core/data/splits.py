"""Stratified, reproducible train/validation/test split of a scanned dataset.

Each class is split on its own with the user's ratios, so every split keeps the class
proportions. Exact duplicates (same file bytes) always land in the same split, so a random split
never creates leakage. Splits given as folders (train/val/test) are respected; when only train
(and maybe test) is given, the validation images are drawn from train the same stratified way.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from core.config.data import check_split_shares
from core.data.report import DatasetReport, ImageRecord

Items = list[tuple[str, int]]


@dataclass
class SplitData:
    """The three splits as (path, class index) lists; class indices follow ``classes``."""

    classes: list[str]
    train: Items
    val: Items = field(default_factory=list)
    test: Items = field(default_factory=list)

    def counts(self) -> dict[str, dict[str, int]]:
        """Images per class for each split (every class listed, zeros included)."""
        result: dict[str, dict[str, int]] = {}
        for name, items in (("train", self.train), ("val", self.val), ("test", self.test)):
            per_class = dict.fromkeys(self.classes, 0)
            for _, index in items:
                per_class[self.classes[index]] += 1
            result[name] = per_class
        return result

    def class_weights(self) -> dict[int, float]:
        """Balanced weights from the training split: n_samples / (n_classes * n_class).

        A class with no training image gets weight 0.0 (it never appears in a batch anyway).
        """
        counts = [0] * len(self.classes)
        for _, index in self.train:
            counts[index] += 1
        total = sum(counts)
        return {
            index: (total / (len(self.classes) * count) if count else 0.0)
            for index, count in enumerate(counts)
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON form: classes and the per-class counts of each split."""
        return {"classes": list(self.classes), "splits": self.counts()}


def _share(total: int, ratio: float) -> int:
    """Images for a split of ``ratio``: rounded, and at least one when the ratio is set."""
    if ratio <= 0 or total < 2:
        return 0
    return max(1, round(total * ratio))


def _split_class(
    records: list[ImageRecord], val_ratio: float, test_ratio: float, rng: random.Random
) -> tuple[list[ImageRecord], list[ImageRecord], list[ImageRecord]]:
    """Splits one class, keeping duplicate groups together; returns (train, val, test)."""
    groups: dict[str, list[ImageRecord]] = {}
    for record in sorted(records, key=lambda r: r.path):
        groups.setdefault(record.sha1, []).append(record)
    ordered = list(groups.values())
    rng.shuffle(ordered)
    n_val, n_test = _share(len(ordered), val_ratio), _share(len(ordered), test_ratio)
    if n_val + n_test >= len(ordered):  # keep at least one group for training
        n_test = max(0, len(ordered) - 1 - n_val)
    test = [r for group in ordered[:n_test] for r in group]
    val = [r for group in ordered[n_test : n_test + n_val] for r in group]
    train = [r for group in ordered[n_test + n_val :] for r in group]
    return train, val, test


def split_dataset(
    report: DatasetReport, val_ratio: float = 0.15, test_ratio: float = 0.15, seed: int = 42
) -> SplitData:
    """Splits the scanned images into train/val/test, stratified by class and reproducible.

    Args:
        report: the result of ``scan_dataset``.
        val_ratio: share of each class for validation (used unless a val folder is given).
        test_ratio: share of each class for the test (used only when no split is given).
        seed: the same seed always gives the same split.

    Returns:
        ``SplitData`` with (path, class index) lists sorted by path inside each split.

    Raises:
        ValueError: on shares outside 0..0.9 or leaving nothing for training
            (``check_split_shares``).
    """
    check_split_shares(val_ratio, test_ratio)
    index = {name: i for i, name in enumerate(report.classes)}
    buckets: dict[str, list[ImageRecord]] = {"train": [], "val": [], "test": []}
    given = {record.split for record in report.records} if report.given_splits else set()
    for class_name in report.classes:
        rng = random.Random(f"{seed}:{class_name}")  # per class: adding a class moves no other
        own = [r for r in report.records if r.label == class_name]
        if not report.given_splits:
            train, val, test = _split_class(own, val_ratio, test_ratio, rng)
        else:
            train = [r for r in own if r.split == "train"]
            val = [r for r in own if r.split == "val"]
            test = [r for r in own if r.split == "test"]
            if "val" not in given:  # no validation folder: draw it from train
                train, val, _ = _split_class(train, val_ratio, 0.0, rng)
        buckets["train"] += train
        buckets["val"] += val
        buckets["test"] += test

    def items(records: list[ImageRecord]) -> Items:
        return sorted((r.path, index[r.label]) for r in records)

    return SplitData(
        list(report.classes), items(buckets["train"]), items(buckets["val"]), items(buckets["test"])
    )
