"""The hostile-input table: one test per case a hostile visitor tried, with its outcome.

Zips (core.data.zipsafe), the disk cap (core.store.disk), links (core.store.workspace and
access), server paths in messages, silent drops and an empty validation split. The zip
importer and the name sanitiser are also fuzzed: tests/core/data/test_zipsafe_properties.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from core.data.checks import check_validation_split
from core.data.scan import resolve_data_folder, scan_dataset
from core.data.splits import split_dataset
from core.data.zipsafe import ZipLimits, extract_zip
from core.errors import DataError, StudioError
from core.store.access import ReadOnlyError, require_owner
from core.store.disk import DiskFullError, check_disk_room
from core.store.tokens import WorkspaceError, new_token
from core.store.trim import trim_disk, used_bytes
from core.store.workspace import (
    create_workspace,
    resolve_workspace,
    view_token,
    workspace_folders,
    workspace_store,
)
from tests.helpers.workspaces import finished_run, make_idle, studio_settings
from tests.helpers.writes import watch_writes
from tests.helpers.zips import png, repeated_entry_zip, zip_of

# A message shows no server path: no "/word/" run and no "C:\" drive.
SERVER_PATH = re.compile(r"(^|[\s'\"(])(/[^/\s'\"]+){2,}|[A-Za-z]:\\")
BASE = {"data/cats/1.png": png((200, 0, 0)), "data/dogs/1.png": png((0, 0, 200)),
        "data/cats/2.png": png((190, 0, 0)), "data/dogs/2.png": png((0, 0, 190))}  # fmt: skip


def _skips(tmp_path: Path, entries: dict[str, bytes], links: dict | None = None) -> dict:
    """Extracts and scans a zip of BASE + ``entries``; returns {skipped path: reason}."""
    archive = zip_of(tmp_path / "up.zip", {**BASE, **entries}, links)
    report = scan_dataset(extract_zip(archive, tmp_path / "out"))
    assert report.classes == ["cats", "dogs"]
    return {item.path: item.reason for item in report.skipped}


# -- Disk amplification ---------------------------------------------------------------------


def test_zip_of_1900_entries_of_a_million_zeros_is_refused_before_writing(tmp_path: Path):
    archive = repeated_entry_zip(tmp_path / "bomb.zip", 1900, b"\0" * 1_000_000)
    assert archive.stat().st_size < 2_100_000  # 2 MiB that would write 1.8 GiB
    # Nothing is written, not even the target folder: a version that extracted first and
    # removed the files after the check would be stopped at its first write.
    bomb = r"zip bomb.*1,900 files.*1\.8 GiB.*limit is 200 times"
    with watch_writes(tmp_path / "out", stop=True) as writes, pytest.raises(DataError, match=bomb):
        extract_zip(archive, tmp_path / "out")
    assert writes == [] and not (tmp_path / "out").exists()
    # The watch sees this code's writes (the check above could fail): a good zip is written.
    with watch_writes(tmp_path / "good") as writes:
        extract_zip(zip_of(tmp_path / "up.zip", BASE), tmp_path / "good")
    assert sum(write.startswith("open ") for write in writes) == len(BASE)


def test_zip_over_the_total_size_is_refused_naming_the_limit(tmp_path: Path) -> None:
    archive = repeated_entry_zip(tmp_path / "big.zip", 30, bytes(range(256)) * 400)
    limit = r"unpack to 2\.9 MiB; the limit is 1\.9 MiB"
    with watch_writes(tmp_path / "out", stop=True) as writes, pytest.raises(DataError, match=limit):
        extract_zip(archive, tmp_path / "out", ZipLimits(max_total_bytes=2_000_000))
    assert writes == [] and not (tmp_path / "out").exists()


def test_uploads_count_in_the_cap_and_idle_ones_are_removed(tmp_path: Path) -> None:
    from core.store.workspace import new_upload_dir

    settings = studio_settings(tmp_path, workspace_idle_s=60)
    store = workspace_store(settings, create_workspace(settings))
    upload = new_upload_dir(settings, store, "zip")
    extract_zip(zip_of(tmp_path / "up.zip", BASE), upload)
    assert trim_disk(settings).total_bytes > 0 and upload.is_dir()
    make_idle(store.root)
    assert trim_disk(settings).uploads == 1 and not upload.exists()


# -- Disk-cap eviction ----------------------------------------------------------------------


def test_disk_cap_of_1_mb_keeps_other_workspaces_and_the_just_finished_run(tmp_path: Path):
    settings = studio_settings(tmp_path, disk_cap_mb=1.0)
    others = [workspace_store(settings, create_workspace(settings)) for _ in range(6)]
    other_runs = [finished_run(store, 150_000) for store in others]
    other_runs.append(finished_run(others[0], 150_000))  # 7 runs in 6 workspaces
    mine = workspace_store(settings, create_workspace(settings))
    just_finished = finished_run(mine, 300_000)  # the job runner trims when it ends
    trim = trim_disk(settings)
    assert trim.runs == [] and trim.over_cap
    assert sorted(r for s in others for r in s.run_ids()) == sorted(other_runs)
    assert mine.load(just_finished).status == "finished"
    with pytest.raises(DiskFullError, match=r"^There is no disk space left for training: "):
        check_disk_room(settings, "training")


# -- Shared links ---------------------------------------------------------------------------


def test_a_hard_linked_dataset_version_counts_once_in_mib(tmp_path: Path) -> None:
    settings = studio_settings(tmp_path, disk_cap_mb=3)
    original = tmp_path / "data" / "ws" / "upload" / "a.bin"
    original.parent.mkdir(parents=True)
    original.write_bytes(b"\1" * 2**21)  # 2 MiB
    version = tmp_path / "runs" / "ws" / "version" / "images" / "a.bin"
    version.parent.mkdir(parents=True)
    os.link(original, version)  # as core.data.dataset_version writes a version
    assert used_bytes(settings) == 2**21  # not 4 MiB: one inode, two names
    with pytest.raises(DiskFullError, match=r"take 2 MiB of the 3 MiB it may use"):
        check_disk_room(settings, "this upload", needed_bytes=2**21)


def test_read_only_link_views_and_downloads_but_cannot_delete_or_rerun(tmp_path: Path):
    settings = studio_settings(tmp_path)
    token = create_workspace(settings)
    run_id = finished_run(workspace_store(settings, token), 10)
    access = resolve_workspace(settings, view=view_token(settings, token))
    assert [r.run_id for r in access.store.list_runs()] == [run_id]
    assert access.store.load(run_id).has_model
    for action in ("deleting a run", "re-running a run"):
        with pytest.raises(ReadOnlyError):
            require_owner(access, action)
    with pytest.raises(ReadOnlyError):
        access.store.delete(run_id)


# A well-formed token that no workspace has (fixed: pytest-xdist's workers must collect the
# same test ids).
UNKNOWN_TOKEN = "Zq3xT9vLm2Kp8RwY4nB6cD1fH5jS7uVa"


@pytest.mark.parametrize("view", ["short", "../../etc/passwd" + "a" * 10, "é" * 30, UNKNOWN_TOKEN])
def test_malformed_or_unknown_read_only_tokens_are_refused(tmp_path: Path, view: str):
    with pytest.raises(WorkspaceError, match=r"read-only link is (not valid|unknown)"):
        resolve_workspace(studio_settings(tmp_path), view=view)


# -- Workspace folders ----------------------------------------------------------------------


def test_visits_without_a_workspace_leave_no_folder_and_idle_empty_ones_go(tmp_path: Path):
    settings = studio_settings(tmp_path, workspace_idle_s=60)
    for _ in range(62):
        workspace_store(settings, create_workspace(settings))
    assert workspace_folders(settings) == []
    token = create_workspace(settings)
    view_token(settings, token)  # a write that leaves the workspace without runs
    make_idle(workspace_store(settings, token).root)
    assert trim_disk(settings).workspaces == 1 and workspace_folders(settings) == []


def test_a_strangers_token_never_opens_someone_elses_runs(tmp_path: Path) -> None:
    settings = studio_settings(tmp_path)
    finished_run(workspace_store(settings, create_workspace(settings)), 10)
    with pytest.raises(WorkspaceError, match="unknown"):
        workspace_store(settings, new_token())  # well-formed, not signed here
    assert workspace_store(settings, create_workspace(settings)).list_runs() == []


# -- Server paths in messages ---------------------------------------------------------------


def test_missing_dataset_folder_message_shows_no_server_path(tmp_path: Path) -> None:
    gone = tmp_path / "data" / "ws-0123" / "zip-20261129-101500-000001"
    with pytest.raises(DataError) as caught:
        scan_dataset(gone)
    assert "zip-20261129-101500-000001" in str(caught.value)
    assert not SERVER_PATH.search(str(caught.value)), str(caught.value)


def test_outside_allowed_roots_message_shows_root_names_not_paths(tmp_path: Path) -> None:
    (tmp_path / "allowed").mkdir()
    with pytest.raises(DataError) as caught:
        resolve_data_folder("/etc", [str(tmp_path / "allowed")])
    text = str(caught.value).replace("'/etc'", "")  # the visitor's own input may be echoed
    assert "'allowed'" in text and not SERVER_PATH.search(text), text


def test_missing_weights_message_shows_no_server_path(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from core.config.backbones import get_backbone
    from core.model.backbones import build_backbone
    from core.model.weights import WEIGHTS_ENV

    (tmp_path / get_backbone("mobilenet_v2").weights_file).write_bytes(b"not weights")
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path))
    with pytest.raises(StudioError) as caught:
        build_backbone("mobilenet_v2", 96)
    assert "weights folder (STUDIO_WEIGHTS_DIR)" in str(caught.value)
    assert not SERVER_PATH.search(str(caught.value)), str(caught.value)


def test_entry_too_long_for_the_file_system_is_skipped_without_a_server_path(tmp_path: Path):
    deep = "/".join(["d" * 200] * 25) + "/x.png"  # 5,000 characters: longer than PATH_MAX
    reason = _skips(tmp_path, {f"data/cats/{deep}": png()})[f"data/cats/{deep}"]
    assert "could not be written" in reason and not SERVER_PATH.search(reason), reason


# -- Silent drops ---------------------------------------------------------------------------


def test_a_300_character_class_folder_is_listed_under_skipped(tmp_path: Path) -> None:
    name = "c" * 300
    assert "too long" in _skips(tmp_path, {f"data/{name}/1.png": png()})[f"data/{name}/1.png"]


def test_a_reserved_name_is_listed_under_skipped(tmp_path: Path) -> None:
    skipped = _skips(tmp_path, {"data/CON/1.png": png(), "data/cats/aux.png": png()})
    assert skipped["data/CON/1.png"] == "the folder name 'CON' is reserved by Windows"
    assert skipped["data/cats/aux.png"] == "the file name 'aux.png' is reserved by Windows"


def test_symlink_entries_are_listed_under_skipped(tmp_path: Path) -> None:
    skipped = _skips(tmp_path, {}, links={"data/cats/evil.png": "/etc/passwd"})
    assert skipped == {"data/cats/evil.png": "a link inside the zip, not extracted"}
    assert not (tmp_path / "out" / "data" / "cats" / "evil.png").exists()


# -- No validation data ---------------------------------------------------------------------


def test_one_image_per_class_is_refused_before_training(tmp_path: Path) -> None:
    archive = zip_of(tmp_path / "up.zip", {"d/cats/1.png": png((9, 0, 0)),
                                          "d/dogs/1.png": png((0, 9, 0))})  # fmt: skip
    report = scan_dataset(extract_zip(archive, tmp_path / "out"))
    split = split_dataset(report, 0.15, 0.15)
    with pytest.raises(DataError, match=r"validation split would be empty: no class has more "
                       r"than 1 image .* at least 2"):  # fmt: skip
        check_validation_split(report, split, 0.15)


def test_a_validation_share_of_zero_is_refused_before_training(tmp_path: Path) -> None:
    report = scan_dataset(extract_zip(zip_of(tmp_path / "up.zip", BASE), tmp_path / "out"))
    with pytest.raises(DataError, match=r"validation share is 0.*above 0"):
        check_validation_split(report, split_dataset(report, 0.0, 0.0), 0.0)
    check_validation_split(report, split_dataset(report, 0.5, 0.0), 0.5)  # 2 per class: fine
