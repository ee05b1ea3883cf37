"""Dataset warnings from a report built by hand (no image files needed)."""

from __future__ import annotations

from core.data.checks import IMBALANCE_RATIO, MIN_PER_CLASS, dataset_warnings
from core.data.report import DatasetReport, ImageRecord, SkippedFile


def _record(name: str, label: str, split: str | None = None, sha1: str = "", flags=()):
    return ImageRecord(f"/d/{name}", label, split, 64, 64, sha1 or name, tuple(flags))


def _report(records: list[ImageRecord], **kwargs) -> DatasetReport:
    classes = sorted({record.label for record in records})
    return DatasetReport("/d", classes, records, **kwargs)


def _balanced(per_class: int = MIN_PER_CLASS) -> list[ImageRecord]:
    return [_record(f"{c}/{i}.png", c) for c in ("a", "b") for i in range(per_class)]


def test_clean_dataset_has_no_warnings():
    assert dataset_warnings(_report(_balanced())) == []


def test_small_class_and_imbalance():
    records = [_record(f"a/{i}.png", "a") for i in range(int(IMBALANCE_RATIO * 3))]
    records += [_record(f"b/{i}.png", "b") for i in range(3)]
    warnings = dataset_warnings(_report(records))
    assert "Class 'b' has only 3 images; at least 10 (better 50+) are recommended." in warnings
    assert any(
        w.startswith("Classes are imbalanced: 'a' has 9 images, 'b' only 3") for w in warnings
    )


def test_duplicates_are_told_apart_by_kind():
    records = _balanced()
    records += [
        _record("a/copy.png", "a", sha1="a/0.png"),  # same class, same split
        _record("b/copy.png", "b", sha1="a/1.png"),  # same bytes in two classes
    ]
    warnings = dataset_warnings(_report(records))
    assert any(
        "exact duplicate in the same split (e.g. a/0.png = a/copy.png)" in w for w in warnings
    )
    assert any("more than one class" in w and "a/1.png = b/copy.png" in w for w in warnings)
    assert not any("leakage" in w for w in warnings)


def test_leakage_and_missing_class_in_a_given_split():
    records = [_record(f"train/{c}/{i}.png", c, "train") for c in "ab" for i in range(10)]
    records.append(_record("val/a/x.png", "a", "val", sha1="train/a/0.png"))
    warnings = dataset_warnings(_report(records, given_splits=True))
    assert any("1 image appears in two splits (leakage" in w for w in warnings)
    assert "The val split has no images of class 'b'." in warnings


def test_flags_and_skipped_files_are_summarised():
    records = _balanced()
    records[:4] = [_record(f"a/t{i}.png", "a", flags=("tiny",)) for i in range(4)]
    records[4] = _record("a/wide.png", "a", flags=("extreme_aspect", "few_colors"))
    skipped = [SkippedFile("/d/a/x.jpg", "not an image")]
    warnings = dataset_warnings(_report(records, skipped=skipped))
    tiny = [w for w in warnings if w.startswith("4 images are smaller than 32 pixels")]
    assert len(tiny) == 1 and tiny[0].endswith(": a/t0.png, a/t1.png, a/t2.png, ....")
    assert any(w.startswith("1 image is wider or taller than 4:1") for w in warnings)
    assert any(w.startswith("1 image is almost without colour") for w in warnings)
    assert "1 file was skipped (see the list and the reasons)." in warnings
