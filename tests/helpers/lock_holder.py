"""A process that holds the job queue's lock (``<runs>/.jobs.lock``) until it is told to let go.

Kept apart from the tests that use it, with no heavy import, so that a spawned child starts in
a moment: it only needs ``filelock``.
"""

from __future__ import annotations

from typing import Any

from filelock import FileLock


def hold_lock(lock_file: str, taken: Any, release: Any, deadline_s: float) -> None:
    """Takes the lock, sets ``taken``, and holds it until ``release`` is set (or the deadline)."""
    with FileLock(lock_file):
        taken.set()
        release.wait(deadline_s)
