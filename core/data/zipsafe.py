"""Safe extraction of an uploaded zip (its names are checked by ``core.data.names``).

An uploaded archive is untrusted: an entry named ``../../etc/x`` or ``/etc/x`` would write outside
the target folder ("zip slip"), a symlink entry could point anywhere, and a few kilobytes can
inflate to gigabytes ("zip bomb"). ``extract_zip`` refuses the first, and checks the whole
archive before writing anything: the number of files, the total unpacked size, and the
compression ratio of each large entry and of the archive as a whole (1,900 entries of a
million zero bytes each pass a per-entry check but not the archive-wide one). While writing, a
byte budget (the declared sizes) is a second line of defence, since declared sizes can lie.

Entries that cannot be used are dropped, never silently: links, system files, names that are
not portable (``CON``, longer than 255 bytes, control characters), duplicates and entries the
file system refuses are listed with their reason in a small manifest inside the extracted
dataset, which ``core.data.scan.scan_dataset`` adds to the report's skipped files
(``zip_skips``). Messages name archive entries, never a server path.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from core.atomic import write_json_atomic
from core.config.base import ConfigMixin
from core.data.names import is_junk, name_problem, shown_name
from core.data.report import SkippedFile
from core.errors import DataError

# Top-level folder names that mean "the splits are given" (lower case -> split).
SPLIT_ALIASES = {
    "train": "train", "training": "train",
    "val": "val", "valid": "val", "validation": "val",
    "test": "test", "testing": "test",
}  # fmt: skip
# Written by extract_zip into the dataset root; hidden, so the scan never takes it for data.
SKIPPED_MANIFEST = ".zip-skipped.json"
_MANIFEST_ROWS = 10_000
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ZipLimits(ConfigMixin):
    """Limits that stop a zip bomb or an accidental huge upload.

    Attributes:
        max_total_bytes: total uncompressed size of all files of the archive.
        max_files: number of files in the archive.
        max_ratio: uncompressed/compressed size, of one entry larger than 1 MiB and of the
            whole archive (photos barely compress; zeros compress a thousand times).
        ratio_floor_bytes: archives that unpack to less than this skip the archive-wide ratio
            check (a few small, very compressible files are harmless).
    """

    max_total_bytes: int = 2 * 1024**3
    max_files: int = 50_000
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 16 * 1024**2

    def __post_init__(self) -> None:
        if self.max_total_bytes < 1 or self.max_files < 1 or self.max_ratio < 1:
            raise ValueError("Zip limits must be positive numbers.")
        if self.ratio_floor_bytes < 0:
            raise ValueError("The ratio floor of the zip limits cannot be negative.")


def size_text(num_bytes: float) -> str:
    """A byte count for people, in the binary units the caps are set in (``disk_cap_mb`` is
    MiB): "812 KiB", "3.4 MiB", "2.1 GiB"."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if num_bytes >= scale:
            return f"{num_bytes / scale:,.1f} {unit}".replace(".0 ", " ")
    return f"{int(num_bytes)} bytes"


def _unsafe(info: zipfile.ZipInfo, why: str) -> DataError:
    return DataError(
        f"The archive is unsafe: entry {shown_name(info.filename)} {why}. "
        "Re-create the zip from the dataset folder itself."
    )


def _entry_parts(info: zipfile.ZipInfo) -> list[str] | SkippedFile:
    """The safe path parts of an entry, or why it is skipped; raises on zip slip."""
    raw = info.filename.replace("\\", "/")
    if raw.startswith("/") or (len(raw) > 1 and raw[1] == ":"):
        raise _unsafe(info, "has an absolute path")
    parts = [part for part in PurePosixPath(raw).parts if part not in ("", ".")]
    if ".." in parts:
        raise _unsafe(info, "points outside its folder ('..')")
    for index, part in enumerate(parts):
        if is_junk(part):
            kind = "file" if index == len(parts) - 1 else "folder"
            return SkippedFile(info.filename, f"system or hidden {kind}, ignored")
    if stat.S_ISLNK(info.external_attr >> 16):
        return SkippedFile(info.filename, "a link inside the zip, not extracted")
    cleaned = [unicodedata.normalize("NFC", part).strip() for part in parts]
    for index, part in enumerate(cleaned):
        problem = name_problem(part)
        if problem is not None:
            kind = "file" if index == len(cleaned) - 1 else "folder"
            return SkippedFile(info.filename, f"the {kind} name {shown_name(part)} {problem}")
    return cleaned


def _check_archive(files: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Refuses the archive from its directory, before anything is written."""
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
                f"The archive looks like a zip bomb: {shown_name(info.filename)} expands "
                f"{ratio:,.0f} times (the limit is {limits.max_ratio:g}). Images barely "
                "compress; check the file."
            )
    ratio = total / max(sum(info.compress_size for info in files), 1)
    if total > limits.ratio_floor_bytes and ratio > limits.max_ratio:
        raise DataError(
            f"The archive looks like a zip bomb: its {len(files):,} files would unpack to "
            f"{size_text(total)}, {ratio:,.0f} times its packed size (the limit is "
            f"{limits.max_ratio:g} times). Images barely compress; check the files."
        )


def check_zip(file: str | os.PathLike[str] | IO[bytes], limits: ZipLimits | None = None) -> int:
    """``extract_zip``'s first checks, writing nothing (a zip unpacked later, in a worker).

    Returns:
        The bytes its files would unpack to.

    Raises:
        DataError: not a zip, or over a limit (the sentence names it).
    """
    try:
        with zipfile.ZipFile(file) as archive:
            files = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise DataError("The upload is not a valid zip file.") from error
    _check_archive(files, limits or ZipLimits())
    return sum(info.file_size for info in files)


def _copy_limited(source: IO[bytes], target: Path, budget: int) -> int:
    """Copies at most ``budget`` bytes; returns the bytes written or raises when over."""
    written = 0
    with open(target, "xb") as handle:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > budget:
                raise DataError(
                    "The archive unpacks to more than its declared size; it was refused. "
                    "Re-create the zip with a normal tool."
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
        The dataset root inside ``dest`` (single wrapper folders are skipped). The entries that
        were not extracted are listed in its ``SKIPPED_MANIFEST`` (read with ``zip_skips``).

    Raises:
        DataError: the file is not a zip, an entry is unsafe, or a limit is exceeded.
            Nothing is left in ``dest`` in that case.
    """
    limits = limits or ZipLimits()
    target = Path(dest)
    try:
        with zipfile.ZipFile(file) as archive:
            skipped = _extract_all(archive, target, limits)
    except zipfile.BadZipFile as error:
        shutil.rmtree(target, ignore_errors=True)
        raise DataError(f"The upload is not a valid zip file ({error}).") from error
    except (DataError, OSError, RuntimeError, NotImplementedError, EOFError) as error:
        shutil.rmtree(target, ignore_errors=True)
        if isinstance(error, DataError):
            raise
        # An OSError's text names the server path: only its reason is shown.
        reason = error.strerror if isinstance(error, OSError) else str(error)
        raise DataError(f"The zip could not be extracted ({reason}).") from error
    if not target.is_dir() or not any(target.iterdir()):
        shutil.rmtree(target, ignore_errors=True)
        example = f" ({shown_name(skipped[0].path)}: {skipped[0].reason})" if skipped else ""
        raise DataError(
            f"The zip contains no usable files (only folders, system files or skipped "
            f"entries{example})."
        )
    root = unwrap_dataset_folder(target)
    if skipped:
        rows = [{"path": item.path, "reason": item.reason} for item in skipped]
        write_json_atomic(root / SKIPPED_MANIFEST, rows[:_MANIFEST_ROWS])
    return root


def _extract_all(archive: zipfile.ZipFile, target: Path, limits: ZipLimits) -> list[SkippedFile]:
    """Checks the archive, then writes every usable entry; returns the skipped ones."""
    files = [info for info in archive.infolist() if not info.is_dir()]
    _check_archive(files, limits)
    entries = [(info, _entry_parts(info)) for info in files]  # raises on zip slip first
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    budget = min(limits.max_total_bytes, sum(info.file_size for info in files))
    skipped: list[SkippedFile] = []
    for info, parts in entries:
        if isinstance(parts, SkippedFile):
            skipped.append(parts)
            continue
        out_path = target.joinpath(*parts)
        try:
            # Belt and braces against zip slip: the resolved path must stay inside the target.
            if not out_path.resolve().is_relative_to(root):
                raise _unsafe(info, "escapes its folder")
            if out_path.exists():
                reason = "same name as an earlier entry, not extracted"
                skipped.append(SkippedFile(info.filename, reason))
                continue
            out_path.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source:
                budget -= _copy_limited(source, out_path, min(budget, info.file_size))
        except OSError as error:  # e.g. a file and a folder of the same name, path too long
            with contextlib.suppress(OSError):
                out_path.unlink(missing_ok=True)
            reason = error.strerror or type(error).__name__
            skipped.append(SkippedFile(info.filename, f"could not be written ({reason})"))
    return skipped


def zip_skips(root: str | os.PathLike[str]) -> list[SkippedFile]:
    """The entries ``extract_zip`` did not extract into ``root``, with their reasons.

    Returns an empty list for a folder that is not an extracted zip (or a damaged manifest).
    """
    try:
        rows = json.loads((Path(root) / SKIPPED_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(rows, list):
        return []
    return [
        SkippedFile(str(row["path"]), str(row["reason"]))
        for row in rows[:_MANIFEST_ROWS]
        if isinstance(row, dict) and "path" in row and "reason" in row
    ]
