"""Label issues: cleanlab finds flipped labels; a corrected version retrains, the original stays."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from core.data.dataset_version import VERSION_FILE, read_version_manifest
from core.data.scan import scan_dataset
from core.evaluate.label_issues import (
    chance_flags,
    find_run_label_issues,
    one_click_editable,
    rank_label_issues,
    write_corrected_version,
)
from core.evaluate.run_features import FROM_CACHE, FROM_VIEWS
from tests.helpers.analysis import colour_dataset, train_tiny_run


def _fingerprint(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): hashlib.sha1(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_rank_label_issues_finds_flipped_labels_first() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[3.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 3.0]])
    labels = np.repeat(np.arange(3), 30)
    features = centres[labels] + rng.normal(0, 0.5, (90, 3))
    flipped = np.array([2, 35, 70, 88])
    noisy = labels.copy()
    noisy[flipped] = (labels[flipped] + 1) % 3
    ranked, probabilities = rank_label_issues(features, noisy, 3)
    # every flagged image is a flipped one; cleanlab may keep a borderline one (its estimate
    # of the noise per class pair decides how many it flags)
    assert set(ranked) <= set(flipped) and len(ranked) >= 3
    assert probabilities.shape == (90, 3) and np.allclose(probabilities.sum(axis=1), 1.0)
    # cleanlab's order: the lowest out-of-fold probability of the given label first
    quality = probabilities[ranked, noisy[ranked]]
    assert np.all(np.diff(quality) >= -1e-12)


def test_a_class_with_one_image_is_refused_in_plain_words() -> None:
    with pytest.raises(ValueError, match="two images or more"):
        rank_label_issues(np.zeros((3, 2)), np.array([0, 0, 1]), 2)


def test_flipped_labels_of_a_run_are_found_from_its_cached_features(tmp_path: Path) -> None:
    data, wrong = colour_dataset(tmp_path / "data", per_class=16, flipped=2)
    run_dir, settings = train_tiny_run(data, tmp_path)
    report = find_run_label_issues(run_dir, settings)
    assert report.extracted_images == 0  # no backbone pass: training cached everything
    assert report.sources == {"train": FROM_VIEWS, "val": FROM_CACHE, "test": FROM_CACHE}
    assert report.images == 32
    found = [issue.path for issue in report.issues]
    assert set(found[: len(wrong)]) == set(wrong)
    first = report.issues[0]
    assert first.given_label == "blue" and first.suggested_label == "red"
    assert first.confidence > 0.5 and first.label_quality < 0.5
    assert (Path(report.root) / first.path).is_file()  # the gallery can show the image


def test_corrected_version_retrains_and_leaves_the_original_untouched(tmp_path: Path) -> None:
    data, wrong = colour_dataset(tmp_path / "data", per_class=12, flipped=2)
    run_dir, settings = train_tiny_run(data, tmp_path / "first")
    before = _fingerprint(data)
    images = write_corrected_version(
        run_dir, tmp_path / "fixed", relabel={wrong[0]: "red"}, remove=[wrong[1]]
    )
    assert _fingerprint(data) == before
    scan = scan_dataset(images)
    assert scan.given_splits and len(scan.records) == 23
    relabelled = [r for r in scan.records if Path(r.path).name == Path(wrong[0]).name]
    assert [r.label for r in relabelled] == ["red"]
    assert not any(Path(r.path).name == Path(wrong[1]).name for r in scan.records)
    manifest = read_version_manifest(images)
    assert manifest is not None and manifest["kind"] == "label-fix"
    assert {"path": wrong[1], "action": "remove"} in manifest["changes"]
    assert (images.parent / VERSION_FILE).is_file() and not (images / VERSION_FILE).exists()
    retrained, _ = train_tiny_run(images, tmp_path / "second")
    assert (retrained / "model.keras").is_file()
    assert find_run_label_issues(retrained, settings).images == 23


def test_a_decision_on_an_unknown_image_or_class_is_refused(tmp_path: Path) -> None:
    data, _ = colour_dataset(tmp_path / "data", per_class=6)
    run_dir, _ = train_tiny_run(data, tmp_path)
    with pytest.raises(ValueError, match="not in the dataset"):
        write_corrected_version(run_dir, tmp_path / "v", remove=["red/nope.png"])
    with pytest.raises(ValueError, match="not one of the classes"):
        write_corrected_version(run_dir, tmp_path / "v", relabel={"red/red0.png": "green"})
    assert not (tmp_path / "v").exists()


def test_chance_flags_add_up_the_probes_doubt() -> None:
    sure = np.array([[0.99, 0.01]] * 40)
    unsure = np.array([[0.6, 0.4]] * 40)
    assert chance_flags(sure) == 0  # 40 x 0.01 = 0.4 rounds to 0
    assert chance_flags(unsure) == 16  # 40 x 0.4
    assert chance_flags(np.zeros((0, 2))) == 0


def test_test_images_are_not_one_click_editable_by_default() -> None:
    assert one_click_editable({"split": "train"}) and one_click_editable({"split": "val"})
    assert not one_click_editable({"split": "test"})
    assert one_click_editable({"split": "test"}, include_test=True)
