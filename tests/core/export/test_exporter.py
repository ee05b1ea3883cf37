"""Export: every artifact reloaded from disk predicts what the app predicts."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from core.errors import StudioError
from core.export.exporter import available_formats, export_run
from core.export.parity import FLOAT_PARITY_GOAL
from tests.helpers.runs import cat_dog_run


@pytest.fixture
def finished_run(tmp_path: Path) -> Path:
    return cat_dog_run(tmp_path)


def test_parity_passes_for_every_available_format(finished_run: Path, tmp_path: Path) -> None:
    report = export_run(finished_run, tmp_path / "out", quantise=True)
    assert set(report.parity) == set(available_formats()) >= {"keras", "savedmodel", "tflite"}
    for name, diff in report.parity.items():
        assert diff < FLOAT_PARITY_GOAL, name
    assert report.parity_source == "validation images"
    assert report.parity_images == 4  # 25% of 16 images
    assert report.quantised is not None and report.quantised["accuracy"] is not None
    assert not [w for w in report.warnings if "differs" in w]
    for name in ("model.keras", "saved_model.zip", "model.tflite", "labels.json", "README.md"):
        assert (tmp_path / "out" / name).is_file(), name
    assert report.bundle is not None
    with zipfile.ZipFile(report.bundle) as bundle:
        assert {"model.keras", "model.tflite", "labels.json", "config.json"} <= set(
            bundle.namelist()
        )
    stored = json.loads((finished_run / "metrics.json").read_text())["export"]
    assert stored["parity"] == pytest.approx(report.parity)
    assert "cat" in (tmp_path / "out" / "README.md").read_text()


def test_missing_dataset_falls_back_to_random_pixels(finished_run: Path, tmp_path: Path) -> None:
    shutil.rmtree(tmp_path / "data")  # the dataset the run was trained on is gone
    report = export_run(finished_run, tmp_path / "out", formats=("keras",), make_bundle=False)
    assert report.parity_source == "random pixel images"
    assert report.parity["keras"] < FLOAT_PARITY_GOAL


def test_parity_images_come_from_the_stored_split_and_changes_are_warned(
    finished_run: Path, tmp_path: Path
) -> None:
    split = json.loads((finished_run / "split.json").read_text())["splits"]
    removed = split["val"][0]["path"]
    (tmp_path / "data" / removed).unlink()
    report = export_run(finished_run, tmp_path / "out", formats=("keras",), make_bundle=False)
    assert report.parity_source == "validation images" and report.parity_images == 3
    changed = [w for w in report.warnings if "changed since this run was trained" in w]
    assert len(changed) == 1 and f"1 image removed ('{removed}')" in changed[0]
    assert "1 validation image is missing now and skipped (3 left)." in report.warnings


def test_unknown_format_is_refused(finished_run: Path, tmp_path: Path) -> None:
    with pytest.raises(StudioError, match="Unknown export format"):
        export_run(finished_run, tmp_path / "out", formats=("tfjs",))
