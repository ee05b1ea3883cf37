"""Trimming the disk: what counts toward the cap, and what goes first when it is too much.

``Settings.disk_cap_mb`` caps everything the studio writes: ``runs_dir`` (runs, job folders),
``cache_dir`` (feature cache, export bundles) and ``data_dir`` (uploads, the sample dataset).
It runs before new work is accepted (``core.store.disk.check_disk_room``) and as the last step
of every training job (``trim_after_run``).

``trim_disk`` always removes exports whose run is gone, the uploads of idle workspaces and
idle workspace folders left empty. Then, only while over the cap, in this order:

1. least recently used feature-cache entries (they only cost a re-extraction), except those
   used in the last ``heartbeat_stale_s`` seconds (a run in progress may be reading them);
2. export bundles of idle workspaces, oldest first (the run can export again);
3. runs of idle workspaces that are not queued or running (finished, stopped, failed or
   interrupted), oldest first, each workspace's newest run last.

Never touched: a queued or running run, and anything of an active workspace, i.e. one with a
visit, an upload or a run status change in the last ``workspace_idle_s`` seconds (so a run
that has just finished keeps its whole workspace). When that is not enough the disk stays
over the cap and new work is refused with a plain sentence (``core.store.disk``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.config.settings import Settings
from core.errors import StudioError
from core.store.datasets import DATASET_RECORD
from core.store.feature_cache import FeatureCache, feature_cache_folder
from core.store.runs import RunStore
from core.store.uploads import remove_folder, upload_folders, uploads_in_use, workspace_data_dir
from core.store.workspace import (
    EXPORTS_FOLDER,
    MARKER,
    SHARED_FOLDER,
    WORKSPACE_NAME,
    is_idle,
    workspace_folders,
)


@dataclass
class DiskTrim:
    """What ``trim_disk`` removed, and the disk use afterwards."""

    runs: list[str] = field(default_factory=list)
    feature_entries: int = 0
    exports: int = 0
    uploads: int = 0
    workspaces: int = 0
    freed_bytes: int = 0
    total_bytes: int = 0
    cap_bytes: int = 0

    @property
    def over_cap(self) -> bool:
        """True when the studio's files still take more than the cap."""
        return self.total_bytes > self.cap_bytes

    def removed(self, size: int) -> None:
        """Books ``size`` bytes as freed."""
        self.total_bytes -= size
        self.freed_bytes += size


def folder_bytes(folder: Path, seen: set[tuple[int, int]] | None = None) -> int:
    """Size of the files below ``folder`` (links are not followed).

    A file with several hard links (a dataset version's images, ``core.data.dataset_version``)
    takes its space once: its inode is counted the first time only, here and in any other
    folder counted with the same ``seen`` set.
    """
    seen = set() if seen is None else seen
    total = 0
    for base, _, files in os.walk(folder):
        for name in files:
            try:
                info = os.lstat(os.path.join(base, name))
            except OSError:
                continue
            if info.st_nlink > 1:
                if (info.st_dev, info.st_ino) in seen:
                    continue
                seen.add((info.st_dev, info.st_ino))
            total += info.st_size
    return total


def used_bytes(settings: Settings) -> int:
    """Everything the studio keeps: ``runs_dir`` + ``cache_dir`` + ``data_dir`` (each folder and
    each hard-linked file once)."""
    roots: list[Path] = []
    for name in ("runs_dir", "cache_dir", "data_dir"):
        root = Path(getattr(settings, name)).resolve()
        if not any(root == other or root.is_relative_to(other) for other in roots):
            roots = [other for other in roots if not other.is_relative_to(root)] + [root]
    seen: set[tuple[int, int]] = set()
    return sum(folder_bytes(root, seen) for root in roots)


def _remove_tree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def _exports_root(settings: Settings) -> Path:
    return Path(settings.cache_dir) / EXPORTS_FOLDER


def _remove_orphan_exports(settings: Settings, trim: DiskTrim) -> None:
    """Removes exports whose run folder no longer exists (deleted run or workspace)."""
    root = _exports_root(settings)
    if not root.is_dir():
        return
    runs_root = Path(settings.runs_dir)
    for workspace in (p for p in root.iterdir() if p.is_dir()):
        for folder in workspace.iterdir():
            if not (runs_root / workspace.name / folder.name).is_dir():
                trim.freed_bytes += folder_bytes(folder)
                _remove_tree(folder)
                trim.exports += 1
        with contextlib.suppress(OSError):
            workspace.rmdir()  # only when it became empty


def _is_empty(folder: Path) -> bool:
    """True when a workspace folder holds nothing but its marker, its dataset record (whose
    upload the idle sweep removes first) and removal leftovers."""
    leftovers = (".deleting-", ".removing-")
    kept = (MARKER, DATASET_RECORD)
    return all(p.name in kept or p.name.startswith(leftovers) for p in folder.iterdir())


def _sweep_idle(settings: Settings, idle: list[Path], trim: DiskTrim) -> None:
    """Removes idle workspaces' uploads, then the idle workspaces left empty."""
    for folder in idle:
        store = RunStore(folder, stale_s=settings.heartbeat_stale_s)
        in_use = uploads_in_use(settings, store)
        for upload in upload_folders(settings, folder.name):
            if upload not in in_use:
                trim.freed_bytes += folder_bytes(upload)
                remove_folder(upload)
                trim.uploads += 1
        data_folder = workspace_data_dir(settings, folder.name)
        with contextlib.suppress(OSError):
            data_folder.rmdir()  # only when it became empty
        if folder.name != SHARED_FOLDER and _is_empty(folder) and not data_folder.exists():
            remove_folder(folder)
            trim.workspaces += 1


def _sweep_stray_uploads(settings: Settings, now: float, trim: DiskTrim) -> None:
    """Removes idle uploads of workspaces that have no run folder (written before it existed)."""
    root = Path(settings.data_dir)
    if not root.is_dir():
        return
    runs_root = Path(settings.runs_dir)
    for folder in root.iterdir():
        if not WORKSPACE_NAME.fullmatch(folder.name) or (runs_root / folder.name).exists():
            continue
        uploads = upload_folders(settings, folder.name)
        newest = max((upload.stat().st_mtime for upload in uploads), default=0.0)
        if now - newest > settings.workspace_idle_s:
            for upload in uploads:
                trim.freed_bytes += folder_bytes(upload)
                remove_folder(upload)
                trim.uploads += 1
            with contextlib.suppress(OSError):
                folder.rmdir()


def _evict_features(settings: Settings, trim: DiskTrim) -> None:
    """Deletes least recently used feature entries while over the cap."""
    recent = time.time() - settings.heartbeat_stale_s
    for entry in FeatureCache(feature_cache_folder(settings.cache_dir)).entries():
        if not trim.over_cap:
            return
        if entry.last_used > recent:
            continue  # a run in progress may be reading it
        with contextlib.suppress(OSError):
            entry.path.unlink()
            trim.removed(entry.size)
            trim.feature_entries += 1


def _evict_idle_exports(settings: Settings, idle: list[Path], trim: DiskTrim) -> None:
    """Deletes idle workspaces' export bundles, oldest first, while over the cap."""
    folders = [
        export
        for workspace in idle
        if (_exports_root(settings) / workspace.name).is_dir()
        for export in (_exports_root(settings) / workspace.name).iterdir()
    ]
    for folder in sorted(folders, key=lambda p: p.stat().st_mtime):
        if not trim.over_cap:
            return
        size = folder_bytes(folder)
        _remove_tree(folder)
        trim.removed(size)
        trim.exports += 1


def _evict_idle_runs(settings: Settings, idle: list[Path], trim: DiskTrim) -> None:
    """Deletes ended runs of idle workspaces while over the cap (newest of each last)."""
    candidates: list[tuple[bool, str, RunStore]] = []
    for folder in idle:
        store = RunStore(folder, stale_s=settings.heartbeat_stale_s)
        run_ids = store.run_ids()
        candidates += [(run_id == run_ids[-1], run_id, store) for run_id in run_ids]
    for _, run_id, store in sorted(candidates, key=lambda c: (c[0], c[1])):
        if not trim.over_cap:
            return
        with contextlib.suppress(StudioError, OSError):
            size = folder_bytes(store.path(run_id))
            export = _exports_root(settings) / store.root.name / run_id
            size += folder_bytes(export)
            store.delete(run_id)  # refuses a queued or running run
            shutil.rmtree(export, ignore_errors=True)
            trim.removed(size)
            trim.runs.append(run_id)


def trim_disk(settings: Settings) -> DiskTrim:
    """Applies the disk policy of this module's docstring; returns what it removed."""
    trim = DiskTrim(cap_bytes=int(settings.disk_cap_mb * 1024 * 1024))
    now = time.time()
    idle = [folder for folder in workspace_folders(settings) if is_idle(settings, folder, now)]
    _remove_orphan_exports(settings, trim)
    _sweep_idle(settings, idle, trim)
    _sweep_stray_uploads(settings, now, trim)
    idle = [folder for folder in idle if folder.is_dir()]
    trim.total_bytes = used_bytes(settings)
    _evict_features(settings, trim)
    _evict_idle_exports(settings, idle, trim)
    _evict_idle_runs(settings, idle, trim)
    return trim


def enforce_disk_cap(settings: Settings) -> list[str]:
    """Applies the disk policy (``trim_disk``); returns the ids of the deleted runs."""
    return trim_disk(settings).runs


def remove_orphan_exports(settings: Settings) -> int:
    """Removes the export bundles of runs that no longer exist; returns how many.

    Call it after deleting a run (``trim_disk`` also does it after every job).
    """
    trim = DiskTrim()
    _remove_orphan_exports(settings, trim)
    return trim.exports


def trim_after_run(settings: Settings) -> str | None:
    """Trims the disk after a run ended; returns a sentence when it deleted runs or features.

    A finished run may push the studio over the cap; its own workspace is active (it has just
    changed), so only other, idle workspaces lose runs.
    """
    try:
        trim = trim_disk(settings)
    except OSError:
        return None
    if not (trim.runs or trim.feature_entries):
        return None
    return (
        f"Disk cap reached: deleted {len(trim.runs)} old finished run(s) and "
        f"{trim.feature_entries} cached feature file(s)."
    )
