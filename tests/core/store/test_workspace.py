"""Workspaces: unguessable tokens, refusal of unknown ones, isolation, shared mode, disk cap."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from core.settings import Settings
from core.store.runs import RunNotFoundError, mark_live
from core.store.workspace import (
    WorkspaceError,
    create_workspace,
    enforce_disk_cap,
    export_dir,
    new_token,
    remove_orphan_exports,
    trim_disk,
    validate_token,
    workspace_dir,
    workspace_store,
)
from tests.helpers.runs import named_config


def _settings(tmp_path: Path, **extra: object) -> Settings:
    folders = {"runs_dir": str(tmp_path / "runs"), "cache_dir": str(tmp_path / "cache")}
    return Settings.from_dict({**folders, **extra})


def test_tokens_are_unique_and_valid() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    assert all(validate_token(token) == token for token in tokens)


@pytest.mark.parametrize(
    "bad", ["", "short", "../" * 10, "a" * 65, "x" * 30 + "/", "é" * 30, None, 123]
)
def test_malformed_tokens_are_refused(bad: object) -> None:
    with pytest.raises(WorkspaceError):
        validate_token(bad)


def test_unknown_token_is_refused_with_a_plain_message(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="unknown"):
        workspace_store(_settings(tmp_path), new_token())


def test_folder_names_do_not_reveal_tokens(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    token = create_workspace(settings)
    assert token not in str(workspace_dir(settings, token))
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [workspace_dir(settings, token).name]


def test_one_workspace_cannot_load_or_delete_another_workspace_run(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    alice = workspace_store(settings, create_workspace(settings))
    bob = workspace_store(settings, create_workspace(settings))
    run_id = alice.create(named_config("alice's"))
    alice.update_status(run_id, status="finished")
    for action in (bob.load, bob.delete, bob.path, bob.status):
        with pytest.raises(RunNotFoundError):
            action(run_id)
    assert bob.list_runs() == [] and alice.load(run_id).config.name == "alice's"


def test_shared_workspace_only_when_enabled(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError):
        workspace_store(_settings(tmp_path), None)
    store = workspace_store(_settings(tmp_path, shared_workspace=True), "")
    assert store.root.name == "shared"


def _finished_run(store, size: int) -> str:  # type: ignore[no-untyped-def]
    run_id = store.create(named_config("x"))
    store.update_status(run_id, status="finished")
    (store.path(run_id) / "model.keras").write_bytes(b"0" * size)
    time.sleep(0.002)
    return run_id


def test_disk_cap_deletes_oldest_finished_runs_of_inactive_workspaces_first(tmp_path: Path) -> None:
    settings = _settings(tmp_path, disk_cap_mb=1.0, workspace_idle_s=60)
    idle_token, busy_token = create_workspace(settings), create_workspace(settings)
    idle, busy = workspace_store(settings, idle_token), workspace_store(settings, busy_token)
    busy_old = _finished_run(busy, 400_000)
    idle_old = _finished_run(idle, 400_000)
    idle_new = _finished_run(idle, 400_000)
    running = busy.create(named_config("in progress"))
    (busy.path(running) / "model.keras").write_bytes(b"0" * 400_000)
    busy.update_status(running, status="training")
    mark_live(busy.path(running), True)
    old = time.time() - 3600
    os.utime(workspace_dir(settings, idle_token) / ".workspace", (old, old))
    try:
        deleted = enforce_disk_cap(settings)
    finally:
        mark_live(busy.path(running), False)
    assert deleted == [idle_old, idle_new]  # inactive workspace first, oldest first
    assert set(busy.run_ids()) == {busy_old, running}


def _export(settings: Settings, store, run_id: str, size: int) -> Path:  # type: ignore[no-untyped-def]
    folder = export_dir(settings, store, run_id)
    folder.mkdir(parents=True)
    (folder / "bundle.zip").write_bytes(b"0" * size)
    return folder


def test_disk_cap_counts_cache_and_exports_lru_features_first_never_a_run_in_progress(
    tmp_path: Path,
) -> None:
    import numpy as np

    from core.store.feature_cache import FeatureCache, feature_cache_folder

    settings = _settings(tmp_path, disk_cap_mb=1.0, heartbeat_stale_s=30)
    token = create_workspace(settings)
    store = workspace_store(settings, token)
    kept_run = _finished_run(store, 200_000)
    kept_export = _export(settings, store, kept_run, 100_000)
    gone_run = _finished_run(store, 10)
    orphan = _export(settings, store, gone_run, 50_000)
    store.delete(gone_run)  # its export stays behind until the next trim
    assert remove_orphan_exports(settings) == 1 and not orphan.exists()
    orphan.mkdir(parents=True)  # and once more for trim_disk
    running = store.create(named_config("in progress"))
    (store.path(running) / "model.keras").write_bytes(b"0" * 200_000)
    store.update_status(running, status="training")
    mark_live(store.path(running), True)
    running_export = _export(settings, store, running, 100_000)  # e.g. exported before resume
    cache = FeatureCache(feature_cache_folder(settings.cache_dir))
    for index, age in enumerate((300, 200, 100, 0)):  # 4 x ~200 kB, "f3" in use right now
        cache.save(f"f{index}", np.zeros((100_000,), np.float16))
        when = time.time() - age
        os.utime(cache.folder / f"f{index}.npy", (when, when))
    try:
        trim = trim_disk(settings)
    finally:
        mark_live(store.path(running), False)
    # 200k + 100k (kept run + export) + 300k (running) + 800k features = 1.4 MB > 1 MiB:
    # the two least recently used entries go, nothing else.
    assert not orphan.exists() and trim.exports == 1
    assert sorted(p.name for p in cache.folder.iterdir()) == ["f2.npy", "f3.npy"]
    assert trim.feature_entries == 2 and trim.runs == []
    assert set(store.run_ids()) == {kept_run, running}
    assert kept_export.is_dir() and running_export.is_dir()
    assert trim.total_bytes <= 1024 * 1024

    # A tighter cap: remaining old features, then the finished run and its export; the run
    # in progress and the entry used just now stay.
    tight = Settings.from_dict({**settings.to_dict(), "disk_cap_mb": 0.1})
    mark_live(store.path(running), True)
    try:
        assert enforce_disk_cap(tight) == [kept_run]
    finally:
        mark_live(store.path(running), False)
    assert store.run_ids() == [running] and running_export.is_dir()
    assert not kept_export.exists()
    assert [p.name for p in cache.folder.iterdir()] == ["f3.npy"]
