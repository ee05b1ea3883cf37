"""Dataset versions: a corrected copy of a dataset, original untouched.

Fixing label issues (``core.evaluate.label_issues``) and removing near-duplicates
(``core.data.near_duplicates``) never change the user's folder. They write a new folder::

    <dest>/version.json          what was changed, and from which dataset
    <dest>/images/train/<class>/...
    <dest>/images/val/<class>/...
    <dest>/images/test/<class>/...

``images/`` is an ordinary dataset folder with its splits given as folders, so a retrain on it
keeps every image in the split it was in (an image that was held out stays held out) and the
scan (``core.data.scan``) reads it like any other dataset. Files are hard links to the originals
when the file system allows (no extra disk; nothing in the studio edits an image in place), else
copies. The version is written under a temporary name and renamed at the end, so a half-written
version is never seen.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.atomic import write_json_atomic
from core.data.splits import SplitData

VERSION_FILE = "version.json"
IMAGES_FOLDER = "images"
VERSION_FORMAT = 1
_SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class VersionImage:
    """One image of the new version: where it goes and where it comes from."""

    split: str  # "train", "val" or "test"
    label: str  # its class in the new version
    source: str  # absolute path of the original file
    origin: str  # the original's path relative to the original dataset folder


def relative_path(path: str, root: str | os.PathLike[str]) -> str:
    """``path`` relative to ``root``, "/"-separated (the form users and manifests see)."""
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


def version_images(
    split: SplitData,
    root: str | os.PathLike[str],
    *,
    relabel: Mapping[str, str] | None = None,
    remove: Iterable[str] = (),
) -> list[VersionImage]:
    """The images of ``split`` with the changes applied (paths relative to ``root``).

    Args:
        split: the split the version keeps (absolute paths).
        root: the dataset folder the paths are relative to.
        relabel: relative path -> new class name.
        remove: relative paths to leave out.

    Raises:
        ValueError: a change names an image that is not in the split, or an unknown class.
    """
    relabel, removed = dict(relabel or {}), set(remove)
    known = {relative_path(path, root) for name in _SPLITS for path, _ in getattr(split, name)}
    unknown = sorted((set(relabel) | removed) - known)
    if unknown:
        raise ValueError(f"These images are not in the dataset: {', '.join(unknown[:3])}.")
    wrong = sorted(name for name in relabel.values() if name not in split.classes)
    if wrong:
        raise ValueError(f"'{wrong[0]}' is not one of the classes ({', '.join(split.classes)}).")
    images = []
    for name in _SPLITS:
        for path, index in getattr(split, name):
            origin = relative_path(path, root)
            if origin not in removed:
                label = relabel.get(origin, split.classes[index])
                images.append(VersionImage(name, label, path, origin))
    return images


def write_dataset_version(
    dest: str | os.PathLike[str],
    images: list[VersionImage],
    *,
    kind: str,
    source_root: str,
    changes: list[dict[str, Any]],
) -> Path:
    """Writes a dataset version (see the module docstring); returns its ``images`` folder.

    Args:
        dest: the new version's folder; it must not exist yet.
        images: what the version holds (``version_images``).
        kind: what made it, e.g. "label-fix" or "dedupe" (recorded in ``version.json``).
        source_root: the original dataset folder (recorded, never changed).
        changes: one JSON row per change (recorded as given).

    Raises:
        ValueError: ``dest`` exists already, or no training image is left.
    """
    dest = Path(dest)
    if dest.exists():
        raise ValueError(f"The folder '{dest.name}' exists already; choose a new name.")
    if not any(image.split == "train" for image in images):
        raise ValueError("No training image would be left in the new dataset version.")
    partial = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        files = _link_images(partial / IMAGES_FOLDER, images)
        manifest = {
            "format": VERSION_FORMAT,
            "kind": kind,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "source": source_root,
            "changes": changes,
            "counts": _counts(images),
            "files": files,
        }
        write_json_atomic(partial / VERSION_FILE, manifest)
        partial.rename(dest)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return dest / IMAGES_FOLDER


def _link_images(folder: Path, images: list[VersionImage]) -> list[dict[str, str]]:
    """Hard-links (else copies) each image to ``folder/<split>/<class>/<name>``.

    Two originals with the same file name in one class folder (a relabelled image meeting one
    already there) get ``_2``, ``_3``... before the suffix.
    """
    taken: set[str] = set()
    files = []
    for image in images:
        name = _free_name(f"{image.split}/{image.label}", Path(image.source), taken)
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(image.source, target)
        except OSError:  # another file system, or links not allowed: copy instead
            shutil.copy2(image.source, target)
        files.append({"path": name, "from": image.origin})
    return files


def _free_name(parent: str, source: Path, taken: set[str]) -> str:
    candidate, number = f"{parent}/{source.name}", 1
    while candidate.lower() in taken:  # case-insensitive file systems see one file
        number += 1
        candidate = f"{parent}/{source.stem}_{number}{source.suffix}"
    taken.add(candidate.lower())
    return candidate


def _counts(images: list[VersionImage]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for image in images:
        per_class = counts.setdefault(image.split, {})
        per_class[image.label] = per_class.get(image.label, 0) + 1
    return counts


def read_version_manifest(images_folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``version.json`` of a dataset version's ``images`` folder; None for other folders."""
    import json

    file = Path(images_folder).parent / VERSION_FILE
    if Path(images_folder).name != IMAGES_FOLDER or not file.is_file():
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
