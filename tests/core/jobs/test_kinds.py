"""Export, evaluation and batch prediction as jobs in real worker processes, and their refusals."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.errors import DataError
from core.jobs.kinds.evaluate import load_evaluation
from core.jobs.kinds.export import report_from_result
from core.jobs.kinds.predict_batch import BatchResult
from core.jobs.runner import JobRunner
from core.store.runs import RunStore
from core.store.workspace import export_dir
from tests.core.jobs.support import TIMEOUT_S, make_runner
from tests.helpers.runs import make_finished_run, tiny_classifier, write_dataset

REPO_ROOT = Path(__file__).resolve().parents[3]
RACER = """
import json, sys, time
from pathlib import Path
from core.jobs.runner import JobRunner
from core.config.settings import Settings
from core.store.runs import RunStore
settings, go, workspace, run_id, ready = sys.argv[1:6]
runner = JobRunner(Settings.from_dict(json.loads(settings)))
Path(ready).touch()  # imported and ready: the test starts both at once when both are
while not Path(go).exists():
    time.sleep(0.002)
print(runner.submit("evaluate", RunStore(workspace), run_id, {"gradcam_images": 2}))
"""


def _zip_of(dataset: Path, count: int, broken: bool = False) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(dataset.rglob("*.png"))[:count]:
            archive.write(path, f"photos/{path.name}")
        if broken:
            archive.writestr("photos/broken.png", b"not a picture")
        archive.writestr("__MACOSX/._x.png", b"litter")
    return buffer.getvalue()


def _race_evaluate(runner: JobRunner, store: RunStore, run_id: str, go: Path) -> list[str]:
    """Two processes submit "evaluate" for one run at the same moment; returns their job ids."""
    args = [json.dumps(runner.settings.to_dict()), str(go), str(store.root), run_id]
    ready = [go.with_name(f"ready-{index}") for index in range(2)]
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, *args, str(flag)],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
        )
        for flag in ready
    ]  # fmt: skip
    deadline = time.monotonic() + TIMEOUT_S
    while not all(flag.exists() for flag in ready):  # both imported, both waiting for "go"
        assert time.monotonic() < deadline, "the racing processes never got ready"
        assert all(racer.poll() is None for racer in racers), "a racing process failed"
        time.sleep(0.01)
    go.touch()
    return [racer.communicate(timeout=60)[0].strip() for racer in racers]


def test_export_evaluate_and_batch_prediction_run_in_workers(tmp_path: Path) -> None:
    dataset = write_dataset(tmp_path / "data", {"cat": (200, 40, 40), "dog": (40, 40, 200)}, 8)
    runner, store = make_runner(tmp_path, max_jobs=3)
    model = tiny_classifier(2)
    run_id = make_finished_run(store.root, dataset, model, ["cat", "dog"])
    evaluate_ids = _race_evaluate(runner, store, run_id, tmp_path / "go")
    assert evaluate_ids[0] and evaluate_ids[0] == evaluate_ids[1]  # one evaluation job
    export_id = runner.submit("export", store, run_id, {"formats": ["keras"]})
    batch_id = runner.submit(
        "predict_batch", store, run_id, {"k": 2}, files={"upload.zip": _zip_of(dataset, 5, True)}
    )
    model_path = tmp_path / "uploaded.keras"
    model.save(model_path)
    upload_id = runner.submit(
        "predict_batch",
        store,
        None,
        {"model": {"file": "model.keras", "classes": ["cat", "dog"]}},
        files={
            "upload.zip": io.BytesIO(_zip_of(dataset, 3)),
            "model.keras": model_path.read_bytes(),
        },
    )
    cancelled = runner.submit(
        "predict_batch", store, run_id, files={"upload.zip": _zip_of(dataset, 2)}
    )
    assert runner.job_status(store, upload_id).queue_position == 1  # cap 3: the 4th waits
    runner.cancel(store, cancelled, run_id)
    assert runner.job_status(store, cancelled, run_id).state == "stopped"

    evaluation = runner.wait_for_job(store, evaluate_ids[0], run_id, TIMEOUT_S)
    assert evaluation.state == "finished", evaluation.error
    result = load_evaluation(evaluation.folder)
    assert evaluation.result is not None
    assert evaluation.result["summary"]["accuracy"] == result.metrics.accuracy
    assert evaluation.result["mistake_count"] == len(result.misclassified())
    cams = evaluation.result["gradcam"]
    assert len(cams) == 2 and all((evaluation.folder / c["overlay"]).is_file() for c in cams)
    heatmap = np.load(evaluation.folder / cams[0]["heatmap"])
    assert heatmap.ndim == 2 and heatmap.min() >= 0.0 and heatmap.max() <= 1.0
    assert runner.latest_job(store, run_id, "evaluate") == evaluation

    export = runner.wait_for_job(store, export_id, run_id, TIMEOUT_S)
    assert export.state == "finished", export.error
    report = report_from_result(runner.job_result(store, export_id, run_id))
    assert report.parity["keras"] < 1e-4 and report.bundle is not None and report.bundle.is_file()
    assert report.out_dir == export_dir(runner.settings, store, run_id)

    batch = runner.wait_for_job(store, batch_id, run_id, TIMEOUT_S)
    assert batch.state == "finished", batch.error
    assert batch.result is not None
    predicted = BatchResult.from_dict(batch.result)
    assert predicted.to_dict() == batch.result  # every key the kind writes is read typed
    assert (predicted.images, predicted.errors, predicted.model) == (6, 1, run_id)
    assert [row["file"] for row in predicted.rows] and len(predicted.rows) == 6
    csv_lines = (batch.folder / predicted.csv).read_text().splitlines()
    assert len(csv_lines) == 7 and csv_lines[0] == "file,predicted,confidence,top_k,error"
    assert not (batch.folder / "upload.zip").exists() and not (batch.folder / "extracted").exists()

    uploaded = runner.wait_for_job(store, upload_id, None, TIMEOUT_S)
    assert uploaded.state == "finished", uploaded.error
    assert uploaded.result is not None and uploaded.result["images"] == 3
    assert uploaded.folder.parent == store.root / "jobs"  # a job without a run
    assert runner.active_jobs() == []


def test_too_many_images_or_no_zip_is_refused_before_anything_is_queued(tmp_path: Path) -> None:
    dataset = write_dataset(tmp_path / "data", {"cat": (200, 40, 40), "dog": (40, 40, 200)}, 4)
    runner, store = make_runner(tmp_path, max_batch_images=3)
    with pytest.raises(DataError, match="holds 5 images, but one batch may have at most 3"):
        runner.submit("predict_batch", store, None, files={"upload.zip": _zip_of(dataset, 5)})
    with pytest.raises(DataError, match="not a valid zip"):
        runner.submit("predict_batch", store, None, files={"upload.zip": b"PK but not a zip"})
    with pytest.raises(ValueError, match="needs a run"):
        runner.submit("export", store, None)
    with pytest.raises(ValueError, match="Unknown job kind"):
        runner.submit("mine_bitcoin", store, None)
    with pytest.raises(ValueError, match="submit_training"):
        runner.submit("train", store, None)
    assert runner.active_jobs() == []
    assert not (store.root / "jobs").exists() or not any((store.root / "jobs").iterdir())


def test_an_uploaded_model_above_the_caps_is_refused_before_anything_is_queued(
    tmp_path: Path,
) -> None:
    import keras

    from core.errors import ModelFileError

    dataset = write_dataset(tmp_path / "data", {"cat": (200, 40, 40), "dog": (40, 40, 200)}, 2)
    runner, store = make_runner(tmp_path, max_model_input=512)
    image = keras.Input((8000, 8000, 3))
    features = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3)(image))
    keras.Model(image, keras.layers.Dense(2)(features)).save(tmp_path / "huge.keras")
    with pytest.raises(ModelFileError, match=r"8000 pixels a side, but .* at most 512"):
        runner.submit(
            "predict_batch",
            store,
            None,
            {"model": {"file": "model.keras"}},
            files={
                "upload.zip": _zip_of(dataset, 2),
                "model.keras": (tmp_path / "huge.keras").read_bytes(),
            },
        )
    assert runner.active_jobs() == []
    assert not any((store.root / "jobs").iterdir())  # the job folder was removed
