"""The demo's dataset: real photos when they can be downloaded and verified, else drawn shapes.

``ensure_demo_data`` downloads the zip named by ``core.config.demo_photos.DemoPhotos`` once,
checks its content digest (``archive_content_digest``) BEFORE anything is extracted, unpacks it
with the safe extraction of uploads (``core.data.zipsafe.extract_zip``) and keeps the folder in
the data root, named by the digest, so later demos use it without a download. Offline, on a
dead address, a refused size or a wrong digest, nothing is unpacked and the drawn shapes
(``core.data.sample``) are used; the returned notice says which demo was chosen and why.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from core.config.demo_photos import DemoPhotos
from core.data.names import is_junk
from core.data.sample import ensure_sample_dataset
from core.data.zipsafe import ZipLimits, check_zip, extract_zip, unwrap_dataset_folder
from core.errors import DataError

PHOTOS_FOLDER = "demo_photos_"  # + the first 16 hex digits of the content digest
_CHUNK = 1 << 20


@dataclass(frozen=True)
class DemoData:
    """The dataset the demo uses.

    Attributes:
        folder: the dataset folder to load.
        photos: True for the downloaded photos, False for the drawn shapes.
        notice: one sentence saying which demo is used (and why, for the shapes).
        source: the photos' origin and licence ("" for the shapes, drawn here).
    """

    folder: Path
    photos: bool
    notice: str
    source: str = ""


def archive_content_digest(file: str | os.PathLike[str], limits: ZipLimits | None = None) -> str:
    """The content digest of a zip (``core.config.demo_photos``), read without extracting.

    Each file (folders and OS metadata such as ``__MACOSX`` left out) is streamed through
    sha256 within the zip limits and its declared size; the digest is the sha256 of the
    ``sha256sum`` lines ``<hex>  <path>\\n``, sorted by path.

    Raises:
        DataError: not a zip, over a limit, or a member larger than it declares.
    """
    check_zip(file, limits)  # counts, sizes and ratios, before a byte is inflated
    lines = []
    try:
        with zipfile.ZipFile(file) as archive:
            members = [info for info in archive.infolist() if not info.is_dir()]
            for info in sorted(members, key=lambda member: member.filename):
                if any(is_junk(part) for part in info.filename.split("/")):
                    continue
                with archive.open(info) as source:
                    lines.append(f"{_member_sha256(source, info.file_size)}  {info.filename}\n")
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as error:
        raise DataError("The demo archive could not be read as a zip.") from error
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def _member_sha256(source: IO[bytes], declared: int) -> str:
    """The sha256 of one member's bytes; refuses a member that inflates past its size."""
    digest, read = hashlib.sha256(), 0
    while chunk := source.read(_CHUNK):
        read += len(chunk)
        if read > declared:
            raise DataError("The demo archive unpacks to more than its declared size.")
        digest.update(chunk)
    return digest.hexdigest()


def download(url: str, target: Path, timeout_s: float, max_bytes: int) -> None:
    """Streams ``url`` into ``target``, at most ``max_bytes``.

    Raises:
        DataError: no answer, an HTTP error or too large a file (the reason in words).
    """
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response, open(target, "wb") as out:
            written = 0
            while chunk := response.read(_CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise DataError(f"the file is larger than {max_bytes / 2**20:.0f} MB")
                out.write(chunk)
    except urllib.error.HTTPError as error:
        raise DataError(f"the server answered HTTP {error.code}") from error
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as error:
        raise DataError("offline, or the address did not answer in time") from error


def ensure_demo_data(
    data_root: str | os.PathLike[str], photos: DemoPhotos, shapes_per_class: int = 100
) -> DemoData:
    """The demo's dataset under ``data_root``: the verified photos, else the drawn shapes.

    Args:
        data_root: the folder holding the demo sets (the workspace's data root).
        photos: where the photos come from and their content digest.
        shapes_per_class: drawn images per class of the fallback (``ensure_sample_dataset``).
    """
    root = Path(data_root)
    shapes = functools.partial(_shapes, root, shapes_per_class)
    final = root / f"{PHOTOS_FOLDER}{photos.content_sha256[:16]}"
    if final.is_dir():
        return _photos(final, photos)
    if not photos.enabled:
        return shapes("no photo download is set up")
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".demo-download-", dir=root) as temp:
        archive = Path(temp) / "demo.zip"
        try:
            download(photos.url, archive, photos.timeout_s, int(photos.max_mb * 2**20))
            if archive_content_digest(archive) != photos.content_sha256:
                return shapes("the downloaded photos did not match their checksum")
            extract_zip(archive, Path(temp) / "data")
        except DataError as error:
            return shapes(f"the photos could not be downloaded: {error}")
        try:
            os.rename(Path(temp) / "data", final)
        except OSError:
            if not final.is_dir():  # a real failure, not another session winning the race
                raise
    return _photos(final, photos)


def _photos(folder: Path, photos: DemoPhotos) -> DemoData:
    notice = "The demo uses real photos (downloaded once, checksum verified)."
    return DemoData(unwrap_dataset_folder(folder), True, notice, photos.source)


def _shapes(root: Path, per_class: int, why: str) -> DemoData:
    notice = f"The demo uses the drawn shapes: {why}."
    return DemoData(ensure_sample_dataset(root, images_per_class=per_class), False, notice)
