"""A new job for the same input replaces the older ones (a batch prediction's zip and model).

Every move of the Predict page's k or threshold slider used to queue another batch job, each
unpacking its own copy of the zip, none of them visible or cancellable. A kind that names its
input (``JobKind.input_key``: a digest of what the job reads, its options left out) has the key
written in its job folder (``INPUT_KEY_FILE``); when a job of the same kind and input is
submitted in the same place (the run's or the workspace's ``jobs`` folder), the older ones are
dropped from the queue, their worker ended, and their folders removed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from core.jobs.executor import Executor
from core.jobs.registry import RegistryState

INPUT_KEY_FILE = "input.key"


def write_input_key(folder: Path, key: str) -> None:
    """Records the job's input key in its folder."""
    (folder / INPUT_KEY_FILE).write_text(key, encoding="ascii")


def read_input_key(folder: Path) -> str | None:
    """The job's input key, or None (an older job, or a kind without one)."""
    try:
        return (folder / INPUT_KEY_FILE).read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def replace_same_input(state: RegistryState, executor: Executor, new_folder: Path) -> list[str]:
    """Cancels and removes the older jobs of ``new_folder``'s kind with the same input key.

    Runs under the registry lock. Returns the ids of the jobs it replaced.
    """
    key = read_input_key(new_folder)
    kind = new_folder.name.split("-", 1)[0]  # a job id is "<kind>-<time>-<hex>"
    if key is None or not new_folder.parent.is_dir():
        return []
    replaced = []
    for folder in sorted(new_folder.parent.glob(f"{kind}-*")):
        if folder == new_folder or read_input_key(folder) != key:
            continue
        entry = state.remove(folder.name)
        handle = entry.handle if entry is not None and entry.state == "running" else None
        if handle is not None and entry is not None and entry.executor == executor.name:
            executor.kill(handle)
        shutil.rmtree(folder, ignore_errors=True)
        replaced.append(folder.name)
    return replaced
