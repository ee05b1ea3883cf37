"""Checking a ``.keras`` file's weights against its config, reading only the HDF5 structure.

Keras loads ``model.weights.h5`` after building the model; a file whose weights are missing,
unreadable, a decompression bomb or of other shapes than the config's would only fail after
the build allocated everything. ``check_weights_member`` refuses those first: it reads the
member in place (no temp file, no weight value read) and compares its variables, by layer name
and shape, with what the config will create (``core.predict.keras_config``).
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections import Counter
from typing import IO, Any

from core.data.zipsafe import ZipLimits
from core.errors import ModelFileError
from core.predict.layer_params import Shape

WEIGHTS_MEMBER = "model.weights.h5"
OPTIMIZER_GROUP = "optimizer"  # its slots are not the model's; inference never loads them
MAX_STORED_VARIABLES = 200_000
_BOMB_FLOOR_BYTES = 2**20  # smaller members are too small to matter, as for dataset zips
NO_WEIGHTS = (
    "The model file has no readable weights (model.weights.h5), so it cannot be checked "
    "against its config and was refused. Save it with model.save('name.keras') and upload it "
    "again."
)


class _StoredMember(io.RawIOBase):
    """A stored (uncompressed) zip member read in place: seeks are free, unlike ``ZipExtFile``,
    whose forward seek reads and checksums every byte it skips."""

    def __init__(self, handle: IO[bytes], start: int, size: int) -> None:
        super().__init__()
        self._handle, self._start, self._size, self._pos = handle, start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        count = max(0, min(len(buffer), self._size - self._pos))
        self._handle.seek(self._start + self._pos)
        data = self._handle.read(count)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


def _open_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    """The member as a seekable file: in place when stored (as Keras writes it), else unpacked
    on the fly (bounded by the expansion ratio checked before)."""
    handle = archive.fp
    if info.compress_type != zipfile.ZIP_STORED or handle is None:
        return archive.open(info)
    handle.seek(info.header_offset)
    header = handle.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise ModelFileError(NO_WEIGHTS)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = info.header_offset + 30 + name_length + extra_length
    return io.BufferedReader(_StoredMember(handle, start, info.file_size))


def _stored_variables(handle: Any) -> Counter[tuple[str, Shape]]:
    """(layer name, shape) of every variable in the weights file, optimizer slots left out."""
    import h5py

    found: Counter[tuple[str, Shape]] = Counter()
    seen = [0]

    def add(name: str, item: Any) -> None:
        if name.split("/")[0] == OPTIMIZER_GROUP or not isinstance(item, h5py.Dataset):
            return
        seen[0] += 1
        if seen[0] > MAX_STORED_VARIABLES:
            raise ModelFileError("The model's weights file holds far too many variables.")
        layer = item.parent.attrs.get("name", "")
        layer = layer.decode("utf-8", "replace") if isinstance(layer, bytes) else str(layer)
        found[(layer, tuple(int(v) for v in item.shape or ()))] += 1

    with h5py.File(handle, "r") as weights:
        weights.visititems(add)
    return found


def check_weights_member(
    archive: zipfile.ZipFile, expected: Counter[tuple[str, Shape]], limits: ZipLimits
) -> None:
    """Refuses weights that are missing, a bomb, unreadable, or not the config's variables.

    Args:
        archive: the open ``.keras`` archive.
        expected: (layer name, shape) -> count that building the config creates.
        limits: the zip limits (their expansion ratio applies to the member, as to datasets).

    Raises:
        ModelFileError: a plain sentence saying which.
    """
    if not expected:
        return  # nothing to load: the model holds no variables
    try:
        info = archive.getinfo(WEIGHTS_MEMBER)
    except KeyError:
        raise ModelFileError(NO_WEIGHTS) from None
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > _BOMB_FLOOR_BYTES and ratio > limits.max_ratio:
        raise ModelFileError(
            f"The model's weights expand {ratio:,.0f} times when unpacked (the limit is "
            f"{limits.max_ratio:g}); real weights barely compress, so the file was refused."
        )
    try:
        with _open_member(archive, info) as handle:
            found = _stored_variables(handle)
    except ModelFileError:
        raise
    except Exception as error:  # h5py raises OSError, KeyError, ValueError...: all unreadable
        raise ModelFileError(NO_WEIGHTS) from error
    if found != expected:
        stored, built = sum(found.values()), sum(expected.values())
        what = (
            f"it holds {stored} variables where the config builds {built}"
            if stored != built
            else "its variables have other shapes or layer names than the config's"
        )
        raise ModelFileError(
            f"The model's weights file does not match its config: {what}, so the file was "
            "refused. Save the model again with model.save."
        )
