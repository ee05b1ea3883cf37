"""The disk cap: new work is refused with a plain sentence when no room is left under it.

``check_disk_room`` first trims the disk (``core.store.trim``), then refuses when the studio's
files (plus what the new work will write) would still exceed ``Settings.disk_cap_mb``. The UI
and the job runner call it before starting training, an export or an upload.
"""

from __future__ import annotations

import dataclasses

from core.config.settings import Settings
from core.data.zipsafe import ZipLimits, size_text
from core.errors import StudioError
from core.store.trim import DiskTrim, trim_disk


class DiskFullError(StudioError):
    """The studio's files reached the disk cap and nothing more may be removed."""


def check_disk_room(settings: Settings, action: str, needed_bytes: int = 0) -> DiskTrim:
    """Makes room under the disk cap, or refuses new work when there is none.

    Call it before starting training, an export or an upload.

    Args:
        settings: the cap and the folders.
        action: what would start, as it reads in a sentence ("training", "this export",
            "this upload").
        needed_bytes: what the new work will write, when known (e.g. an upload's size).

    Returns:
        The ``DiskTrim`` (``cap_bytes - total_bytes`` is the room left).

    Raises:
        DiskFullError: the studio's files (plus ``needed_bytes``) would exceed the cap.
    """
    trim = trim_disk(settings)
    if trim.total_bytes + max(needed_bytes, 0) > trim.cap_bytes:
        raise DiskFullError(
            f"There is no disk space left for {action}: the studio's files take "
            f"{size_text(trim.total_bytes)} of the {size_text(trim.cap_bytes)} it may use, and "
            "what remains belongs to runs that are in progress or recently used. Delete runs "
            "or exports you no longer need on the Runs page, or ask whoever runs the studio "
            "to raise its disk cap (STUDIO_DISK_CAP_MB)."
        )
    return trim


def upload_limits(settings: Settings, limits: ZipLimits | None = None) -> ZipLimits:
    """Zip limits for an upload that also fit the room left under the disk cap.

    Raises:
        DiskFullError: no room is left at all.
    """
    base = limits or ZipLimits()
    room = check_disk_room(settings, "this upload", needed_bytes=1)
    free = room.cap_bytes - room.total_bytes
    return dataclasses.replace(base, max_total_bytes=max(1, min(base.max_total_bytes, free)))
