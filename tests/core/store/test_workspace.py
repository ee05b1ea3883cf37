"""Workspaces: unguessable tokens, folders made on first write, isolation, shared mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.store.runs import RunNotFoundError
from core.store.tokens import WorkspaceError, new_token
from core.store.workspace import (
    MARKER,
    create_workspace,
    is_idle,
    last_activity,
    new_upload_dir,
    workspace_dir,
    workspace_folders,
    workspace_store,
)
from tests.helpers.runs import named_config
from tests.helpers.workspaces import finished_run, make_idle, studio_settings


def test_unknown_token_is_refused_with_a_plain_message(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="unknown"):
        workspace_store(studio_settings(tmp_path), new_token())


def test_a_new_workspace_writes_nothing_until_its_first_run(tmp_path: Path) -> None:
    settings = studio_settings(tmp_path)
    tokens = [create_workspace(settings) for _ in range(62)]  # 62 visits without ?ws
    stores = [workspace_store(settings, token) for token in tokens]  # every link works
    assert workspace_folders(settings) == []
    assert all(store.list_runs() == [] for store in stores)
    run_id = stores[0].create(named_config("first"))
    assert workspace_folders(settings) == [workspace_dir(settings, tokens[0])]
    assert workspace_store(settings, tokens[0]).load(run_id).config.name == "first"


def test_an_upload_is_a_first_write_too(tmp_path: Path) -> None:
    settings = studio_settings(tmp_path)
    store = workspace_store(settings, create_workspace(settings))
    upload = new_upload_dir(settings, store, "zip")
    assert (store.root / MARKER).is_file() and upload.parent.is_dir() and not upload.exists()
    assert upload.parent == tmp_path / "data" / store.root.name
    assert upload.name.startswith("zip-")


def test_folder_names_do_not_reveal_tokens(tmp_path: Path) -> None:
    settings = studio_settings(tmp_path)
    token = create_workspace(settings)
    workspace_store(settings, token).create(named_config("x"))
    assert token not in str(workspace_dir(settings, token))
    names = [p.name for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")]
    assert names == [workspace_dir(settings, token).name]


def test_only_tokens_signed_here_open_a_workspace_without_folder(tmp_path: Path) -> None:
    first, second = studio_settings(tmp_path / "a"), studio_settings(tmp_path / "b")
    token = create_workspace(first)
    with pytest.raises(WorkspaceError, match="unknown"):
        workspace_store(second, token)
    workspace_store(first, token).create(named_config("x"))
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    with pytest.raises(WorkspaceError, match="unknown"):
        workspace_store(first, tampered)


def test_one_workspace_cannot_load_or_delete_another_workspace_run(tmp_path: Path) -> None:
    settings = studio_settings(tmp_path)
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
        workspace_store(studio_settings(tmp_path), None)
    store = workspace_store(studio_settings(tmp_path, shared_workspace=True), "")
    assert store.root.name == "shared"


def test_activity_counts_visits_and_run_status_not_deletions(tmp_path: Path) -> None:
    settings = studio_settings(tmp_path, workspace_idle_s=60)
    token = create_workspace(settings)
    store = workspace_store(settings, token)
    old, new = finished_run(store, 10), finished_run(store, 10)
    make_idle(store.root)
    assert is_idle(settings, store.root)
    store.delete(old)  # changes the folder's mtime, which is no activity
    assert is_idle(settings, store.root)
    store.update_status(new, status="finished")  # e.g. a run that just ended
    assert not is_idle(settings, store.root)
    make_idle(store.root)
    workspace_store(settings, token)  # a visit with the owner link
    assert not is_idle(settings, store.root)
    assert last_activity(tmp_path / "nowhere") == 0.0
