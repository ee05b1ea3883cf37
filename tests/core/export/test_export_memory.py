"""An export of every format, with its parity check, fits the Cloud box: peak RSS under 1.5 GB.

The issue measured 3.6 GB for this export of a MobileNetV2 224 px, 10-class run (the reloaded
model called eagerly on all parity images at once). Here it runs as the app runs it: a job
submitted to the runner, in a real worker process, whose interpreter is the measuring parent of
``bench/peak_rss.py`` (it reaps the worker with ``os.wait4`` and writes its ``ru_maxrss``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.peak_rss import PEAK_FILE, python_wrapper
from core.config.model import ModelConfig
from core.config.settings import Settings
from core.export.parity import FLOAT_PARITY_GOAL
from core.jobs.executor import LocalProcessExecutor
from core.jobs.runner import JobRunner
from core.jobs.worker import WORKER_MODULE
from core.model.builder import build_model
from core.store.runs import RunStore
from tests.helpers.apptest import wait_until
from tests.helpers.runs import make_finished_run, write_dataset

GOAL_MB = 1500.0
EXPORT_TIMEOUT_S = 1800  # four formats converted and checked: over 15 minutes on a loaded machine
CLASSES = {f"class{index}": (25 * index, 255 - 25 * index, 120) for index in range(10)}


@pytest.mark.timeout(EXPORT_TIMEOUT_S + 300)
def test_exporting_a_224_px_mobilenet_v2_run_in_a_worker_peaks_under_1_5_gb(
    local_weights: Path, tmp_path: Path
) -> None:
    dataset = write_dataset(tmp_path / "data", CLASSES, per_class=13)  # ~32 parity images
    spec = ModelConfig(backbone="mobilenet_v2", input_size=224, weights="imagenet")
    model = build_model(spec, num_classes=len(CLASSES)).model
    settings = Settings(runs_dir=str(tmp_path / "runs"), cache_dir=str(tmp_path / "cache"))
    store = RunStore(tmp_path / "runs" / "ws")
    run_id = make_finished_run(store.root, dataset, model, list(CLASSES))
    executor = LocalProcessExecutor(WORKER_MODULE, python=python_wrapper(tmp_path))
    runner = JobRunner(settings, executor)
    formats = ["keras", "savedmodel", "tflite", "onnx"]
    job_id = runner.submit("export", store, run_id, {"formats": formats})
    status = runner.wait_for_job(store, job_id, run_id, timeout_s=EXPORT_TIMEOUT_S)
    assert status.state == "finished", status.error
    assert status.result is not None
    assert sorted(status.result["parity"]) == sorted(formats)
    assert max(status.result["parity"].values()) < FLOAT_PARITY_GOAL
    assert status.result["parity_images"] >= 30
    peak_file = status.folder / PEAK_FILE  # written once the parent reaped the worker
    wait_until(peak_file.is_file, timeout=120)
    peak = json.loads(peak_file.read_text())
    assert 0 < peak["peak_mb"] < GOAL_MB, peak["peak_mb"]
