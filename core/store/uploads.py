"""A workspace's uploaded datasets: ``<data_dir>/<workspace folder>/<kind>-<time>/``.

An upload (an extracted zip, or images uploaded class by class) is the visitor's dataset on
the server. Only what is in use is kept: ``replace_uploads`` removes a workspace's other
uploads once a new one has replaced them, and the disk policy (``core.store.disk``) removes
all uploads of an idle workspace. An upload that a queued or running run of the workspace
reads is never removed. A finished run whose upload is gone can still be viewed, evaluated on
its stored predictions and downloaded; re-running it asks for the data again.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import time
from pathlib import Path

from core.config.settings import Settings
from core.data.names import UPLOAD_NAME
from core.errors import StudioError
from core.store.runs import RunStore

UPLOAD_KINDS = ("zip", "upload")


def workspace_data_dir(settings: Settings, folder_name: str) -> Path:
    """The folder holding one workspace's uploads (named like its run folder)."""
    return Path(settings.data_dir) / folder_name


def upload_folder_name(kind: str) -> str:
    """A fresh upload folder name, e.g. ``zip-20261130-101500-123456`` (sorts by time)."""
    if kind not in UPLOAD_KINDS:
        raise ValueError(f"Unknown upload kind {kind!r}; use one of {', '.join(UPLOAD_KINDS)}.")
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.time_ns() // 1000 % 1_000_000:06d}"
    return f"{kind}-{stamp}"


def upload_folders(settings: Settings, folder_name: str) -> list[Path]:
    """The workspace's upload folders, oldest first."""
    root = workspace_data_dir(settings, folder_name)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if UPLOAD_NAME.fullmatch(p.name) and p.is_dir())


def _upload_of(path: str, folders: list[Path]) -> Path | None:
    """The upload folder that ``path`` (a dataset folder) lies in, if any."""
    with contextlib.suppress(OSError, ValueError):
        resolved = Path(path).expanduser().resolve()
        for folder in folders:
            if resolved.is_relative_to(folder.resolve()):
                return folder
    return None


def uploads_in_use(settings: Settings, store: RunStore) -> set[Path]:
    """Upload folders that a queued or running run of the workspace trains on."""
    folders = upload_folders(settings, store.root.name)
    used: set[Path] = set()
    for run_id in store.run_ids():
        try:
            if not store.is_active(run_id):
                continue
            folder = _upload_of(store.load(run_id).config.data.path, folders)
        except StudioError:
            continue  # deleted meanwhile, or a damaged config: nothing to protect
        if folder is not None:
            used.add(folder)
    return used


def remove_folder(path: Path) -> None:
    """Removes a folder so that no half-removed copy is ever seen under its own name."""
    trash = path.with_name(f".removing-{path.name}-{secrets.token_hex(2)}")
    try:
        path.rename(trash)
    except OSError:
        trash = path
    shutil.rmtree(trash, ignore_errors=True)


def replace_uploads(settings: Settings, store: RunStore, keep: Path | None = None) -> list[Path]:
    """Removes the workspace's uploads except ``keep`` and those in use by active runs.

    The UI calls it once a new upload has been loaded (it replaced the previous dataset).
    When a new upload cannot be loaded, the UI calls ``remove_upload`` for it instead, so the
    previous dataset stays usable.

    Args:
        settings: where the data folder is.
        store: the workspace (its folder name names the uploads; its active runs are kept).
        keep: the upload now in use (any folder inside it counts as the same upload).

    Returns:
        The removed folders.
    """
    folders = upload_folders(settings, store.root.name)
    kept = _upload_of(str(keep), folders) if keep is not None else None
    used = uploads_in_use(settings, store)
    removed = [folder for folder in folders if folder != kept and folder not in used]
    for folder in removed:
        remove_folder(folder)
    return removed


def remove_upload(settings: Settings, store: RunStore, folder: Path) -> bool:
    """Removes one upload of the workspace (e.g. a new upload that could not be loaded).

    Returns:
        True when it was removed; False when ``folder`` is not an upload of this workspace or a
        queued or running run uses it.
    """
    upload = _upload_of(str(folder), upload_folders(settings, store.root.name))
    if upload is None or upload in uploads_in_use(settings, store):
        return False
    remove_folder(upload)
    return True
