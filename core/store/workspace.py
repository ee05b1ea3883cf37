"""Workspaces: each visitor's runs live under an unguessable token kept in the URL.

Folders of a workspace, all named ``ws-<digest>`` where the digest is a SHA-256 of the owner
token (so listing them reveals no valid link): ``<runs_dir>/ws-<digest>/`` holds its runs and
the marker ``.workspace`` (its mtime is the last visit; it may hold the read-only token),
``<data_dir>/ws-<digest>/`` its uploads (``core.store.uploads``) and
``<cache_dir>/exports/ws-<digest>/`` its export bundles (``export_dir``).

Folders are created on first write. ``create_workspace`` only makes a token that this server
signs (``core.store.tokens``) and writes nothing, so a visit that never trains or uploads
leaves no trace; the first run (``RunStore.create``), upload (``new_upload_dir``) or read-only
link (``view_token``) creates the folder, and ``core.store.disk`` removes idle empty ones. A
token is accepted when its folder exists or this server signed it (then it is an empty
workspace until its first write); any other token is refused with a plain message, so a
mistyped link never silently opens an empty workspace, and a stranger's token can only ever
show the stranger's own runs.

Who may do what with which link (owner ``ws=``, read-only ``view=``): ``core.store.access``.
``Settings.shared_workspace`` turns on one shared workspace for single-user local use (used
when no token is given). The disk cap: ``core.store.disk``.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import re
import time
from pathlib import Path

from core.atomic import write_json_atomic
from core.config.settings import Settings
from core.store.access import OWNER, VIEWER, ReadOnlyRunStore, WorkspaceAccess, require_owner
from core.store.runs import RunStore
from core.store.tokens import (
    WorkspaceError,
    folder_digest,
    is_signed,
    new_signed_token,
    new_token,
    validate_token,
)
from core.store.uploads import upload_folder_name, workspace_data_dir

SHARED_FOLDER = "shared"
MARKER = ".workspace"
EXPORTS_FOLDER = "exports"  # sub-folder of Settings.cache_dir
WORKSPACE_NAME = re.compile(r"^(ws-[0-9a-f]{32}|shared)$")
_UNKNOWN = (
    "This workspace link is unknown here (it may have expired or been mistyped). "
    "Open the studio without a workspace in the address to start a new one."
)


def workspace_dir(settings: Settings, token: str | None) -> Path:
    """Returns the folder of a workspace (the shared one when ``token`` is empty)."""
    if not token:
        return Path(settings.runs_dir) / SHARED_FOLDER
    return Path(settings.runs_dir) / f"ws-{folder_digest(token)}"


def _touch(folder: Path) -> None:
    """Records a visit of an existing workspace (drives the idle policy); creates nothing."""
    if folder.is_dir():
        with contextlib.suppress(OSError):
            (folder / MARKER).touch()


def mark_written(folder: Path) -> None:
    """Creates the workspace folder and its marker: called on a workspace's first write."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).touch()


def create_workspace(settings: Settings) -> str:
    """Returns the token of a new, empty workspace (put it in the URL); writes no folder."""
    return new_signed_token(settings)


def workspace_store(settings: Settings, token: str | None) -> RunStore:
    """Returns the run store of a workspace, for its owner (the token's holder).

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
        if not folder.is_dir() and not is_signed(settings, token):
            raise WorkspaceError(_UNKNOWN)
    _touch(folder)
    return RunStore(folder, stale_s=settings.heartbeat_stale_s)


def read_marker(folder: Path) -> dict[str, object]:
    """The workspace marker's content (``{}`` for an empty or unreadable marker)."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def view_token(settings: Settings, token: str | None, *, renew: bool = False) -> str:
    """Returns the workspace's read-only token (for ``?view=``), made on first use.

    Args:
        settings: process settings.
        token: the OWNER token (only the owner may make or renew the read-only link).
        renew: make a new read-only token; the old read-only link stops working.

    Raises:
        WorkspaceError: the owner token is malformed or unknown.
    """
    folder = workspace_store(settings, token).root
    marker = read_marker(folder)
    current = marker.get("view")
    if isinstance(current, str) and not renew:
        return current
    fresh = new_token()
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(folder / MARKER, {**marker, "view": fresh})
    return fresh


def workspace_folders(settings: Settings) -> list[Path]:
    """Every workspace folder under ``runs_dir`` (with or without a marker yet)."""
    root = Path(settings.runs_dir)
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if WORKSPACE_NAME.fullmatch(p.name) and p.is_dir())


def _viewed_folder(settings: Settings, view: str) -> Path:
    """The workspace whose marker names the read-only token ``view``."""
    try:
        validate_token(view)
    except WorkspaceError:
        raise WorkspaceError(
            "This read-only link is not valid. Ask the workspace's owner for its link again."
        ) from None
    for folder in workspace_folders(settings):
        stored = read_marker(folder).get("view")
        if isinstance(stored, str) and hmac.compare_digest(stored, view):
            return folder
    raise WorkspaceError(
        "This read-only link is unknown here (its owner may have renewed it, or it was "
        "mistyped). Ask the workspace's owner for its link again."
    )


def resolve_workspace(
    settings: Settings, token: str | None = None, view: str | None = None
) -> WorkspaceAccess:
    """Turns the URL's tokens into a workspace and a role.

    Args:
        settings: process settings.
        token: the owner token (``?ws=``); empty for the shared workspace when enabled.
        view: the read-only token (``?view=``); when given, it decides (the holder of a
            read-only link sees that workspace read-only, whatever ``token`` says).

    Returns:
        ``WorkspaceAccess`` with role ``"owner"`` (a ``RunStore``) or ``"viewer"`` (a
        ``ReadOnlyRunStore``; opening it writes nothing).

    Raises:
        WorkspaceError: malformed or unknown token of either kind.
    """
    if view:
        folder = _viewed_folder(settings, view)
        return WorkspaceAccess(ReadOnlyRunStore(folder, stale_s=settings.heartbeat_stale_s), VIEWER)
    return WorkspaceAccess(workspace_store(settings, token), OWNER)


def last_activity(folder: Path) -> float:
    """When the workspace was last used: a visit, a new run or a run's status change.

    A run writes its ``status.json`` at every epoch and when it ends, so a workspace with a
    run in progress, or one that just finished, counts as active.
    """
    times = [0.0]
    with contextlib.suppress(OSError):
        times.append((folder / MARKER).stat().st_mtime)
    # Not the folder's own mtime: deleting an old run changes it, and must not make the
    # workspace look active.
    with contextlib.suppress(OSError):
        for child in (c for c in folder.iterdir() if not c.name.startswith(".")):
            for path in (child, child / "status.json"):
                with contextlib.suppress(OSError):
                    times.append(path.stat().st_mtime)
    return max(times)


def is_idle(settings: Settings, folder: Path, now: float | None = None) -> bool:
    """True when the workspace had no activity for ``settings.workspace_idle_s`` seconds."""
    moment = time.time() if now is None else now
    return moment - last_activity(folder) > settings.workspace_idle_s


def export_dir(settings: Settings, store: RunStore, run_id: str) -> Path:
    """Where a run's export bundle goes: ``cache_dir/exports/<workspace folder>/<run id>``.

    The folder is named like the workspace's run folder (never the token), so the disk cap
    can tell which exports belong to deleted runs.

    Raises:
        RunNotFoundError: malformed or unknown run id.
    """
    return Path(settings.cache_dir) / EXPORTS_FOLDER / store.root.name / store.path(run_id).name


def new_upload_dir(settings: Settings, store: RunStore, kind: str) -> Path:
    """Returns a new folder path for an upload of this workspace (not created yet).

    It is the workspace's first write when nothing was stored before: the workspace folder
    and marker are created, so the upload counts in the idle policy and the disk cap.

    Args:
        settings: where the data folder is.
        store: the owner's store of the workspace.
        kind: ``"zip"`` (an extracted archive) or ``"upload"`` (images uploaded per class).

    Raises:
        ReadOnlyError: ``store`` belongs to a read-only link.
    """
    require_owner(store, "uploading a dataset")
    mark_written(store.root)
    parent = workspace_data_dir(settings, store.root.name)
    parent.mkdir(parents=True, exist_ok=True)
    return parent / upload_folder_name(kind)
