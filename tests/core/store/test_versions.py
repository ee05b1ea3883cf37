"""Room for a new dataset version: a read-only link, the version count and the disk cap are
each refused with a plain sentence before anything is written (issue 27)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data.dataset_version import VersionImage, write_dataset_version
from core.store.access import ReadOnlyError
from core.store.disk import DiskFullError
from core.store.versions import VersionLimitError, dataset_versions, new_version_dir
from core.store.workspace import create_workspace, resolve_workspace, view_token, workspace_store
from tests.helpers.workspaces import studio_settings


def files_under(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def save_version(settings, store, image: Path) -> Path:  # type: ignore[no-untyped-def]
    dest = new_version_dir(settings, store, "the corrected dataset")
    images = [VersionImage("train", "cat", str(image), image.name)]
    write_dataset_version(dest, images, kind="label-fix", source_root=str(image.parent), changes=[])
    return dest


def test_the_version_after_the_last_allowed_is_refused_and_writes_nothing(tmp_path: Path):
    settings = studio_settings(tmp_path, max_dataset_versions=2)
    token = create_workspace(settings)
    store = workspace_store(settings, token)
    image = tmp_path / "cat.png"
    image.write_bytes(b"png")
    saved = [save_version(settings, store, image) for _ in range(2)]
    assert dataset_versions(settings, store) == saved
    before = files_under(tmp_path)
    with pytest.raises(VersionLimitError, match="already holds 2 saved dataset versions"):
        save_version(settings, store, image)
    viewer = resolve_workspace(settings, view=view_token(settings, token)).store
    with pytest.raises(ReadOnlyError):
        new_version_dir(settings, viewer, "the corrected dataset")
    assert files_under(tmp_path) == before


def test_a_version_over_the_disk_cap_is_refused_before_the_workspace_is_touched(tmp_path: Path):
    settings = studio_settings(tmp_path, disk_cap_mb=1.0)
    store = workspace_store(settings, create_workspace(settings))
    (tmp_path / "runs" / "big.bin").write_bytes(b"0" * 2 * 1024 * 1024)  # never trimmed
    before = files_under(tmp_path)
    with pytest.raises(DiskFullError, match="no disk space left for the corrected dataset"):
        new_version_dir(settings, store, "the corrected dataset")
    assert files_under(tmp_path) == before
