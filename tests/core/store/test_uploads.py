"""A workspace's uploads: replaced ones are removed, never one a running run reads."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from core.store.run_status import mark_live
from core.store.uploads import (
    remove_upload,
    replace_uploads,
    upload_folder_name,
    upload_folders,
)
from core.store.workspace import create_workspace, new_upload_dir, workspace_store
from tests.helpers.runs import named_config
from tests.helpers.workspaces import studio_settings


def _upload(settings, store) -> Path:  # type: ignore[no-untyped-def]
    folder = new_upload_dir(settings, store, "zip")
    (folder / "data" / "cats").mkdir(parents=True)
    time.sleep(0.002)
    return folder


def test_a_new_upload_replaces_the_old_ones_except_one_a_running_run_reads(tmp_path: Path):
    settings = studio_settings(tmp_path)
    store = workspace_store(settings, create_workspace(settings))
    other = workspace_store(settings, create_workspace(settings))
    first, in_use, newest = (_upload(settings, store) for _ in range(3))
    others = _upload(settings, other)
    config = named_config("training")
    run_id = store.create(replace(config, data=replace(config.data, path=str(in_use / "data"))))
    store.update_status(run_id, status="training")
    mark_live(store.path(run_id), True)
    try:
        removed = replace_uploads(settings, store, keep=newest / "data")
    finally:
        mark_live(store.path(run_id), False)
    assert removed == [first]
    assert upload_folders(settings, store.root.name) == [in_use, newest]
    assert others.is_dir()  # another workspace's upload is never touched
    store.update_status(run_id, status="finished")
    assert replace_uploads(settings, store, keep=newest) == [in_use]


def test_a_failed_upload_is_removed_alone(tmp_path: Path) -> None:
    settings = studio_settings(tmp_path)
    store = workspace_store(settings, create_workspace(settings))
    loaded, failed = _upload(settings, store), _upload(settings, store)
    assert remove_upload(settings, store, failed)
    assert upload_folders(settings, store.root.name) == [loaded]
    assert not remove_upload(settings, store, tmp_path / "elsewhere")


def test_upload_kinds_are_checked() -> None:
    assert upload_folder_name("upload").startswith("upload-")
    with pytest.raises(ValueError, match="Unknown upload kind"):
        upload_folder_name("../x")
