"""Safe extraction of an uploaded zip and safe file/class names.

An uploaded archive is untrusted: an entry named ``../../etc/x`` or ``/etc/x`` would write outside
the target folder ("zip slip"), a symlink entry could point anywhere, and a few kilobytes can
inflate to gigabytes ("zip bomb"). ``extract_zip`` refuses the first, ignores the second, and
enforces limits on the declared AND the actually written sizes (declared sizes can lie).
"""

from __future__ import annotations

import os
import shutil
import stat
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from core.atomic import write_bytes_atomic
from core.config_base import ConfigMixin
from core.data.images import ImageDecodeError, load_image
from core.errors import DataError

# Windows device names: a folder called "CON" cannot be created or copied there.
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{p}{i}" for p in ("COM", "LPT") for i in range(10)}
# Operating-system litter that is never part of a dataset.
JUNK_NAMES = frozenset({"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini", "._.DS_Store"})
# Top-level folder names that mean "the splits are given" (lower case -> split).
SPLIT_ALIASES = {
    "train": "train", "training": "train",
    "val": "val", "valid": "val", "validation": "val",
    "test": "test", "testing": "test",
}  # fmt: skip
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ZipLimits(ConfigMixin):
    """Limits that stop a zip bomb or an accidental huge upload.

    Attributes:
        max_total_bytes: total uncompressed size of all extracted files.
        max_files: number of files in the archive.
        max_ratio: uncompressed/compressed size of one entry (photos barely compress).
    """

    max_total_bytes: int = 2 * 1024**3
    max_files: int = 50_000
    max_ratio: float = 200.0

    def __post_init__(self) -> None:
        if self.max_total_bytes < 1 or self.max_files < 1 or self.max_ratio < 1:
            raise ValueError("Zip limits must be positive numbers.")


def size_text(num_bytes: float) -> str:
    """A byte count for people: "812 KB", "3.4 MB", "2.1 GB"."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if num_bytes >= scale:
            return f"{num_bytes / scale:,.1f} {unit}".replace(".0 ", " ")
    return f"{int(num_bytes)} bytes"


def safe_name(name: str) -> str:
    """Checks that ``name`` can be used as one file or folder name and returns it normalized.

    The name is NFC-normalized (macOS sends decomposed accents) and stripped of outer spaces;
    spaces inside and non-ASCII letters are fine.

    Raises:
        DataError: for an empty name, ".", "..", a path separator, a control character,
            a Windows reserved device name or a name longer than 255 bytes.
    """
    if not isinstance(name, str):
        raise DataError("A name must be text.")
    cleaned = unicodedata.normalize("NFC", name).strip()
    if not cleaned or cleaned in (".", ".."):
        raise DataError(f"The name {name!r} is empty or not allowed; choose a plain name.")
    if any(sep in cleaned for sep in ("/", "\\")):
        raise DataError(
            f"The name {name!r} contains a slash; use a plain name without '/' or '\\'."
        )
    if any(ord(char) < 32 or ord(char) == 127 for char in cleaned):
        raise DataError(f"The name {name!r} contains control characters; use a plain name.")
    if cleaned.split(".")[0].upper().rstrip() in _RESERVED:
        raise DataError(f"The name {name!r} is reserved by Windows; choose another name.")
    if cleaned.endswith("."):
        raise DataError(f"The name {name!r} ends with a dot; remove the trailing dot.")
    if len(cleaned.encode("utf-8")) > 255:
        raise DataError("The name is too long (more than 255 bytes); shorten it.")
    return cleaned


def is_junk(part: str) -> bool:
    """True for OS metadata (``__MACOSX``, ``.DS_Store``...) and hidden names (``.x``)."""
    return part in JUNK_NAMES or part.startswith(".")


def _entry_parts(info: zipfile.ZipInfo) -> list[str] | None:
    """Returns the safe path parts of an entry, None to ignore it; raises on zip slip."""
    raw = info.filename.replace("\\", "/")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        raise DataError(
            f"The archive is unsafe: entry {info.filename!r} has an absolute path. "
            "Re-create the zip from the dataset folder itself."
        )
    parts = [part for part in PurePosixPath(raw).parts if part not in ("", ".")]
    if ".." in parts:
        raise DataError(
            f"The archive is unsafe: entry {info.filename!r} points outside its folder ('..'). "
            "Re-create the zip from the dataset folder itself."
        )
    if not parts or any(is_junk(part) for part in parts):
        return None
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return None  # symlinks could point anywhere on the server: ignored
    try:
        return [safe_name(part) for part in parts]
    except DataError:
        return None  # e.g. "CON.jpg": cannot be written portably, skip it


def _check_declared(infos: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    files = [info for info in infos if not info.is_dir()]
    if len(files) > limits.max_files:
        raise DataError(
            f"The archive has {len(files):,} files; the limit is {limits.max_files:,}. "
            "Split the dataset or remove unneeded files."
        )
    total = sum(info.file_size for info in files)
    if total > limits.max_total_bytes:
        raise DataError(
            f"The archive would unpack to {size_text(total)}; the limit is "
            f"{size_text(limits.max_total_bytes)}. Upload a smaller dataset or resize the images."
        )
    for info in files:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _CHUNK and ratio > limits.max_ratio:
            raise DataError(
                f"The archive looks like a zip bomb: {info.filename!r} expands {ratio:,.0f} times "
                f"(the limit is {limits.max_ratio:g}). Images barely compress; check the file."
            )


def _copy_limited(source: IO[bytes], target: Path, budget: int) -> int:
    """Copies at most ``budget`` bytes; returns the bytes written or raises when over."""
    written = 0
    with open(target, "wb") as handle:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > budget:
                raise DataError(
                    "The archive unpacks to more than its declared size and the size limit; "
                    "it was refused. Re-create the zip with a normal tool."
                )
            handle.write(chunk)
    return written


def _wrapped_folder(folder: Path) -> Path | None:
    """The one sub-folder that ``folder`` merely wraps, or None when ``folder`` is the dataset."""
    try:
        children = [child for child in folder.iterdir() if not is_junk(child.name)]
        inner = children[0] if len(children) == 1 else None
        if inner is None or inner.is_symlink() or not inner.is_dir():
            return None
        has_folder = any(c.is_dir() and not is_junk(c.name) for c in inner.iterdir())
    except OSError:
        return None
    # "data/train/<classes>" keeps its given split; "data/cats/*.jpg" is one class, no wrapper.
    return inner if has_folder and inner.name.lower() not in SPLIT_ALIASES else None


def unwrap_dataset_folder(folder: str | os.PathLike[str]) -> Path:
    """Descends through single wrapper folders ("mydata/photos/" holding the class folders).

    Same rule for an extracted zip and a server folder: a folder holding nothing but one real
    sub-folder (not a link, not train/val/test) that itself holds folders is skipped; system
    and hidden files do not count.
    """
    current = Path(folder)
    while (inner := _wrapped_folder(current)) is not None:
        current = inner
    return current


def extract_zip(
    file: str | os.PathLike[str] | IO[bytes],
    dest: str | os.PathLike[str],
    limits: ZipLimits | None = None,
) -> Path:
    """Extracts an uploaded dataset zip safely into ``dest``.

    Args:
        file: path or binary file object of the zip.
        dest: folder to extract into (created; must be empty or absent).
        limits: size, count and ratio limits (``ZipLimits()`` when None).

    Returns:
        The dataset root inside ``dest`` (single wrapper folders are skipped).

    Raises:
        DataError: the file is not a zip, an entry is unsafe, or a limit is exceeded.
            Nothing is left in ``dest`` in that case.
    """
    limits = limits or ZipLimits()
    target = Path(dest)
    target.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(file) as archive:
            _extract_all(archive, target, limits)
    except zipfile.BadZipFile as error:
        shutil.rmtree(target, ignore_errors=True)
        raise DataError(f"The upload is not a valid zip file ({error}).") from error
    except (DataError, OSError, RuntimeError, NotImplementedError) as error:
        shutil.rmtree(target, ignore_errors=True)
        if isinstance(error, DataError):
            raise
        raise DataError(f"The zip could not be extracted ({error}).") from error
    if not any(target.iterdir()):
        raise DataError("The zip contains no usable files (only folders or system files).")
    return unwrap_dataset_folder(target)


def _extract_all(archive: zipfile.ZipFile, target: Path, limits: ZipLimits) -> None:
    infos = archive.infolist()
    _check_declared(infos, limits)
    budget = limits.max_total_bytes
    for info in infos:
        if info.is_dir():
            continue
        parts = _entry_parts(info)
        if parts is None:
            continue
        out_path = target.joinpath(*parts)
        # Belt and braces against zip slip: the resolved path must stay inside the target.
        if not out_path.resolve().is_relative_to(target.resolve()):
            raise DataError(f"The archive is unsafe: entry {info.filename!r} escapes its folder.")
        out_path.parent.mkdir(parents=True, exist_ok=True)
        entry_budget = min(budget, int(max(info.compress_size, 1) * limits.max_ratio) + _CHUNK)
        with archive.open(info) as source:
            budget -= _copy_limited(source, out_path, entry_budget)


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
