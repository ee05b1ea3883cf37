"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Writes ``data`` to ``path`` through a temp file in the same folder and a rename."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Writes UTF-8 ``text`` atomically (see ``write_bytes_atomic``)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> None:
    """Writes ``data`` as indented UTF-8 JSON atomically."""
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False, allow_nan=True))


def write_via_temp(path: str | os.PathLike[str], write: Callable[[Path], object]) -> None:
    """Lets ``write`` create a temp file beside ``path``, then renames it over ``path``.

    For writers that need a file name rather than bytes (``model.save``,
    ``model.save_weights``): the temp name keeps the target's full name as its ending, so
    suffix checks such as Keras's ``.weights.h5`` still pass. A process killed mid-write leaves
    the previous file intact (only a stray temp file), never a truncated one.
    """
    target = Path(path)
    tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def read_json_object(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The JSON object stored at ``path``; None when it is missing, unreadable or not an object
    (the records written by ``write_json_atomic`` are read back through this)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
