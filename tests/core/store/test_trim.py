"""The disk cap: what counts, the eviction order, what is never touched, refusing new work."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from core.config.settings import Settings
from core.jobs.scheduler import mark_queued
from core.store.disk import DiskFullError, check_disk_room, upload_limits
from core.store.feature_cache import FeatureCache, feature_cache_folder
from core.store.run_status import mark_live
from core.store.runs import RunStore
from core.store.trim import enforce_disk_cap, remove_orphan_exports, trim_disk, used_bytes
from core.store.workspace import (
    create_workspace,
    export_dir,
    new_upload_dir,
    workspace_folders,
    workspace_store,
)
from tests.helpers.runs import named_config
from tests.helpers.workspaces import age, finished_run, make_idle, studio_settings


def _export(settings: Settings, store: RunStore, run_id: str, size: int) -> Path:
    folder = export_dir(settings, store, run_id)
    folder.mkdir(parents=True)
    (folder / "bundle.zip").write_bytes(b"0" * size)
    return folder


def _running(store: RunStore, size: int) -> str:
    run_id = store.create(named_config("in progress"))
    (store.path(run_id) / "model.keras").write_bytes(b"0" * size)
    store.update_status(run_id, status="training")
    mark_live(store.path(run_id), True)
    return run_id


def _upload(settings: Settings, store: RunStore, size: int) -> Path:
    folder = new_upload_dir(settings, store, "zip")
    (folder / "cats").mkdir(parents=True)
    (folder / "cats" / "1.png").write_bytes(b"0" * size)
    time.sleep(0.002)  # upload folder names sort by time
    return folder


def test_the_data_folder_counts_in_the_cap(tmp_path: Path) -> None:
    settings = studio_settings(tmp_path)
    store = workspace_store(settings, create_workspace(settings))
    _upload(settings, store, 300_000)
    assert used_bytes(settings) >= 300_000
    assert trim_disk(settings).total_bytes >= 300_000


def test_idle_runs_go_oldest_first_active_workspaces_and_running_runs_never(tmp_path: Path):
    settings = studio_settings(tmp_path, disk_cap_mb=1.0, workspace_idle_s=60)
    idle = workspace_store(settings, create_workspace(settings))
    busy = workspace_store(settings, create_workspace(settings))
    busy_old = finished_run(busy, 400_000)
    idle_old, idle_new = finished_run(idle, 400_000), finished_run(idle, 400_000)
    running = _running(busy, 400_000)
    make_idle(idle.root)
    try:
        deleted = enforce_disk_cap(settings)
    finally:
        mark_live(busy.path(running), False)
    assert deleted == [idle_old, idle_new]  # idle workspace, oldest first, newest last
    assert set(busy.run_ids()) == {busy_old, running}


def test_stopped_failed_and_interrupted_runs_of_idle_workspaces_can_go_too(tmp_path: Path):
    """What the README states: any run that is not queued or running, of an idle workspace."""
    settings = studio_settings(tmp_path, disk_cap_mb=0.001, workspace_idle_s=60)
    idle = workspace_store(settings, create_workspace(settings))
    ended = {}
    for status in ("stopped", "failed", "interrupted"):
        run_id = finished_run(idle, 100_000)
        idle.update_status(run_id, status=status)
        ended[run_id] = status
    make_idle(idle.root)
    deleted = enforce_disk_cap(settings)
    assert set(deleted) == set(ended)
    assert idle.run_ids() == []


def test_a_queued_run_is_never_removed_by_the_disk_cap(tmp_path: Path) -> None:
    """A run waiting in the queue of an idle workspace stays, even far over the cap.

    Its ``status.json`` is written by the queue itself (``mark_queued``, as the job runner
    does); a long queue can keep a run waiting longer than the idle time.
    """
    settings = studio_settings(tmp_path, disk_cap_mb=0.001, workspace_idle_s=60)
    idle = workspace_store(settings, create_workspace(settings))
    waiting = idle.create(named_config("waiting"))
    (idle.path(waiting) / "upload.zip").write_bytes(b"0" * 100_000)
    mark_queued(idle, waiting, "train-20260101-000000-000000-0000")
    ended = finished_run(idle, 100_000)
    make_idle(idle.root)
    trim = trim_disk(settings)
    assert trim.runs == [ended] and trim.over_cap
    assert idle.run_ids() == [waiting] and idle.status(waiting) == "queued"


def test_cache_then_idle_exports_then_idle_runs(tmp_path: Path) -> None:
    settings = studio_settings(tmp_path, disk_cap_mb=1.0, heartbeat_stale_s=30)
    store = workspace_store(settings, create_workspace(settings))
    kept_run = finished_run(store, 200_000)
    kept_export = _export(settings, store, kept_run, 100_000)
    gone_run = finished_run(store, 10)
    orphan = _export(settings, store, gone_run, 50_000)
    store.delete(gone_run)  # its export stays behind until the next trim
    assert remove_orphan_exports(settings) == 1 and not orphan.exists()
    orphan.mkdir(parents=True)  # and once more for trim_disk
    running = _running(store, 200_000)
    running_export = _export(settings, store, running, 100_000)  # e.g. exported before resume
    cache = FeatureCache(feature_cache_folder(settings.cache_dir))
    for index, seconds in enumerate((300, 200, 100, 0)):  # 4 x ~200 kB, "f3" in use right now
        cache.save(f"f{index}", np.zeros((100_000,), np.float16))
        age(cache.folder / f"f{index}.npy", seconds)
    try:
        trim = trim_disk(settings)
        # 300k (kept run + export) + 300k (running) + 800k features = 1.4 MB > 1 MiB:
        # the two least recently used entries go, nothing else.
        assert not orphan.exists() and trim.exports == 1 and trim.runs == []
        assert sorted(p.name for p in cache.folder.iterdir()) == ["f2.npy", "f3.npy"]
        assert trim.feature_entries == 2 and not trim.over_cap

        # A tighter cap, workspace active: features go, the runs and exports stay.
        tight = Settings.from_dict({**settings.to_dict(), "disk_cap_mb": 0.1})
        trim = trim_disk(tight)
        assert trim.runs == [] and trim.over_cap and kept_export.is_dir()
        assert [p.name for p in cache.folder.iterdir()] == ["f3.npy"]
        with pytest.raises(DiskFullError, match="no disk space left for training"):
            check_disk_room(tight, "training")

        # Once the workspace is idle: its exports, then its finished run; never the running one.
        make_idle(store.root)
        trim = trim_disk(tight)
    finally:
        mark_live(store.path(running), False)
    assert trim.runs == [kept_run] and trim.exports == 2
    assert store.run_ids() == [running] and not kept_export.exists()
    assert not running_export.exists()  # an export can be made again; the run is kept


def test_uploads_of_idle_workspaces_and_idle_empty_workspaces_are_removed(tmp_path: Path):
    settings = studio_settings(tmp_path, workspace_idle_s=60)
    active = workspace_store(settings, create_workspace(settings))
    idle_with_run = workspace_store(settings, create_workspace(settings))
    idle_empty = workspace_store(settings, create_workspace(settings))
    active_upload = _upload(settings, active, 1000)
    idle_upload = _upload(settings, idle_with_run, 1000)
    run_id = finished_run(idle_with_run, 10)
    _upload(settings, idle_empty, 1000)
    for store in (idle_with_run, idle_empty):
        make_idle(store.root)
    trim = trim_disk(settings)  # far under the cap: these go anyway
    assert trim.uploads == 2 and trim.workspaces == 1 and trim.runs == []
    assert active_upload.is_dir() and not idle_upload.exists()
    assert idle_with_run.run_ids() == [run_id]
    assert workspace_folders(settings) == sorted([active.root, idle_with_run.root])
    assert not (tmp_path / "data" / idle_empty.root.name).exists()


def test_an_upload_used_by_a_running_run_is_never_removed(tmp_path: Path) -> None:
    settings = studio_settings(tmp_path, workspace_idle_s=60)
    store = workspace_store(settings, create_workspace(settings))
    upload = _upload(settings, store, 1000)
    from dataclasses import replace

    config = named_config("reads the upload")
    run_id = store.create(replace(config, data=replace(config.data, path=str(upload / "cats"))))
    store.update_status(run_id, status="training")
    mark_live(store.path(run_id), True)
    make_idle(store.root)
    try:
        assert trim_disk(settings).uploads == 0 and upload.is_dir()
    finally:
        mark_live(store.path(run_id), False)


def test_upload_limits_shrink_to_the_room_left(tmp_path: Path) -> None:
    settings = studio_settings(tmp_path, disk_cap_mb=1.0)
    store = workspace_store(settings, create_workspace(settings))
    finished_run(store, 600_000)
    limits = upload_limits(settings)
    assert 400_000 < limits.max_total_bytes < 1024 * 1024 - 600_000
    finished_run(store, 600_000)
    with pytest.raises(DiskFullError, match="this upload"):
        upload_limits(settings)


def test_idle_uploads_of_a_workspace_without_run_folder_are_removed(tmp_path: Path) -> None:
    settings = studio_settings(tmp_path, workspace_idle_s=60)
    stray = tmp_path / "data" / ("ws-" + "0" * 32) / "zip-20261129-101500-000001"
    recent = tmp_path / "data" / ("ws-" + "1" * 32) / "zip-20261129-101500-000002"
    for folder in (stray, recent):
        (folder / "cats").mkdir(parents=True)
    (tmp_path / "data" / "_sample").mkdir()  # shared, never a workspace's upload
    age(stray, 3600)
    assert trim_disk(settings).uploads == 1
    assert (
        not stray.parent.exists() and recent.is_dir() and (tmp_path / "data" / "_sample").is_dir()
    )
