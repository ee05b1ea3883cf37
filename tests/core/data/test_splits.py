"""Stratified, reproducible splits; given splits respected; duplicates kept together."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data.report import DatasetReport, ImageRecord
from core.data.splits import split_dataset


def _report(
    per_class: dict[str, int], split: str | None = None, dup_every: int = 0
) -> DatasetReport:
    records: list[ImageRecord] = []
    for name, count in per_class.items():
        for index in range(count):
            sha = f"{name}-{index}"
            if dup_every and index % dup_every == 1:
                sha = records[-1].sha1  # an exact duplicate of the previous image
            records.append(ImageRecord(f"/d/{name}/{index:03d}.png", name, split, 32, 32, sha))
    return DatasetReport("/d", sorted(per_class), records, given_splits=split is not None)


def test_stratified_counts():
    split = split_dataset(_report({"a": 100, "b": 40}), 0.15, 0.15, seed=1)
    counts = split.counts()
    assert counts["val"] == {"a": 15, "b": 6} and counts["test"] == {"a": 15, "b": 6}
    assert counts["train"] == {"a": 70, "b": 28}
    everything = split.train + split.val + split.test
    assert len(everything) == len({path for path, _ in everything}) == 140


def test_reproducible_and_seed_dependent():
    report = _report({"a": 50, "b": 50})
    first, again = split_dataset(report, seed=7), split_dataset(report, seed=7)
    other = split_dataset(report, seed=8)
    assert first == again
    assert first.val != other.val


def test_small_class_keeps_training_images():
    counts = split_dataset(_report({"a": 2, "b": 1}), 0.15, 0.15).counts()
    assert counts["train"]["a"] >= 1 and counts["train"]["b"] == 1


def test_duplicates_stay_in_one_split():
    report = _report({"a": 60, "b": 60}, dup_every=4)
    split = split_dataset(report, 0.2, 0.2, seed=3)
    where = {path: name for name in ("train", "val", "test") for path, _ in getattr(split, name)}
    by_hash: dict[str, set[str]] = {}
    for record in report.records:
        by_hash.setdefault(record.sha1, set()).add(where[record.path])
    assert all(len(splits) == 1 for splits in by_hash.values())


def test_given_splits_are_respected_and_val_drawn_from_train_when_missing():
    train = _report({"a": 20, "b": 20}, split="train")
    test = _report({"a": 5, "b": 5}, split="test")
    test_records = [ImageRecord(r.path.replace("/d/", "/t/"), r.label, "test", 32, 32, "t" + r.sha1)
                    for r in test.records]  # fmt: skip
    report = DatasetReport("/d", ["a", "b"], train.records + test_records, given_splits=True)
    counts = split_dataset(report, 0.25, 0.5).counts()
    assert counts["test"] == {"a": 5, "b": 5}  # as given, test_ratio ignored
    assert counts["val"] == {"a": 5, "b": 5} and counts["train"] == {"a": 15, "b": 15}


def test_class_weights_are_balanced():
    split = split_dataset(_report({"a": 90, "b": 30}), 0.0, 0.0)
    weights = split.class_weights()
    assert weights[0] == pytest.approx(120 / (2 * 90)) and weights[1] == pytest.approx(2.0)


@pytest.mark.parametrize(("val", "test"), [(-0.1, 0.1), (0.5, 0.5), (1.0, 0.0)])
def test_bad_ratios(val: float, test: float):
    with pytest.raises(ValueError):
        split_dataset(_report({"a": 5, "b": 5}), val, test)


def test_split_of_real_scan(tiny_dataset: Path):
    from core.data.scan import scan_dataset

    split = split_dataset(scan_dataset(tiny_dataset), 0.25, 0.25, seed=0)
    assert split.counts()["val"] == {"blue": 2, "red": 2}
    assert {label for _, label in split.train} == {0, 1}
