"""The split a run trained on, stored in its run folder as ``split.json``.

Training writes it before the first epoch: for each split, every image's path relative to the
dataset folder, its class and the SHA-1 of its bytes, plus the class list and the dataset
folder. Evaluation, export parity and a resumed run read it instead of splitting the folder
again, so an image that was trained on can never turn into a "held-out" one because files were
added or removed since. ``StoredSplit.compare`` names what changed in the folder since then.

Layout of ``split.json`` (format 1)::

    {"format": 1, "root": "<dataset folder>", "classes": ["ants", "bees"],
     "splits": {"train": [{"path": "ants/1.jpg", "label": "ants", "sha1": "9f2c..."}, ...],
                "val": [...], "test": [...]}}
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from core.atomic import write_json_atomic
from core.data.report import DatasetReport
from core.data.splits import SplitData
from core.errors import DataError

SPLIT_FILE = "split.json"
SPLIT_FORMAT = 1
SPLIT_NAMES = ("train", "val", "test")
_SHOWN_NAMES = 3  # file names quoted per kind of change; the rest are counted


@dataclass(frozen=True)
class StoredImage:
    """One image of the stored split."""

    path: str  # relative to the dataset folder, "/"-separated
    label: str  # class name
    sha1: str  # of the file bytes when the split was made


@dataclass(frozen=True)
class DatasetChanges:
    """What differs between the stored split and the dataset folder now (relative paths)."""

    added: list[str] = field(default_factory=list)  # in the folder, in no stored split
    removed: list[str] = field(default_factory=list)  # stored, gone (or unreadable) now
    changed: list[str] = field(default_factory=list)  # same path, different bytes
    kept: int = 0  # stored images still there (changed ones included)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def sentence(self) -> str:
        """A plain sentence with counts and a few file names (never a server path)."""
        parts = [
            _count_part(names, verb)
            for names, verb in (
                (self.added, "added"),
                (self.removed, "removed"),
                (self.changed, "changed"),
            )
            if names
        ]
        return (
            f"The dataset folder changed since this run was trained: {'; '.join(parts)}. "
            "The split stored with the run is used, so images added since are left out."
        )


def _count_part(names: list[str], verb: str) -> str:
    """E.g. "2 images removed ('a/1.png', 'b/2.png')", with "and N more" past a few names."""
    shown = ", ".join(f"'{name}'" for name in names[:_SHOWN_NAMES])
    more = f" and {len(names) - _SHOWN_NAMES} more" if len(names) > _SHOWN_NAMES else ""
    noun = "image" if len(names) == 1 else "images"
    return f"{len(names)} {noun} {verb} ({shown}{more})"


@dataclass(frozen=True)
class StoredSplit:
    """The train/val/test images of a run, as stored in ``split.json``."""

    root: str  # the dataset folder the split was made from
    classes: list[str]
    splits: dict[str, list[StoredImage]]  # keys: SPLIT_NAMES

    @classmethod
    def from_scan(cls, report: DatasetReport, split: SplitData) -> StoredSplit:
        """The split made from ``report`` (paths made relative to its root, hashes attached)."""
        hashes = {record.path: record.sha1 for record in report.records}
        splits = {
            name: [
                StoredImage(report.relative(path), split.classes[label], hashes[path])
                for path, label in getattr(split, name)
            ]
            for name in SPLIT_NAMES
        }
        return cls(report.root, list(split.classes), splits)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written to ``split.json``."""
        return {
            "format": SPLIT_FORMAT,
            "root": self.root,
            "classes": list(self.classes),
            "splits": {
                name: [
                    {"path": image.path, "label": image.label, "sha1": image.sha1}
                    for image in self.splits[name]
                ]
                for name in SPLIT_NAMES
            },
        }

    @classmethod
    def from_dict(cls, data: Any) -> StoredSplit:
        """Reads the JSON form back.

        Raises:
            ValueError: the data is not a stored split of a known format (says what is wrong).
        """
        if not isinstance(data, dict) or data.get("format") != SPLIT_FORMAT:
            raise ValueError("it is not a stored split of a known format")
        root, classes, splits = data.get("root"), data.get("classes"), data.get("splits")
        if not isinstance(root, str) or not isinstance(classes, list) or len(classes) < 2:
            raise ValueError("its dataset folder or class list is missing")
        if not isinstance(splits, dict) or set(splits) != set(SPLIT_NAMES):
            raise ValueError("it must list the train, val and test images")
        images = {name: [_image(row, classes) for row in splits[name]] for name in SPLIT_NAMES}
        return cls(root, [str(name) for name in classes], images)

    def compare(self, report: DatasetReport) -> DatasetChanges:
        """What was added, removed or changed in ``report``'s folder since the split was made."""
        now = {report.relative(record.path): record.sha1 for record in report.records}
        stored = {image.path: image.sha1 for name in SPLIT_NAMES for image in self.splits[name]}
        return DatasetChanges(
            added=sorted(set(now) - set(stored)),
            removed=sorted(set(stored) - set(now)),
            changed=sorted(path for path, sha1 in stored.items() if now.get(path, sha1) != sha1),
            kept=len(set(stored) & set(now)),
        )

    def to_split_data(self, report: DatasetReport) -> tuple[SplitData, dict[str, list[str]]]:
        """The stored split applied to ``report``'s folder as it is now.

        Returns:
            ``(split, missing)``: the ``SplitData`` (absolute paths, stored order) of the images
            still in the folder, and per split the relative paths of those that are not.
        """
        now = {report.relative(record.path): record.path for record in report.records}
        index = {name: i for i, name in enumerate(self.classes)}
        items: dict[str, list[tuple[str, int]]] = {}
        missing: dict[str, list[str]] = {}
        for name in SPLIT_NAMES:
            images = self.splits[name]
            items[name] = [(now[i.path], index[i.label]) for i in images if i.path in now]
            missing[name] = [image.path for image in images if image.path not in now]
        split = SplitData(list(self.classes), items["train"], items["val"], items["test"])
        return split, missing


def _image(row: Any, classes: list[Any]) -> StoredImage:
    """One ``{"path", "label", "sha1"}`` row; the path must stay inside the dataset folder."""
    if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in ("path", "sha1")):
        raise ValueError("an image entry has no path or hash")
    path = PurePosixPath(row["path"])
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise ValueError("an image path leaves the dataset folder")
    if row.get("label") not in classes:
        raise ValueError("an image has a class that is not in the class list")
    return StoredImage(row["path"], str(row["label"]), row["sha1"])


def write_stored_split(path: str | os.PathLike[str], stored: StoredSplit) -> None:
    """Writes ``split.json`` atomically."""
    write_json_atomic(path, stored.to_dict())


def read_stored_split(path: str | os.PathLike[str]) -> StoredSplit | None:
    """Reads ``split.json``; None when the run has none (runs trained before it existed).

    Raises:
        DataError: the file exists but is damaged (a plain sentence, no path).
    """
    file = Path(path)
    if not file.is_file():
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as error:  # its text would name the server path
        raise _damaged("it cannot be read") from error
    except ValueError as error:
        raise _damaged("it is not valid JSON") from error
    try:
        return StoredSplit.from_dict(data)
    except ValueError as error:
        raise _damaged(str(error)) from error


def _damaged(reason: str) -> DataError:
    return DataError(
        f"This run's stored split (split.json) cannot be used: {reason}. The run folder is "
        "damaged; train the run again to evaluate it on images it never saw."
    )
