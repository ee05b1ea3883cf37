"""A run's split over its folder as it is now: stored split first, re-split only for old runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from core.config.data import DataConfig
from core.data.pipeline import load_split
from core.data.run_split import NOT_STORED, OTHER_FOLDER, load_run_split
from core.data.splits import split_dataset
from core.data.stored_split import StoredSplit
from core.errors import DataError
from tests.conftest import write_image


def _stored(root: Path) -> tuple[DataConfig, StoredSplit]:
    spec = DataConfig(path=str(root), val_ratio=0.25, test_ratio=0.25, seed=3)
    report, split = load_split(spec)
    return spec, StoredSplit.from_scan(report, split)


def test_unchanged_folder_uses_the_stored_split_without_notes(tiny_dataset: Path) -> None:
    spec, stored = _stored(tiny_dataset)
    result = load_run_split(spec, stored)
    assert result.stored and result.notes == [] and not result.changes
    assert result.split == load_split(spec)[1]


def test_added_images_never_join_the_held_out_splits(tiny_dataset: Path) -> None:
    spec, stored = _stored(tiny_dataset)
    for index in range(6):  # enough to move a fresh re-split around
        write_image(tiny_dataset / "red" / f"a{index}.png", (200, 40, 40), seed=700 + index)
    result = load_run_split(spec, stored)
    held_out = {path for path, _ in result.split.val + result.split.test}
    assert not any("/a" in Path(path).name for path in held_out)
    assert [Path(p).relative_to(tiny_dataset).as_posix() for p, _ in result.split.test] == [
        image.path for image in stored.splits["test"]
    ]
    assert len(result.notes) == 1 and "6 images added" in result.notes[0]


def test_run_without_stored_split_is_split_again_and_says_so(tiny_dataset: Path) -> None:
    spec = DataConfig(path=str(tiny_dataset), val_ratio=0.25, test_ratio=0.25, seed=3)
    result = load_run_split(spec, None)
    assert not result.stored and result.notes == [NOT_STORED]
    assert result.split == split_dataset(result.report, 0.25, 0.25, 3)


def test_moved_dataset_keeps_the_split_and_another_dataset_is_split_again(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    spec, stored = _stored(tiny_dataset)
    moved = tmp_path / "moved"
    shutil.copytree(tiny_dataset, moved)
    result = load_run_split(spec, stored, str(moved))
    assert result.stored and result.notes == []
    assert all(Path(path).is_relative_to(moved) for path, _ in result.split.test)
    other = tmp_path / "other"
    for index in range(4):
        write_image(other / "red" / f"x{index}.png", (200, 40, 40), seed=index)
        write_image(other / "blue" / f"y{index}.png", (40, 40, 200), seed=50 + index)
    result = load_run_split(spec, stored, str(other))
    assert not result.stored and result.notes == [OTHER_FOLDER]


def test_dataset_gone_is_a_plain_error_without_the_server_path(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    spec, stored = _stored(tiny_dataset)
    shutil.rmtree(tiny_dataset)
    with pytest.raises(DataError, match=r"\('tiny'\) is not available") as caught:
        load_run_split(spec, stored)
    assert str(tmp_path) not in str(caught.value)
    with pytest.raises(DataError, match="folder 'elsewhere' does not exist"):
        load_run_split(spec, stored, str(tmp_path / "elsewhere"))
