"""Dataset scan: layouts, given splits, JSON report, folder-source confinement."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from core.data.scan import resolve_data_folder, scan_dataset
from core.errors import DataError
from tests.conftest import write_image


def test_class_folders_are_classes(tiny_dataset: Path):
    report = scan_dataset(tiny_dataset)
    assert report.classes == ["blue", "red"] and not report.given_splits
    assert report.counts() == {"all": {"blue": 8, "red": 8}}
    assert all(record.split is None and record.width == 32 for record in report.records)
    assert len({record.sha1 for record in report.records}) == 16


def test_given_splits_with_validation_alias(tmp_path: Path):
    for split, count in (("train", 6), ("validation", 3), ("TEST", 2)):
        for index in range(count):
            write_image(
                tmp_path / split / "cat" / f"{index}.png", (9, 9, 9), seed=index + 10 * count
            )
            write_image(
                tmp_path / split / "dog" / f"{index}.png", (99, 9, 9), seed=index + 99 * count
            )
    report = scan_dataset(tmp_path)
    assert report.given_splits
    assert report.counts() == {
        "train": {"cat": 6, "dog": 6}, "val": {"cat": 3, "dog": 3}, "test": {"cat": 2, "dog": 2}
    }  # fmt: skip


def test_wrapper_folder_is_not_mistaken_for_splits(tmp_path: Path):
    write_image(tmp_path / "train" / "cat" / "1.png", (1, 1, 1))
    write_image(tmp_path / "train" / "dog" / "1.png", (200, 1, 1))
    write_image(tmp_path / "notes" / "x.png", (1, 1, 1))
    report = scan_dataset(tmp_path)
    assert report.classes == ["cat", "dog"]
    assert any("outside the train/val/test" in item.reason for item in report.skipped)


def test_to_dict_has_the_documented_keys(tiny_dataset: Path):
    (tiny_dataset / "red" / "broken.jpg").write_bytes(b"")
    data = scan_dataset(tiny_dataset).to_dict()
    assert {"classes", "splits", "skipped", "warnings", "flagged"} <= set(data)
    assert data["skipped"] == [{"path": "red/broken.jpg", "reason": "empty file (0 bytes)"}]


def test_missing_folder_is_a_data_error(tmp_path: Path):
    with pytest.raises(DataError, match="does not exist"):
        scan_dataset(tmp_path / "nope")


def test_class_missing_from_a_given_split_is_a_warning(tmp_path: Path):
    for index in range(10):
        write_image(tmp_path / "train" / "cat" / f"{index}.png", (9, 9, 9), seed=index)
        write_image(tmp_path / "train" / "dog" / f"{index}.png", (99, 9, 9), seed=50 + index)
    write_image(tmp_path / "val" / "cat" / "v.png", (9, 9, 9), seed=200)
    report = scan_dataset(tmp_path)
    assert "The val split has no images of class 'dog'." in report.warnings


def test_hymenoptera_counts_match_the_readable_files(hymenoptera: Path):
    root = hymenoptera
    report = scan_dataset(root)
    assert report.classes == ["ants", "bees"] and report.given_splits
    for split in ("train", "val"):
        for name in ("ants", "bees"):
            readable = 0
            for path in (root / split / name).iterdir():
                try:
                    with Image.open(path) as image:
                        image.load()
                    readable += 1
                except OSError:
                    pass
            assert report.counts()[split][name] == readable
    assert any("imageNotFound.gif" in warning for warning in report.warnings)


def test_folder_source_confined_to_roots(tmp_path: Path):
    allowed = tmp_path / "allowed"
    inside = allowed / "data"
    inside.mkdir(parents=True)
    outside = tmp_path / "secret"
    outside.mkdir()
    os.symlink(outside, allowed / "escape")
    assert resolve_data_folder(str(inside), [str(allowed)]) == inside.resolve()
    with pytest.raises(DataError, match="outside the allowed"):
        resolve_data_folder(str(outside), [str(allowed)])
    with pytest.raises(DataError, match="outside the allowed"):
        resolve_data_folder(str(allowed / "escape"), [str(allowed)])
    with pytest.raises(DataError, match="outside the allowed"):
        resolve_data_folder(str(inside / ".." / ".." / "secret"), [str(allowed)])
    with pytest.raises(DataError, match="disabled"):
        resolve_data_folder(str(inside), [])
    with pytest.raises(DataError, match="does not exist"):
        resolve_data_folder(str(allowed / "missing"), [str(allowed)])


def test_symlinked_class_folder_outside_root_is_not_scanned(tmp_path: Path):
    root = tmp_path / "data"
    for index in range(3):
        write_image(root / "cat" / f"{index}.png", (9, 9, 9), seed=index)
        write_image(root / "dog" / f"{index}.png", (99, 9, 9), seed=10 + index)
        write_image(tmp_path / "private" / f"{index}.png", (1, 1, 1), seed=20 + index)
    os.symlink(tmp_path / "private", root / "secrets")
    report = scan_dataset(root)
    assert report.classes == ["cat", "dog"]
    assert any(
        item.path.endswith("secrets") and "outside the dataset" in item.reason
        for item in report.skipped
    )


def test_class_names_are_unicode_normalized_across_splits(tmp_path: Path):
    for split, name in (("train", "cafe\u0301"), ("val", "caf\u00e9")):  # NFD vs NFC spelling
        write_image(tmp_path / split / name / "1.png", (9, 9, 9), seed=len(split))
        write_image(tmp_path / split / "tea" / "1.png", (99, 9, 9), seed=9 + len(split))
    assert scan_dataset(tmp_path).classes == ["caf\u00e9", "tea"]


def _two_classes(folder: Path) -> None:
    for index in range(2):
        write_image(folder / "cats" / f"{index}.png", (9, 9, 9), seed=index)
        write_image(folder / "dogs" / f"{index}.png", (99, 9, 9), seed=10 + index)


def test_folder_source_unwraps_single_wrapper_folders(tmp_path: Path):
    allowed = tmp_path / "allowed"
    _two_classes(allowed / "mydata" / "photos")
    (allowed / "mydata" / ".DS_Store").write_bytes(b"junk")  # litter does not count
    folder = resolve_data_folder(str(allowed / "mydata"), [str(allowed)])
    assert folder == (allowed / "mydata" / "photos").resolve()
    assert scan_dataset(folder).classes == ["cats", "dogs"]


def test_folder_source_keeps_split_and_one_class_folders(tmp_path: Path):
    allowed = tmp_path / "allowed"
    _two_classes(allowed / "split" / "train")
    write_image(allowed / "single" / "cats" / "1.png", (9, 9, 9))
    split_root = resolve_data_folder(str(allowed / "split"), [str(allowed)])
    assert split_root == (allowed / "split").resolve() and scan_dataset(split_root).given_splits
    single = resolve_data_folder(str(allowed / "single"), [str(allowed)])
    assert single == (allowed / "single").resolve()
    with pytest.raises(DataError, match="Only one class was found"):
        scan_dataset(single)


def test_folder_source_never_unwraps_into_a_link(tmp_path: Path):
    allowed = tmp_path / "allowed"
    _two_classes(tmp_path / "secret" / "photos")
    (allowed / "mydata").mkdir(parents=True)
    os.symlink(tmp_path / "secret", allowed / "mydata" / "inner")
    folder = resolve_data_folder(str(allowed / "mydata"), [str(allowed)])
    assert folder == (allowed / "mydata").resolve()
    with pytest.raises(DataError, match="No usable images"):
        scan_dataset(folder)  # the linked folder is reported, not scanned
