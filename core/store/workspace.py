"""Workspaces: each visitor's runs live under an unguessable token kept in the URL.

A token (``secrets.token_urlsafe``) is never used as a folder name as-is: the folder is named
after its SHA-256, so listing ``runs/`` reveals no valid link. An unknown token is refused with
a plain message rather than silently creating a new empty workspace. ``Settings.shared_workspace``
turns on one shared workspace for single-user local use (used when no token is given).

The disk cap lives here too because it spans all workspaces. ``Settings.disk_cap_mb`` caps
``runs_dir`` plus what the studio keeps under ``cache_dir``: the feature cache
(``cache_dir/features``) and export bundles (``cache_dir/exports/<workspace folder>/<run id>``,
written by the evaluate area). ``enforce_disk_cap`` always removes exports whose run is gone;
then, while over the cap, it deletes the least recently used cached features (they only cost
a re-extraction), then the oldest finished runs of inactive workspaces (with their exports),
then those of active ones. A run in progress, its exports, and cache entries used in the last
``heartbeat_stale_s`` seconds (an active run may be reading them) are never touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import StudioError
from core.settings import Settings
from core.store.feature_cache import FeatureCache, feature_cache_folder
from core.store.runs import ACTIVE_STATUSES, RunStore

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
SHARED_FOLDER = "shared"
MARKER = ".workspace"
EXPORTS_FOLDER = "exports"  # sub-folder of Settings.cache_dir


class WorkspaceError(StudioError):
    """The workspace token is malformed or unknown."""


def new_token() -> str:
    """Returns a new unguessable workspace token (192 random bits, URL-safe)."""
    return secrets.token_urlsafe(24)


def validate_token(token: object) -> str:
    """Returns ``token`` if it has the shape of a workspace token, else raises WorkspaceError."""
    if not isinstance(token, str) or not TOKEN_PATTERN.fullmatch(token):
        raise WorkspaceError(
            "This workspace link is not valid. Open the studio without a workspace in the "
            "address to start a new workspace."
        )
    return token


def workspace_dir(settings: Settings, token: str | None) -> Path:
    """Returns the folder of a workspace (the shared one when ``token`` is empty)."""
    if not token:
        return Path(settings.runs_dir) / SHARED_FOLDER
    digest = hashlib.sha256(validate_token(token).encode("ascii")).hexdigest()[:32]
    return Path(settings.runs_dir) / f"ws-{digest}"


def _touch(folder: Path) -> None:
    """Marks the workspace as recently used (drives the retention policy)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).touch()


def create_workspace(settings: Settings) -> str:
    """Creates a new empty workspace and returns its token (put it in the URL)."""
    token = new_token()
    _touch(workspace_dir(settings, token))
    return token


def workspace_store(settings: Settings, token: str | None) -> RunStore:
    """Returns the run store of a workspace.

    Args:
        settings: process settings (``runs_dir``, ``shared_workspace``).
        token: the workspace token from the URL; empty/None means the shared workspace,
            which is only available when ``settings.shared_workspace`` is on.

    Raises:
        WorkspaceError: malformed or unknown token, or no token while sharing is off.
    """
    if not token:
        if not settings.shared_workspace:
            raise WorkspaceError("No workspace was given: start a new workspace first.")
        folder = workspace_dir(settings, None)
    else:
        folder = workspace_dir(settings, token)
        if not (folder / MARKER).is_file():
            raise WorkspaceError(
                "This workspace link is unknown here (it may have expired or been mistyped). "
                "Open the studio without a workspace in the address to start a new one."
            )
    _touch(folder)
    return RunStore(folder, stale_s=settings.heartbeat_stale_s)


def export_dir(settings: Settings, store: RunStore, run_id: str) -> Path:
    """Where a run's export bundle goes: ``cache_dir/exports/<workspace folder>/<run id>``.

    The folder is named like the workspace's run folder (never the token), so the disk cap
    can tell which exports belong to deleted runs.

    Raises:
        RunNotFoundError: malformed or unknown run id.
    """
    return Path(settings.cache_dir) / EXPORTS_FOLDER / store.root.name / store.path(run_id).name


def _folder_bytes(folder: Path) -> int:
    """Size of the files below ``folder`` (links are not followed)."""
    total = 0
    for base, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(base, name)).st_size
    return total


def _remove_tree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def _export_folders(settings: Settings) -> list[Path]:
    """Every ``exports/<workspace>/<run>`` folder."""
    root = Path(settings.cache_dir) / EXPORTS_FOLDER
    if not root.is_dir():
        return []
    return [run for ws in root.iterdir() if ws.is_dir() for run in ws.iterdir()]


@dataclass
class DiskTrim:
    """What ``trim_disk`` removed."""

    runs: list[str] = field(default_factory=list)
    feature_entries: int = 0
    exports: int = 0
    freed_bytes: int = 0
    total_bytes: int = 0


@dataclass
class _Candidate:
    store: RunStore
    run_id: str
    size: int
    workspace_inactive: bool
    export: Path


def _workspace_folders(settings: Settings) -> list[Path]:
    root = Path(settings.runs_dir)
    if not root.is_dir():
        return []
    return [p for p in root.iterdir() if p.is_dir() and (p / MARKER).is_file()]


def _remove_orphan_exports(settings: Settings, trim: DiskTrim) -> None:
    """Removes exports whose run folder no longer exists (deleted run or workspace)."""
    runs_root = Path(settings.runs_dir)
    for folder in _export_folders(settings):
        if (runs_root / folder.parent.name / folder.name).is_dir():
            continue
        trim.freed_bytes += _folder_bytes(folder)
        _remove_tree(folder)
        trim.exports += 1
        with contextlib.suppress(OSError):
            folder.parent.rmdir()  # only when it became empty


def _run_candidates(settings: Settings, trim: DiskTrim) -> list[_Candidate]:
    """Finished runs that may be deleted (adds every run's size to ``trim.total_bytes``)."""
    now = time.time()
    exports_root = Path(settings.cache_dir) / EXPORTS_FOLDER
    candidates: list[_Candidate] = []
    for folder in _workspace_folders(settings):
        store = RunStore(folder, stale_s=settings.heartbeat_stale_s)
        inactive = now - (folder / MARKER).stat().st_mtime > settings.workspace_idle_s
        for run_id in store.run_ids():
            export = exports_root / folder.name / run_id
            size = store.size_bytes(run_id) + _folder_bytes(export)
            trim.total_bytes += size
            if store.status(run_id) not in ACTIVE_STATUSES:
                candidates.append(_Candidate(store, run_id, size, inactive, export))
    # Inactive workspaces first, then by run id (ids sort by creation time).
    candidates.sort(key=lambda c: (not c.workspace_inactive, c.run_id))
    return candidates


def _evict_features(settings: Settings, cap: int, trim: DiskTrim) -> None:
    """Deletes least recently used feature entries while over ``cap``."""
    recent = time.time() - settings.heartbeat_stale_s
    for entry in FeatureCache(feature_cache_folder(settings.cache_dir)).entries():
        if trim.total_bytes <= cap:
            return
        if entry.last_used > recent:
            continue  # a run in progress may be reading it
        with contextlib.suppress(OSError):
            entry.path.unlink()
            trim.total_bytes -= entry.size
            trim.freed_bytes += entry.size
            trim.feature_entries += 1


def trim_disk(settings: Settings) -> DiskTrim:
    """Brings ``runs_dir`` + feature cache + exports under ``settings.disk_cap_mb``.

    Order: exports of deleted runs (always), least recently used feature entries, finished
    runs of inactive workspaces (oldest first), finished runs of active workspaces (oldest
    first). Runs in progress are never touched.
    """
    cap = int(settings.disk_cap_mb * 1024 * 1024)
    trim = DiskTrim()
    _remove_orphan_exports(settings, trim)
    candidates = _run_candidates(settings, trim)
    cache = FeatureCache(feature_cache_folder(settings.cache_dir))
    trim.total_bytes += cache.size_bytes()
    _evict_features(settings, cap, trim)
    for candidate in candidates:
        if trim.total_bytes <= cap:
            break
        try:
            candidate.store.delete(candidate.run_id)
        except StudioError:
            continue  # became active meanwhile: keep it
        _remove_tree(candidate.export)
        trim.total_bytes -= candidate.size
        trim.freed_bytes += candidate.size
        trim.runs.append(candidate.run_id)
    return trim


def remove_orphan_exports(settings: Settings) -> int:
    """Removes the export bundles of runs that no longer exist; returns how many.

    Call it after deleting a run (``trim_disk`` also does it after every job).
    """
    trim = DiskTrim()
    _remove_orphan_exports(settings, trim)
    return trim.exports


def enforce_disk_cap(settings: Settings) -> list[str]:
    """Applies the disk cap (``trim_disk``); returns the ids of the deleted runs."""
    return trim_disk(settings).runs
