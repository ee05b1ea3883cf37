"""Hostile zips for tests: built fast, including a zip-bomb shape zipfile would take seconds on.

``repeated_entry_zip`` writes the zip format by hand so one compressed payload is reused for
every entry: 1,900 entries of a million zero bytes take milliseconds instead of compressing
1.9 GB. The result is a normal zip that ``zipfile`` reads and checks (CRC included).
"""

from __future__ import annotations

import io
import stat
import struct
import zipfile
import zlib
from pathlib import Path

from PIL import Image


def png(color: tuple[int, int, int] = (9, 9, 9), size: int = 32) -> bytes:
    """A small valid PNG."""
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, "PNG")
    return buffer.getvalue()


def zip_of(path: Path, entries: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    """Writes ``entries`` (name -> bytes, deflated) and symlink entries (name -> target)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def repeated_entry_zip(path: Path, count: int, payload: bytes, pattern: str = "a/{}.png") -> Path:
    """A zip of ``count`` entries named ``pattern.format(i)``, each holding ``payload``."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate, as zip stores it
    packed = compressor.compress(payload) + compressor.flush()
    crc = zlib.crc32(payload)
    body, directory = io.BytesIO(), io.BytesIO()
    for index in range(count):
        name = pattern.format(index).encode("utf-8")
        offset = body.tell()
        sizes = struct.pack("<III", crc, len(packed), len(payload))
        body.write(struct.pack("<IHHHHH", 0x04034B50, 20, 0, 8, 0, 0x21) + sizes)
        body.write(struct.pack("<HH", len(name), 0) + name + packed)
        directory.write(struct.pack("<IHHHHHH", 0x02014B50, 20, 20, 0, 8, 0, 0x21) + sizes)
        directory.write(struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, offset) + name)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, directory.tell(), body.tell(), 0)
    path.write_bytes(body.getvalue() + directory.getvalue() + end)
    return path
