"""Evaluation reads the split stored with the run; a dataset changed since training is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.data.run_split import NOT_STORED
from core.data.stored_split import SPLIT_FILE
from core.errors import DataError
from core.evaluate.held_out import held_out_items
from core.evaluate.metrics import evaluate_run
from tests.conftest import write_image
from tests.helpers.runs import cat_dog_run, make_finished_run, tiny_classifier, write_dataset


def _stored_paths(run_dir: Path, split: str) -> list[str]:
    data = json.loads((run_dir / SPLIT_FILE).read_text())
    return [row["path"] for row in data["splits"][split]]


def test_unchanged_dataset_gives_the_stored_test_images_without_notes(tmp_path: Path) -> None:
    run_dir = cat_dog_run(tmp_path)
    held_out = held_out_items(run_dir)
    relative = [Path(path).relative_to(tmp_path / "data").as_posix() for path, _ in held_out.items]
    assert held_out.split == "test" and held_out.notes == []
    assert relative == _stored_paths(run_dir, "test") and len(relative) == 4
    validation = held_out_items(run_dir, prefer="validation")
    assert validation.split == "validation" and len(validation.items) == 4


def test_dataset_that_gained_and_lost_files_is_named_and_the_stored_split_used(
    tmp_path: Path,
) -> None:
    run_dir = cat_dog_run(tmp_path)
    data = tmp_path / "data"
    stored = _stored_paths(run_dir, "test")
    (data / stored[0]).unlink()
    for index in range(6):  # a re-split of 22 images would move the test split around
        write_image(data / "cat" / f"new{index}.png", (200, 40, 40), seed=900 + index)
    result = evaluate_run(run_dir)
    assert result.split == "test"
    assert result.paths == [str(data / path) for path in stored[1:]]  # the added never appear
    assert len(result.notes) == 2
    assert (
        "6 images added ('cat/new0.png', 'cat/new1.png', 'cat/new2.png' and 3 more)"
        in (result.notes[0])
    )
    assert f"1 image removed ('{stored[0]}')" in result.notes[0]
    assert result.notes[1] == "1 test image is missing now and skipped (3 left)."
    assert all(str(tmp_path) not in note for note in result.notes)
    summary = json.loads((run_dir / "metrics.json").read_text())["evaluation"]
    assert summary["images"] == 3 and summary["notes"] == result.notes


def test_file_whose_content_changed_is_reported(tmp_path: Path) -> None:
    run_dir = cat_dog_run(tmp_path)
    changed = _stored_paths(run_dir, "test")[-1]
    write_image(tmp_path / "data" / changed, (10, 200, 10), seed=5)  # same name, other image
    result = evaluate_run(run_dir)
    assert len(result.paths) == 4
    assert f"1 image changed ('{changed}')" in result.notes[0]


def test_run_from_before_split_json_is_split_again_and_says_so(tmp_path: Path) -> None:
    dataset = write_dataset(tmp_path / "data", {"cat": (200, 40, 40), "dog": (40, 40, 200)}, 8)
    run_id = make_finished_run(
        tmp_path / "runs", dataset, tiny_classifier(2), ["cat", "dog"], store_split=False
    )
    run_dir = tmp_path / "runs" / run_id
    assert not (run_dir / SPLIT_FILE).exists()
    result = evaluate_run(run_dir)
    assert result.notes == [NOT_STORED] and len(result.paths) == 4


def test_all_test_images_gone_is_a_plain_error(tmp_path: Path) -> None:
    run_dir = cat_dog_run(tmp_path)
    for path in _stored_paths(run_dir, "test"):
        (tmp_path / "data" / path).unlink()
    with pytest.raises(DataError, match="All 4 test images of this run are missing"):
        held_out_items(run_dir)
