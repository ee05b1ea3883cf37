"""Workspaces: unguessable tokens, refusal of unknown ones, isolation, shared mode, disk cap."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from core.runs import RunNotFoundError, mark_live
from core.settings import Settings
from core.workspace import (
    WorkspaceError,
    create_workspace,
    enforce_disk_cap,
    new_token,
    validate_token,
    workspace_dir,
    workspace_store,
)


def _settings(tmp_path: Path, **extra: object) -> Settings:
    return Settings(runs_dir=str(tmp_path / "runs"), **extra)  # type: ignore[arg-type]


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
    run_id = alice.create({"name": "alice's"})
    alice.update_status(run_id, status="finished")
    for action in (bob.load, bob.delete, bob.path, bob.status):
        with pytest.raises(RunNotFoundError):
            action(run_id)
    assert bob.list_runs() == [] and alice.load(run_id).config["name"] == "alice's"


def test_shared_workspace_only_when_enabled(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError):
        workspace_store(_settings(tmp_path), None)
    store = workspace_store(_settings(tmp_path, shared_workspace=True), "")
    assert store.root.name == "shared"


def _finished_run(store, size: int) -> str:  # type: ignore[no-untyped-def]
    run_id = store.create({"name": "x"})
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
    running = busy.create({"name": "in progress"})
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
