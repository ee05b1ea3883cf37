"""Images uploaded class by class: checked with the studio's decoder, written without overwrites.

Class and file names come from the visitor, so both go through ``safe_name``; a file that is
not a usable image is refused with its reason instead of being written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.atomic import write_bytes_atomic
from core.data.images import ImageDecodeError, load_image
from core.data.names import is_junk, safe_name
from core.data.zipsafe import size_text
from core.errors import DataError


@dataclass(frozen=True)
class AddedImages:
    """Result of ``add_class_images``: files written and files refused with the reason."""

    saved: list[Path]
    skipped: list[tuple[str, str]]  # (file name, reason)


def _free_path(folder: Path, file_name: str) -> Path:
    """``folder/file_name``, or ``name_1.ext``, ``name_2.ext``... when it already exists."""
    candidate = folder / file_name
    stem, suffix = candidate.stem, candidate.suffix
    index = 1
    while candidate.exists():
        candidate = folder / f"{stem}_{index}{suffix}"
        index += 1
    return candidate


def add_class_images(
    dataset_root: str | os.PathLike[str],
    class_name: str,
    files: list[tuple[str, bytes]],
    max_file_bytes: int = 50 * 1024**2,
) -> AddedImages:
    """Adds uploaded images to one class folder (created if needed).

    Each file is decoded first with the studio's decoder; files that are not usable images are
    refused with their reason instead of being written.

    Args:
        dataset_root: the dataset folder holding one sub-folder per class.
        class_name: the class the user typed (validated with ``safe_name``).
        files: (original file name, file bytes) pairs, as a browser upload gives them.
        max_file_bytes: larger files are refused.

    Returns:
        ``AddedImages`` with the written paths and the refused files.

    Raises:
        DataError: the class name is not allowed.
    """
    folder = Path(dataset_root) / safe_name(class_name)
    saved: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for original_name, data in files:
        try:
            file_name = safe_name(Path(str(original_name).replace("\\", "/")).name)
            if is_junk(file_name):
                raise DataError("system or hidden file")
            if len(data) > max_file_bytes:
                raise DataError(f"file larger than {size_text(max_file_bytes)}")
            load_image(data)
        except ImageDecodeError as error:
            skipped.append((str(original_name), error.reason))
            continue
        except DataError as error:
            skipped.append((str(original_name), str(error).rstrip(".")))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        target = _free_path(folder, file_name)
        write_bytes_atomic(target, data)
        saved.append(target)
    return AddedImages(saved, skipped)
