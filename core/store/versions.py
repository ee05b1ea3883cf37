"""Room for a new dataset version: the workspace's version count and the disk cap, checked first.

A dataset version (``core.data.dataset_version``: a label fix from the Evaluate page, or the
Data page's deduplicated copy) is an upload folder of the workspace that holds a
``version.json``. Each one is cheap on disk (hard links), but a visitor who keeps saving them
fills the data folder with folders, so a workspace keeps at most
``Settings.max_dataset_versions``. Older versions are not removed to make room: one may be
the dataset a run or a "Retrain on the corrected data" button still names. Loading a new
upload on the Data page removes the versions no queued or running run reads
(``core.store.uploads.replace_uploads``), as the idle policy does.

``new_version_dir`` makes the checks in the order a visitor expects (a read-only link is
refused first), before anything is written.
"""

from __future__ import annotations

from pathlib import Path

from core.config.settings import Settings
from core.data.dataset_version import VERSION_FILE
from core.errors import StudioError
from core.store.access import require_owner
from core.store.disk import check_disk_room
from core.store.runs import RunStore
from core.store.uploads import upload_folders
from core.store.workspace import new_upload_dir


class VersionLimitError(StudioError):
    """The workspace holds as many dataset versions as it may; nothing was written."""


def dataset_versions(settings: Settings, store: RunStore) -> list[Path]:
    """The workspace's saved dataset versions (upload folders with a manifest), oldest first."""
    return [
        folder
        for folder in upload_folders(settings, store.root.name)
        if (folder / VERSION_FILE).is_file()
    ]


def check_version_quota(settings: Settings, store: RunStore) -> None:
    """Refuses a new dataset version when the workspace already holds the most it may.

    Raises:
        VersionLimitError: the sentence gives the count, the limit and what to do.
    """
    count, cap = len(dataset_versions(settings, store)), settings.max_dataset_versions
    if count >= cap:
        raise VersionLimitError(
            f"This workspace already holds {count} saved dataset versions, the most it may "
            f"keep ({cap}), so no new one was saved. Load a new dataset (a zip or images) on "
            "the Data page: the versions no queued or running run uses are then removed."
        )


def new_version_dir(settings: Settings, store: RunStore, action: str) -> Path:
    """A new folder path for a dataset version (not created), once there is room for it.

    Args:
        settings: the version limit, the disk cap and the folders.
        store: the OWNER's store of the workspace.
        action: what is saved, as it reads in a sentence ("the corrected dataset").

    Raises:
        ReadOnlyError: a read-only link. VersionLimitError: too many versions.
        DiskFullError: no room under the disk cap.
    """
    require_owner(store, "saving a dataset version")
    check_version_quota(settings, store)
    check_disk_room(settings, action)
    return new_upload_dir(settings, store, "upload")
