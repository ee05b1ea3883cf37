"""Workspaces: each visitor's runs live under an unguessable token kept in the URL.

A token (``secrets.token_urlsafe``) is never used as a folder name as-is: the folder is named
after its SHA-256, so listing ``runs/`` reveals no valid link. An unknown token is refused with
a plain message rather than silently creating a new empty workspace. ``Settings.shared_workspace``
turns on one shared workspace for single-user local use (used when no token is given).

The disk cap lives here too because it spans all workspaces: when ``runs/`` grows past
``Settings.disk_cap_mb``, the oldest finished runs of inactive workspaces are deleted first,
then the oldest finished runs of active ones; a run in progress is never deleted.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from core.errors import StudioError
from core.runs import ACTIVE_STATUSES, RunStore
from core.settings import Settings

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
SHARED_FOLDER = "shared"
MARKER = ".workspace"


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


@dataclass
class _Candidate:
    store: RunStore
    run_id: str
    size: int
    workspace_inactive: bool


def _workspace_folders(settings: Settings) -> list[Path]:
    root = Path(settings.runs_dir)
    if not root.is_dir():
        return []
    return [p for p in root.iterdir() if p.is_dir() and (p / MARKER).is_file()]


def enforce_disk_cap(settings: Settings) -> list[str]:
    """Deletes old finished runs until ``runs_dir`` fits ``settings.disk_cap_mb``.

    Order: finished runs of inactive workspaces (oldest first), then finished runs of active
    workspaces (oldest first). Runs in progress are never touched.

    Returns:
        The ids of the deleted runs.
    """
    cap = settings.disk_cap_mb * 1024 * 1024
    now = time.time()
    candidates: list[_Candidate] = []
    total = 0
    for folder in _workspace_folders(settings):
        store = RunStore(folder, stale_s=settings.heartbeat_stale_s)
        inactive = now - (folder / MARKER).stat().st_mtime > settings.workspace_idle_s
        for run_id in store.run_ids():
            size = store.size_bytes(run_id)
            total += size
            if store.status(run_id) not in ACTIVE_STATUSES:
                candidates.append(_Candidate(store, run_id, size, inactive))
    # Inactive workspaces first, then by run id (ids sort by creation time).
    candidates.sort(key=lambda c: (not c.workspace_inactive, c.run_id))
    deleted: list[str] = []
    for candidate in candidates:
        if total <= cap:
            break
        try:
            candidate.store.delete(candidate.run_id)
        except StudioError:
            continue  # became active meanwhile: keep it
        total -= candidate.size
        deleted.append(candidate.run_id)
    return deleted
