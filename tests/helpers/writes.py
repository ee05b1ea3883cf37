"""Observing writes from inside the test process: which files and folders a call creates.

``sys.addaudithook`` (PEP 578) reports every ``open`` and ``os.mkdir`` the interpreter makes,
with the path and the open flags. ``watch_writes(folder)`` records each file opened for writing
and each folder made at or below ``folder`` while its block runs. A test of "refused before a
byte is written" then checks that nothing was written at all, not merely that nothing is left
afterwards (a version that writes and then removes is caught). With ``stop=True`` the first write
raises ``WriteObserved``, so a faulty version is stopped before it writes gigabytes.

Audit hooks cannot be removed once added: one hook is installed for the process, and it only
looks at the watches that are open.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class WriteObserved(AssertionError):
    """Raised by a ``stop=True`` watch at the first write under its folder.

    An ``AssertionError`` on purpose: the code under test catches ``OSError`` and friends, so
    it cannot swallow this one and carry on writing.
    """


@dataclass
class _Watch:
    root: str
    stop: bool
    writes: list[str] = field(default_factory=list)

    def covers(self, path: str) -> bool:
        return path == self.root or path.startswith(self.root + os.sep)


_WATCHES: list[_Watch] = []


def _path_of(value: Any) -> str | None:
    """The absolute path an audit event names, or None for a file descriptor."""
    if isinstance(value, int):
        return None
    try:
        return os.path.abspath(os.fsdecode(value))
    except TypeError:
        return None


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _WATCHES or event not in ("open", "os.mkdir"):
        return
    if event == "open":
        flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
        mode = args[1] if len(args) > 1 and isinstance(args[1], str) else ""
        if not (flags & _WRITE_FLAGS or any(char in mode for char in "wxa+")):
            return  # opened for reading only
    path = _path_of(args[0])
    if path is None:
        return
    for watch in list(_WATCHES):
        if watch.covers(path):
            watch.writes.append(f"{event} {path}")
            if watch.stop:
                raise WriteObserved(f"{event} of {path} while nothing may be written")


sys.addaudithook(_hook)


@contextmanager
def watch_writes(folder: Path, *, stop: bool = False) -> Iterator[list[str]]:
    """Records (``"open <path>"`` / ``"os.mkdir <path>"``) every write at or below ``folder``.

    Args:
        folder: the folder to watch (it need not exist yet; its own creation counts).
        stop: raise ``WriteObserved`` at the first write instead of only recording it.

    Yields:
        The list the writes are appended to, in order.
    """
    watch = _Watch(os.path.abspath(folder), stop)
    _WATCHES.append(watch)
    try:
        yield watch.writes
    finally:
        _WATCHES.remove(watch)
