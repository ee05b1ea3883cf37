"""Settings in a temp folder, finished runs of a given size, and workspaces made idle."""

from __future__ import annotations

import os
import time
from pathlib import Path

from core.config.settings import Settings
from core.store.runs import RunStore
from core.store.workspace import MARKER
from tests.helpers.runs import named_config


def studio_settings(tmp_path: Path, **extra: object) -> Settings:
    """Settings whose runs, cache and data folders lie in ``tmp_path``."""
    folders = {
        "runs_dir": str(tmp_path / "runs"),
        "cache_dir": str(tmp_path / "cache"),
        "data_dir": str(tmp_path / "data"),
    }
    return Settings.from_dict({**folders, **extra})


def finished_run(store: RunStore, size: int, name: str = "x", data_path: str = "data") -> str:
    """A finished run whose model file takes ``size`` bytes."""
    from dataclasses import replace

    config = named_config(name)
    run_id = store.create(replace(config, data=replace(config.data, path=data_path)))
    store.update_status(run_id, status="finished")
    (store.path(run_id) / "model.keras").write_bytes(b"0" * size)
    time.sleep(0.002)  # run ids sort by creation time
    return run_id


def age(path: Path, seconds: float) -> None:
    """Sets the modification time of ``path`` to ``seconds`` ago."""
    when = time.time() - seconds
    os.utime(path, (when, when))


def make_idle(folder: Path, seconds: float = 7 * 24 * 3600) -> None:
    """Makes a workspace look unused for ``seconds``: marker, runs and their status files."""
    for path in [folder / MARKER, *folder.iterdir(), *folder.glob("*/status.json")]:
        if path.exists():
            age(path, seconds)


def plant_versions(settings: Settings, store: RunStore, count: int) -> list[Path]:
    """Saved dataset versions (folders with a manifest) until the workspace holds ``count``.

    Returns:
        The workspace's upload folders afterwards (a version written meanwhile shows here).
    """
    from core.data.dataset_version import VERSION_FILE
    from core.store.uploads import upload_folders
    from core.store.versions import dataset_versions
    from core.store.workspace import new_upload_dir

    while len(dataset_versions(settings, store)) < count:
        folder = new_upload_dir(settings, store, "upload")
        folder.mkdir(exist_ok=True)
        (folder / VERSION_FILE).write_text("{}", encoding="utf-8")
    return upload_folders(settings, store.root.name)
