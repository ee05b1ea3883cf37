"""What a dataset scan found: ``DatasetReport`` with its ``ImageRecord`` and ``SkippedFile`` rows.

Kept apart from the scanner so the checks (``core.data.checks``) can read a report without
importing the scanner that calls them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class ImageRecord:
    """One usable image: absolute path, class name, given split (or None), size, content hash."""

    path: str
    label: str
    split: str | None
    width: int
    height: int
    sha1: str
    flags: tuple[str, ...] = ()  # "tiny", "extreme_aspect", "few_colors"


@dataclass(frozen=True)
class SkippedFile:
    """A file that is not used, with the reason in plain words."""

    path: str
    reason: str


@dataclass
class DatasetReport:
    """What ``scan_dataset`` found; ``to_dict()`` is what the UI and the CLI show."""

    root: str
    classes: list[str]
    records: list[ImageRecord]
    skipped: list[SkippedFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    given_splits: bool = False

    def counts(self) -> dict[str, dict[str, int]]:
        """Images per class per split ("all" when the splits are not given)."""
        result: dict[str, dict[str, int]] = {}
        for record in self.records:
            split = record.split or "all"
            per_class = result.setdefault(split, dict.fromkeys(self.classes, 0))
            per_class[record.label] += 1
        order = {name: index for index, name in enumerate((*SPLITS, "all"))}
        return dict(sorted(result.items(), key=lambda item: order[item[0]]))

    def class_counts(self) -> dict[str, int]:
        """Images per class over all splits."""
        totals = dict.fromkeys(self.classes, 0)
        for record in self.records:
            totals[record.label] += 1
        return totals

    def relative(self, path: str) -> str:
        """``path`` relative to the dataset root (for display)."""
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return path

    def to_dict(self) -> dict[str, Any]:
        """JSON summary: classes, splits, skipped, flagged (tiny, ...), warnings and more."""
        return {
            "root": self.root,
            "classes": list(self.classes),
            "given_splits": self.given_splits,
            "splits": self.counts(),
            "num_images": len(self.records),
            "skipped": [
                {"path": self.relative(item.path), "reason": item.reason} for item in self.skipped
            ],
            "flagged": [
                {"path": self.relative(record.path), "flags": list(record.flags)}
                for record in self.records
                if record.flags
            ],
            "warnings": list(self.warnings),
        }
