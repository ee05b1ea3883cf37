"""Warnings about a scanned dataset: problems that still allow training, as sentences.

Too few images in a class, strong class imbalance, a class missing from a given split, exact
duplicates (within a split, across classes, across splits = leakage), flagged images (tiny,
extreme aspect ratio, almost no colours) and skipped files. ``core.data.scan.scan_dataset``
fills ``DatasetReport.warnings`` with ``dataset_warnings(report)``.

One problem does stop training: an empty validation split (``check_validation_split``), since
the run would "finish" without a single score measured on images it did not train on.
"""

from __future__ import annotations

from core.data.images import MAX_ASPECT, MIN_SIDE
from core.data.report import DatasetReport, ImageRecord
from core.data.splits import SplitData
from core.errors import DataError

MIN_PER_CLASS = 10
IMBALANCE_RATIO = 3.0
_FLAG_TEXT = {
    "tiny": f"smaller than {MIN_SIDE} pixels on a side (they will be blurry once enlarged)",
    "extreme_aspect": f"wider or taller than {MAX_ASPECT:g}:1 (much is lost when squared)",
    "few_colors": "almost without colour variation (a placeholder, icon or blank image?)",
}


def _examples(report: DatasetReport, paths: list[str], limit: int = 3) -> str:
    shown = ", ".join(report.relative(path) for path in paths[:limit])
    return shown + (", ..." if len(paths) > limit else "")


def _images(items: list[str], singular_verb: str, plural_verb: str) -> str:
    """The subject of a sentence about ``items``: '1 image has', '3 images have'."""
    if len(items) == 1:
        return f"1 image {singular_verb}"
    return f"{len(items)} images {plural_verb}"


def _size_warnings(report: DatasetReport) -> list[str]:
    """Classes with few images and strong imbalance."""
    counts = report.class_counts()
    result = [
        f"Class {name!r} has only {count} images; at least {MIN_PER_CLASS} (better 50+) are "
        "recommended."
        for name, count in counts.items()
        if count < MIN_PER_CLASS
    ]
    largest, smallest = max(counts, key=counts.__getitem__), min(counts, key=counts.__getitem__)
    if counts[largest] >= IMBALANCE_RATIO * counts[smallest]:
        result.append(
            f"Classes are imbalanced: {largest!r} has {counts[largest]} images, {smallest!r} only "
            f"{counts[smallest]}. Consider balanced class weights or adding images."
        )
    if report.given_splits:
        for split, per_class in report.counts().items():
            missing = [name for name, count in per_class.items() if count == 0]
            if missing:
                result.append(f"The {split} split has no images of class {missing[0]!r}.")
    return result


def _duplicate_warnings(report: DatasetReport) -> list[str]:
    """Exact duplicates (same file bytes): within a split, across classes, across splits."""
    groups: dict[str, list[ImageRecord]] = {}
    for record in report.records:
        groups.setdefault(record.sha1, []).append(record)
    same_split: list[str] = []
    cross_class: list[str] = []
    leakage: list[str] = []
    for group in (g for g in groups.values() if len(g) > 1):
        pair = f"{report.relative(group[0].path)} = {report.relative(group[1].path)}"
        if len({record.label for record in group}) > 1:
            cross_class.append(pair)
        if len({record.split for record in group}) > 1:
            leakage.append(pair)
        elif len({record.label for record in group}) == 1:
            same_split.append(pair)
    result: list[str] = []
    if same_split:
        result.append(
            f"{_images(same_split, 'has', 'have')} an exact duplicate in the same split "
            f"(e.g. {'; '.join(same_split[:2])})."
        )
    if cross_class:
        result.append(
            f"{_images(cross_class, 'appears', 'appear')} in more than one class, so the label is "
            f"ambiguous (e.g. {'; '.join(cross_class[:2])})."
        )
    if leakage:
        result.append(
            f"{_images(leakage, 'appears', 'appear')} in two splits (leakage: validation or test "
            f"scores will look better than they are), e.g. {'; '.join(leakage[:2])}."
        )
    return result


def dataset_warnings(report: DatasetReport) -> list[str]:
    """Problems that still allow training, as sentences for the user.

    Args:
        report: a scanned dataset (its ``warnings`` field is not read).

    Returns:
        The warnings, most important first (class sizes, duplicates, flags, skipped files).
    """
    result = _size_warnings(report) + _duplicate_warnings(report)
    for flag, text in _FLAG_TEXT.items():
        paths = [record.path for record in report.records if flag in record.flags]
        if paths:
            subject = "1 image is" if len(paths) == 1 else f"{len(paths)} images are"
            result.append(f"{subject} {text}: {_examples(report, paths)}.")
    if report.skipped:
        subject = "1 file was" if len(report.skipped) == 1 else f"{len(report.skipped)} files were"
        result.append(f"{subject} skipped (see the list and the reasons).")
    return result


def check_validation_split(report: DatasetReport, split: SplitData, val_ratio: float) -> None:
    """Refuses a split without validation images, saying what to change.

    Call it before a run starts (and to warn on the Data page): with no validation image the
    run has no score, no early stopping and no best epoch to keep.

    Args:
        report: the scanned dataset (given splits, images per class).
        split: the split that would be trained on.
        val_ratio: the validation share the split was made with.

    Raises:
        DataError: the validation split is empty.
    """
    if split.val:
        return
    if val_ratio <= 0:
        raise DataError(
            "The validation share is 0, so no image is kept for validation and the run could "
            "not measure anything. Set the validation share above 0 (15% is a good start), or "
            "add a val/ folder."
        )
    distinct: dict[str, set[str]] = {}
    for record in (r for r in report.records if r.split != "test"):  # validation draws on these
        distinct.setdefault(record.label, set()).add(record.sha1)
    most = max((len(hashes) for hashes in distinct.values()), default=0)
    subject = "1 image" if most == 1 else f"{most} images"
    raise DataError(
        f"The validation split would be empty: no class has more than {subject} (exact "
        "duplicates count once), and a class needs at least 2 to spare one for validation. "
        f"Add images (at least {MIN_PER_CLASS} per class are recommended), or add a val/ "
        "folder with images of each class."
    )
