"""Scan a dataset folder: find classes and splits, open every file, report what was found.

Layouts: ``root/<class>/...`` or ``root/{train,val|validation,test}/<class>/...`` (then the splits
are used as given). Every file is opened with the studio's one decoder (``core.data.images``); a
file that cannot be used is listed in ``skipped`` with its reason, never dropped silently. Problems
that still allow training are ``warnings`` (see ``core.data.checks``); problems that do not (nothing
usable, one class, a class without a valid image) raise ``DataError``."""

from __future__ import annotations

import os
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from core.config.base import ConfigMixin
from core.data.checks import dataset_warnings
from core.data.images import ImageDecodeError, ImageFacts, inspect_image_file
from core.data.names import is_junk
from core.data.report import DatasetReport, ImageRecord, SkippedFile
from core.data.zipsafe import SKIPPED_MANIFEST, SPLIT_ALIASES, unwrap_dataset_folder, zip_skips
from core.errors import DataError


@dataclass(frozen=True)
class ScanLimits(ConfigMixin):
    """Limits on the dataset size (protect the server's memory and disk)."""

    max_images: int = 100_000
    max_total_pixels: int = 10_000_000_000

    def __post_init__(self) -> None:
        if self.max_images < 1 or self.max_total_pixels < 1:
            raise ValueError("Scan limits must be positive numbers.")


def _usable(path: Path, root: Path, skipped: list[SkippedFile]) -> bool:
    """False (and the reason in ``skipped``) for junk, hidden files and links leaving ``root``."""
    if path.name == SKIPPED_MANIFEST and path.parent == root:
        return False  # extract_zip's list of skipped entries: merged by scan_dataset
    if is_junk(path.name):
        kind = "folder" if path.is_dir() else "file"
        skipped.append(SkippedFile(str(path), f"system or hidden {kind}, ignored"))
    elif path.is_symlink() and not path.resolve().is_relative_to(root):
        skipped.append(SkippedFile(str(path), "link pointing outside the dataset folder"))
    else:
        return True
    return False


def _walk_files(folder: Path, root: Path, skipped: list[SkippedFile]) -> list[Path]:
    """All regular files below ``folder``; junk, hidden and escaping links go to ``skipped``."""
    found: list[Path] = []
    for current, dirs, files in os.walk(folder):
        base = Path(current)
        for name in sorted(dirs):
            if is_junk(name) or (base / name).is_symlink():
                reason = "system or hidden folder, ignored" if is_junk(name) else "folder link"
                skipped.append(SkippedFile(str(base / name), f"{reason}, not scanned"))
                dirs.remove(name)
        dirs.sort()
        found.extend(base / name for name in sorted(files) if _usable(base / name, root, skipped))
    return found


def _children(
    folder: Path, root: Path, skipped: list[SkippedFile]
) -> tuple[list[Path], list[Path]]:
    """(sub-folders, files) of ``folder``, sorted; junk and escaping links go to ``skipped``."""
    usable = [
        p for p in sorted(folder.iterdir(), key=lambda p: p.name) if _usable(p, root, skipped)
    ]
    return [p for p in usable if p.is_dir()], [p for p in usable if not p.is_dir()]


def _candidates(root: Path, skipped: list[SkippedFile]) -> tuple[list[tuple], list[tuple], bool]:
    """Finds (path, class, split) candidates and every class folder as (class, split)."""
    dirs, files = _children(root, root, skipped)
    splits = {d: SPLIT_ALIASES[d.name.lower()] for d in dirs if d.name.lower() in SPLIT_ALIASES}
    given = "train" in splits.values()
    groups = list(splits.items()) if given else [(root, None)]
    if given:
        loose = [p for p in dirs + files if p not in splits]
        skipped.extend(SkippedFile(str(p), "outside the train/val/test folders") for p in loose)
    candidates: list[tuple] = []
    class_dirs: list[tuple] = []
    for folder, split in groups:
        sub_dirs, loose_files = _children(folder, root, skipped) if given else (dirs, files)
        skipped.extend(SkippedFile(str(p), "not inside a class folder") for p in loose_files)
        for class_dir in sub_dirs:
            # NFC: a class typed on macOS (decomposed accents) matches the same name elsewhere.
            label = unicodedata.normalize("NFC", class_dir.name)
            class_dirs.append((label, split))
            for path in _walk_files(class_dir, root, skipped):
                candidates.append((path, label, split))
    return candidates, class_dirs, given


def _inspect(path: Path) -> ImageFacts | str:
    """Decodes one file: its facts, or the reason it cannot be used."""
    try:
        return inspect_image_file(path)
    except ImageDecodeError as error:
        return error.reason
    except Exception as error:  # a decoder bug on a hostile file must not stop the whole scan
        return f"could not be decoded ({type(error).__name__}: {error})"


def scan_dataset(root: str | os.PathLike[str], limits: ScanLimits | None = None) -> DatasetReport:
    """Scans a dataset folder and validates every file.

    Args:
        root: the dataset folder (classes as sub-folders, or train/val/test folders).
        limits: maximum number of images and of total pixels (``ScanLimits()`` when None).

    Returns:
        A ``DatasetReport`` with the usable images, the skipped files and the warnings.

    Raises:
        DataError: the folder does not exist, a limit is exceeded, nothing is usable, there is
            only one class, or a class folder has no usable image.
    """
    limits = limits or ScanLimits()
    folder = Path(root).expanduser()
    if not folder.is_dir():
        name = Path(root).name  # never the whole server path
        raise DataError(f"The dataset folder '{name}' does not exist or is not a folder.")
    folder = folder.resolve()
    skipped = zip_skips(folder)  # entries extract_zip did not extract, with their reasons
    candidates, class_dirs, given = _candidates(folder, skipped)
    if len(candidates) > limits.max_images:
        raise DataError(
            f"The dataset has {len(candidates):,} files; the limit is {limits.max_images:,} "
            "images. Use a subset of the images."
        )
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        results = list(pool.map(_inspect, [path for path, _, _ in candidates]))
    records: list[ImageRecord] = []
    for (path, label, split), result in zip(candidates, results, strict=True):
        if isinstance(result, str):
            skipped.append(SkippedFile(str(path), result))
        else:
            records.append(
                ImageRecord(
                    str(path), label, split, result.width, result.height, result.sha1, result.flags
                )
            )
    _check_fatal(folder, records, class_dirs, limits)
    classes = sorted({record.label for record in records})
    report = DatasetReport(str(folder), classes, records, skipped, [], given)
    report.warnings = dataset_warnings(report)
    return report


def _check_fatal(
    folder: Path, records: list[ImageRecord], class_dirs: list[tuple], limits: ScanLimits
) -> None:
    """Raises DataError for a dataset that cannot be trained on."""
    if not records:
        raise DataError(
            f"No usable images found in {folder.name!r}. Put the images in one sub-folder per "
            "class (for example cats/ and dogs/), or in train/ and val/ folders holding those."
        )
    pixels = sum(record.width * record.height for record in records)
    if pixels > limits.max_total_pixels:
        raise DataError(
            f"The images hold {pixels / 1e9:,.1f} gigapixels in total; the limit is "
            f"{limits.max_total_pixels / 1e9:,.1f}. Resize the images or use fewer of them."
        )
    labels = {record.label for record in records}
    empty = sorted({name for name, _ in class_dirs} - labels)
    if empty:
        raise DataError(
            f"The class folder {empty[0]!r} has no usable image. Add images to it or remove it "
            "(see the skipped files for the reasons)."
        )
    if len(labels) < 2:
        raise DataError(
            f"Only one class was found ({next(iter(labels))!r}). A classifier needs at least two "
            "class folders."
        )


def resolve_data_folder(
    path: str | os.PathLike[str], allowed_roots: list[str] | tuple[str, ...] | list[Path]
) -> Path:
    """Confines the server-folder source to the allowed roots.

    Args:
        path: the folder the user typed.
        allowed_roots: folders the administrator allows (STUDIO_DATA_ROOTS).

    Returns:
        The resolved folder (symlinks resolved), inside one of the roots; single wrapper
        folders ("mydata/photos/<classes>") are descended as for a zip
        (``core.data.zipsafe.unwrap_dataset_folder``, which never follows a link).

    Raises:
        DataError: the source is disabled (no roots), the folder does not exist, or it lies
            outside every allowed root (symlink escapes included).
    """
    if not allowed_roots:
        raise DataError(
            "Reading a folder on the server is disabled. Upload a zip instead, or ask the "
            "administrator to set STUDIO_DATA_ROOTS to the folders that may be read."
        )
    text = str(path).strip()
    if not text or "\x00" in text:
        raise DataError("Enter the path of a folder on the server.")
    candidate = Path(text).expanduser()
    if not candidate.is_dir():
        raise DataError(f"The folder {text!r} does not exist on the server.")
    resolved = candidate.resolve()
    for root in allowed_roots:
        root_path = Path(root).expanduser().resolve()
        if resolved == root_path or resolved.is_relative_to(root_path):
            return unwrap_dataset_folder(resolved)
    roots = ", ".join(repr(Path(root).name) for root in allowed_roots)  # names, not paths
    raise DataError(f"The folder {text!r} is outside the allowed folders ({roots}).")
