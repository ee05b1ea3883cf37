"""The ``analyse`` job kind in real worker processes: label issues, learning curve, calibration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import StudioError
from core.jobs.kinds.analyse import CALIBRATION_FILE, CalibrationJobResult, LabelIssuesResult
from core.jobs.runner import JobRunner
from core.store.runs import RunStore
from core.train.trainer import run_training
from tests.core.jobs.support import TIMEOUT_S, make_runner
from tests.helpers.analysis import colour_dataset
from tests.helpers.training import tiny_config


@pytest.fixture
def trained(tmp_path: Path) -> tuple[JobRunner, RunStore, str, list[str]]:
    """A runner, its store and a run trained (features cached) on data with 2 flipped labels."""
    data, wrong = colour_dataset(tmp_path / "data", per_class=16, flipped=2)
    runner, store = make_runner(tmp_path, max_jobs=2)
    config = tiny_config(data)
    run_id = store.create(config)
    run_training(config, store, run_id, settings=runner.settings)
    return runner, store, run_id, wrong


def _analyse(runner: JobRunner, runs: RunStore, run_id: str, **params: object) -> dict:
    job_id = runner.submit("analyse", runs, run_id, params)
    status = runner.wait_for_job(runs, job_id, run_id, TIMEOUT_S)
    assert status.state == "finished", status.error
    assert status.result is not None
    return status.result


def test_each_analysis_runs_in_a_worker_and_stores_its_result(
    trained: tuple[JobRunner, RunStore, str, list[str]],
) -> None:
    runner, store, run_id, wrong = trained
    issues = _analyse(runner, store, run_id, analysis="label_issues")
    assert issues["analysis"] == "label_issues"
    assert issues["extracted_images"] == 0  # the cached features, no backbone pass
    found = [issue["path"] for issue in issues["issues"]]
    assert set(wrong) <= set(found[: len(wrong) + 2])
    assert issues["issue_count"] == len(found)
    assert all(issue["suggested_label"] == "red" for issue in issues["issues"][:2])
    assert Path(issues["root"], found[0]).is_file()  # the page shows the image from there
    assert LabelIssuesResult.from_dict(issues).to_dict() == issues  # the page's typed read

    curve = _analyse(runner, store, run_id, analysis="learning_curve")
    assert [point["fraction"] for point in curve["points"]] == [0.25, 0.5, 0.75, 1.0]
    assert curve["verdict"].endswith(".")

    labels_file = store.path(run_id) / "labels.json"
    calibration = _analyse(runner, store, run_id, analysis="calibrate")
    assert calibration["stored"] is False and calibration["temperature"] > 0
    assert CalibrationJobResult.from_dict(calibration).to_dict() == calibration
    assert "temperature" not in json.loads(labels_file.read_text())  # measured only
    job = runner.latest_job(store, run_id, "analyse")
    assert job is not None
    saved = json.loads((job.folder / CALIBRATION_FILE).read_text())
    assert len(saved["labels"]) == calibration["splits"]["val"]["images"]
    stored = _analyse(runner, store, run_id, analysis="calibrate", store=True)
    assert stored["stored"] is True
    assert json.loads(labels_file.read_text())["temperature"] == stored["temperature"]


def test_an_unknown_analysis_is_refused_before_it_is_queued(tmp_path: Path) -> None:
    runner, store = make_runner(tmp_path)
    run_id = store.create(tiny_config(tmp_path / "data"))
    with pytest.raises(StudioError, match="Unknown analysis 'guess'"):
        runner.submit("analyse", store, run_id, {"analysis": "guess"})
    assert not list((store.path(run_id) / "jobs").glob("analyse-*"))
