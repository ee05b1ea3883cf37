"""split.json: relative paths and hashes round-trip, changes in the folder are named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.config.data import DataConfig
from core.data.pipeline import load_split
from core.data.scan import scan_dataset
from core.data.stored_split import (
    StoredSplit,
    read_stored_split,
    write_stored_split,
)
from core.errors import DataError
from tests.conftest import write_image


def _stored(root: Path) -> StoredSplit:
    report, split = load_split(DataConfig(path=str(root), val_ratio=0.25, test_ratio=0.25))
    return StoredSplit.from_scan(report, split)


def test_paths_are_relative_with_hashes_and_round_trip(tiny_dataset: Path, tmp_path: Path) -> None:
    stored = _stored(tiny_dataset)
    report = scan_dataset(tiny_dataset)
    hashes = {report.relative(record.path): record.sha1 for record in report.records}
    rows = [image for name in ("train", "val", "test") for image in stored.splits[name]]
    assert len(rows) == 16 and len(stored.splits["test"]) == 4
    assert {image.path: image.sha1 for image in rows} == hashes  # e.g. "red/r3.png"
    assert all(not image.path.startswith("/") and "tiny" not in image.path for image in rows)
    assert stored.classes == ["blue", "red"] and stored.root == report.root
    write_stored_split(tmp_path / "split.json", stored)
    text = (tmp_path / "split.json").read_text()
    assert json.loads(text)["splits"]["test"][0].keys() == {"path", "label", "sha1"}
    assert read_stored_split(tmp_path / "split.json") == stored


def test_unchanged_folder_gives_back_the_same_split(tiny_dataset: Path) -> None:
    report, split = load_split(DataConfig(path=str(tiny_dataset), val_ratio=0.25, test_ratio=0.25))
    stored = StoredSplit.from_scan(report, split)
    assert not stored.compare(report)
    again, missing = stored.to_split_data(scan_dataset(tiny_dataset))
    assert again == split and not any(missing.values())


def test_added_removed_and_changed_files_are_named(tiny_dataset: Path) -> None:
    stored = _stored(tiny_dataset)
    removed = stored.splits["test"][0].path
    changed = stored.splits["val"][0].path
    (tiny_dataset / removed).unlink()
    write_image(tiny_dataset / changed, (90, 90, 90), seed=999)  # same name, other pixels
    write_image(tiny_dataset / "red" / "new.png", (200, 40, 40), seed=500)
    report = scan_dataset(tiny_dataset)
    changes = stored.compare(report)
    assert (changes.added, changes.removed, changes.changed) == (
        ["red/new.png"],
        [removed],
        [changed],
    )
    assert changes.kept == 15
    sentence = changes.sentence()
    for part in (
        "1 image added ('red/new.png')",
        f"1 image removed ('{removed}')",
        "1 image changed",
    ):
        assert part in sentence
    assert str(tiny_dataset) not in sentence
    split, missing = stored.to_split_data(report)
    everything = [path for items in (split.train, split.val, split.test) for path, _ in items]
    assert missing == {"train": [], "val": [], "test": [removed]}
    assert len(everything) == 15 and str(tiny_dataset / "red" / "new.png") not in everything
    assert str(tiny_dataset / changed) in [path for path, _ in split.val]  # kept, but reported


def test_many_changes_are_counted_not_all_listed(tiny_dataset: Path) -> None:
    stored = _stored(tiny_dataset)
    for index in range(5):
        write_image(tiny_dataset / "blue" / f"extra{index}.png", (40, 40, 200), seed=300 + index)
    sentence = stored.compare(scan_dataset(tiny_dataset)).sentence()
    assert "5 images added" in sentence and "and 2 more" in sentence


def test_missing_file_is_none_and_damaged_file_is_a_plain_error(
    tiny_dataset: Path, tmp_path: Path
) -> None:
    path = tmp_path / "split.json"
    assert read_stored_split(path) is None
    path.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON") as caught:
        read_stored_split(path)
    assert str(tmp_path) not in str(caught.value)
    data = _stored(tiny_dataset).to_dict()
    data["splits"]["test"][0]["path"] = "../../etc/passwd"
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match="leaves the dataset folder"):
        read_stored_split(path)
