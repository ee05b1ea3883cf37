"""Dataset jobs in real worker processes: the duplicates check and the cut-point advisor."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from core.config.data import DataConfig
from core.jobs.find import find_job
from core.jobs.kinds.advise_cut import CutAdviceResult
from core.jobs.kinds.dataset_duplicates import DuplicatesResult, pairs_from_result
from tests.core.jobs.support import TIMEOUT_S, make_runner
from tests.helpers.analysis import colour_dataset


def patterned(path: Path, seed: int, size: int = 64) -> Path:
    """A picture with coarse random blocks: distinct seeds give distant perceptual hashes."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.kron(blocks, np.ones((size // 8, size // 8, 1), np.uint8))).save(path)
    return path


def given_splits(root: Path) -> Path:
    """train/val folders of distinct pictures, two classes, and one training image in val."""
    seed = 0
    for split, count in (("train", 4), ("val", 2)):
        for name in ("ants", "bees"):
            for index in range(count):
                seed += 1
                patterned(root / split / name / f"{name}{index}.png", seed)
    shutil.copy(root / "train/ants/ants0.png", root / "val/ants/copy.png")
    return root


def test_duplicates_job_flags_a_planted_leak_and_is_found_by_its_params(tmp_path: Path) -> None:
    runner, store = make_runner(tmp_path)
    data = given_splits(tmp_path / "data")
    params = {"data": DataConfig(path=str(data)).to_dict()}
    job_id = runner.submit("dataset_duplicates", store, None, params)
    status = runner.wait_for_job(store, job_id, None, TIMEOUT_S)
    assert status.state == "finished", status.error
    assert status.result is not None
    assert status.result["images"] == 13 and status.result["leaks"] == 1
    assert DuplicatesResult.from_dict(status.result).to_dict() == status.result
    pairs = pairs_from_result(status.result)
    assert len(pairs) == 1 and pairs[0].leak and pairs[0].exact
    assert {pairs[0].first, pairs[0].second} == {"train/ants/ants0.png", "val/ants/copy.png"}
    found = find_job(runner, store, "dataset_duplicates", params)
    assert found is not None and found.job_id == job_id
    other = {"data": {**params["data"], "seed": 7}}
    assert find_job(runner, store, "dataset_duplicates", other) is None


def test_advise_cut_job_scores_each_recommended_cut(tmp_path: Path) -> None:
    runner, store = make_runner(tmp_path)
    data, _ = colour_dataset(tmp_path / "data", per_class=8)
    spec = DataConfig(path=str(data), val_ratio=0.25, test_ratio=0.25, seed=1)
    params = {
        "data": spec.to_dict(), "backbone": "mobilenet_v2", "input_size": 32, "weights": "none",
    }  # fmt: skip
    job_id = runner.submit("advise_cut", store, None, params)
    status = runner.wait_for_job(store, job_id, None, TIMEOUT_S)
    assert status.state == "finished", status.error
    result = status.result or {}
    cuts = [row["cut"] for row in result["rows"]]
    assert len(cuts) >= 2 and cuts[-1] == "out_relu" and result["chosen"] in cuts
    assert sum(row["chosen"] for row in result["rows"]) == 1
    assert result["images"] == 12 and result["seconds"] > 0 and result["advice"]
    assert CutAdviceResult.from_dict(result).to_dict() == result  # every key read typed


def test_advise_cut_without_validation_images_fails_with_a_sentence(tmp_path: Path) -> None:
    runner, store = make_runner(tmp_path)
    data, _ = colour_dataset(tmp_path / "data", per_class=4)
    params = {
        "data": DataConfig(path=str(data), val_ratio=0.0).to_dict(),
        "backbone": "mobilenet_v2", "input_size": 32, "weights": "none",
    }  # fmt: skip
    job_id = runner.submit("advise_cut", store, None, params)
    status = runner.wait_for_job(store, job_id, None, TIMEOUT_S)
    assert status.state == "failed"
    assert status.error and "validation" in status.error
    assert "unexpectedly" not in status.error and str(tmp_path) not in status.error


def test_duplicates_job_of_a_missing_folder_fails_without_naming_it(tmp_path: Path) -> None:
    runner, store = make_runner(tmp_path)
    params = {"data": {"path": str(tmp_path / "gone")}}
    job_id = runner.submit("dataset_duplicates", store, None, params)
    status = runner.wait_for_job(store, job_id, None, TIMEOUT_S)
    assert status.state == "failed" and status.error
    assert "does not exist" in status.error and str(tmp_path) not in status.error
