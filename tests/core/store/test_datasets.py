"""The workspace's dataset record: re-attached after a reload, never a folder outside its place."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.config.data import AugmentConfig, DataConfig
from core.config.settings import Settings
from core.store.access import ReadOnlyError
from core.store.datasets import (
    DATASET_RECORD,
    clear_dataset,
    record_path,
    sample_root,
    save_dataset,
    stored_dataset,
)
from core.store.runs import RunStore
from core.store.trim import trim_disk
from core.store.workspace import (
    create_workspace,
    new_upload_dir,
    resolve_workspace,
    view_token,
    workspace_store,
)
from tests.helpers.workspaces import make_idle, studio_settings


def _classes(folder: Path) -> Path:
    for name in ("cats", "dogs"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return folder


def _owner(tmp_path: Path, **extra: object) -> tuple[Settings, RunStore, str]:
    settings = studio_settings(tmp_path, **extra)
    token = create_workspace(settings)
    return settings, workspace_store(settings, token), token


def test_an_upload_with_its_settings_comes_back_in_a_new_session(tmp_path: Path) -> None:
    settings, store, token = _owner(tmp_path)
    folder = _classes(new_upload_dir(settings, store, "zip") / "pets")
    augment = AugmentConfig(flip_horizontal=True, rotation=15.0)
    spec = DataConfig(path=str(folder), val_ratio=0.2, test_ratio=0.1, seed=7,
                    resize_mode="pad", augmentation=augment)  # fmt: skip
    assert save_dataset(settings, store, spec, "Zip: pets.zip")
    record = json.loads(record_path(store).read_text(encoding="utf-8"))
    assert record["kind"] == "upload" and not Path(record["folder"]).is_absolute()
    assert str(tmp_path) not in json.dumps(record)  # no server path in the record
    again = stored_dataset(settings, workspace_store(settings, token))  # "a reload"
    assert again is not None
    assert again.spec == DataConfig(**{**spec.__dict__, "path": str(folder.resolve())})
    assert (again.source, again.kind) == ("Zip: pets.zip", "upload")


def test_the_sample_is_recorded_relative_to_the_shared_sample_folder(tmp_path: Path) -> None:
    settings, store, _ = _owner(tmp_path)
    folder = _classes(sample_root(settings) / "sample_shapes_v2")
    assert save_dataset(settings, store, DataConfig(path=str(folder)), "Sample dataset")
    assert json.loads(record_path(store).read_text())["folder"] == "sample_shapes_v2"
    found = stored_dataset(settings, store)
    assert found is not None and found.kind == "sample" and found.spec.path == str(folder.resolve())


def test_a_folder_of_another_workspace_or_anywhere_else_is_not_recorded(tmp_path: Path) -> None:
    settings, store, _ = _owner(tmp_path)
    assert save_dataset(settings, store, DataConfig(path=str(_classes(sample_root(settings)/"s"))),
                        "Sample dataset")  # fmt: skip
    other = workspace_store(settings, create_workspace(settings))
    foreign = _classes(new_upload_dir(settings, other, "zip"))
    assert not save_dataset(settings, store, DataConfig(path=str(foreign)), "Zip: x.zip")
    assert not record_path(store).exists()  # the older dataset is forgotten, not brought back
    anywhere = _classes(tmp_path / "elsewhere")
    assert not save_dataset(settings, store, DataConfig(path=str(anywhere)), "Server folder")


def test_a_server_folder_is_checked_against_the_allowed_roots_again(tmp_path: Path) -> None:
    root = tmp_path / "shared_data"
    folder = _classes(root / "flowers")
    settings, store, _ = _owner(tmp_path, folder_source_roots=[str(root)])
    assert save_dataset(settings, store, DataConfig(path=str(folder)), "Server folder: flowers")
    assert stored_dataset(settings, store) is not None
    narrower = Settings.from_dict({**settings.to_dict(), "folder_source_roots": []})
    assert stored_dataset(narrower, store) is None  # the administrator withdrew the root


@pytest.mark.parametrize(
    "kind, folder",
    [
        ("upload", "../../elsewhere"),
        ("upload", "/etc"),
        ("upload", "not-an-upload"),
        ("sample", "../ws-x"),
        ("nonsense", "x"),
    ],
)
def test_a_tampered_record_is_refused(tmp_path: Path, kind: str, folder: str) -> None:
    settings, store, _ = _owner(tmp_path)
    _classes(tmp_path / "elsewhere")
    upload = _classes(new_upload_dir(settings, store, "zip"))
    save_dataset(settings, store, DataConfig(path=str(upload)), "Zip")
    record = json.loads(record_path(store).read_text())
    record_path(store).write_text(json.dumps({**record, "kind": kind, "folder": folder}))
    assert stored_dataset(settings, store) is None


def test_a_link_out_of_the_upload_is_refused(tmp_path: Path) -> None:
    settings, store, _ = _owner(tmp_path)
    upload = new_upload_dir(settings, store, "zip")
    upload.mkdir(parents=True)
    os.symlink(_classes(tmp_path / "outside"), upload / "pets")
    assert not save_dataset(settings, store, DataConfig(path=str(upload / "pets")), "Zip")
    save_dataset(settings, store, DataConfig(path=str(_classes(upload / "real"))), "Zip")
    record = json.loads(record_path(store).read_text())
    record_path(store).write_text(json.dumps({**record, "folder": f"{upload.name}/pets"}))
    assert stored_dataset(settings, store) is None


def test_damaged_records_and_removed_uploads_give_none(tmp_path: Path) -> None:
    settings, store, _ = _owner(tmp_path)
    assert stored_dataset(settings, store) is None  # nothing recorded yet
    upload = _classes(new_upload_dir(settings, store, "zip"))
    save_dataset(settings, store, DataConfig(path=str(upload)), "Zip")
    record = json.loads(record_path(store).read_text())
    record_path(store).write_text(json.dumps({**record, "spec": {"val_ratio": 3}}))
    assert stored_dataset(settings, store) is None
    record_path(store).write_text("{not json")
    assert stored_dataset(settings, store) is None
    save_dataset(settings, store, DataConfig(path=str(upload)), "Zip")
    for child in upload.iterdir():
        child.rmdir()
    upload.rmdir()
    assert stored_dataset(settings, store) is None


def test_a_read_only_link_neither_reads_nor_writes_the_record(tmp_path: Path) -> None:
    settings, store, token = _owner(tmp_path)
    upload = _classes(new_upload_dir(settings, store, "zip"))
    save_dataset(settings, store, DataConfig(path=str(upload)), "Zip")
    viewer = resolve_workspace(settings, view=view_token(settings, token)).store
    assert stored_dataset(settings, viewer) is None
    with pytest.raises(ReadOnlyError):
        save_dataset(settings, viewer, DataConfig(path=str(upload)), "Zip")
    with pytest.raises(ReadOnlyError):
        clear_dataset(viewer)
    clear_dataset(store)
    assert not record_path(store).exists()


def test_an_idle_workspace_with_only_a_record_is_still_removed(tmp_path: Path) -> None:
    settings, store, _ = _owner(tmp_path, workspace_idle_s=60)
    upload = _classes(new_upload_dir(settings, store, "zip"))
    save_dataset(settings, store, DataConfig(path=str(upload)), "Zip")
    assert (store.root / DATASET_RECORD).is_file()
    make_idle(store.root)
    trim_disk(settings)
    assert not store.root.exists()
