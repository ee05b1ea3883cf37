"""LitePredictor: a run's TFLite model on LiteRT answers as the Keras Predictor does, without TF."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.errors import ModelFileError
from core.export import lite_model
from core.export.lite_model import prepare_lite_model
from core.export.parity import FLOAT_PARITY_GOAL
from core.predict.lite import lite_files, lite_model_ready
from core.predict.predictor import Predictor
from tests.helpers.runs import tiny_classifier

REPO = Path(__file__).resolve().parents[3]


def _run_folder(tmp_path: Path, output: str = "softmax", temperature: float = 1.0) -> Path:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    tiny_classifier(3, output=output).save(run_dir / "model.keras")
    classes = ["a", "b"] if output == "sigmoid" else ["a", "b", "c"]
    labels = {"classes": classes, "input_size": 32, "resize_mode": "pad"}
    labels["temperature"] = temperature
    (run_dir / "labels.json").write_text(json.dumps(labels))
    return run_dir


def _photos(tmp_path: Path) -> list[str]:
    photos = []
    for index, size in enumerate(((640, 480), (20, 50), (33, 33))):
        photo = tmp_path / f"{index}.png"
        pixels = np.random.default_rng(index).integers(0, 255, (size[1], size[0], 3), np.uint8)
        Image.fromarray(pixels).save(photo)
        photos.append(str(photo))
    return photos


@pytest.mark.parametrize(
    ("output", "temperature"), [("softmax", 1.0), ("logits", 1.5), ("sigmoid", 2.0)]
)
def test_lite_answers_match_keras_and_it_imports_no_tensorflow(
    tmp_path: Path, output: str, temperature: float
) -> None:
    run_dir = _run_folder(tmp_path, output, temperature)
    facts = prepare_lite_model(run_dir)
    assert facts["parity"] < FLOAT_PARITY_GOAL
    photos = _photos(tmp_path)
    expected = Predictor.from_run(run_dir).predict_sources(photos)
    code = (
        "import json, sys; from core.predict.lite import LitePredictor; "
        f"p = LitePredictor({str(run_dir)!r}).predict_sources({photos!r}); "
        "print(json.dumps({'p': p.tolist(), 'tf': 'tensorflow' in sys.modules, "
        "'keras': 'keras' in sys.modules}))"
    )
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    answer = json.loads(child.stdout.strip().splitlines()[-1])
    assert not answer["tf"] and not answer["keras"]
    assert np.asarray(answer["p"]).shape == expected.shape
    assert np.abs(np.asarray(answer["p"]) - expected).max() < FLOAT_PARITY_GOAL


def test_a_changed_model_file_makes_the_lite_model_stale(tmp_path: Path) -> None:
    run_dir = _run_folder(tmp_path)
    prepare_lite_model(run_dir)
    assert lite_model_ready(run_dir)
    stat = (run_dir / "model.keras").stat()
    os.utime(run_dir / "model.keras", (stat.st_atime, stat.st_mtime + 5))
    assert not lite_model_ready(run_dir)


def test_a_lite_model_that_misses_the_parity_goal_is_refused_and_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = _run_folder(tmp_path)
    real = lite_model.run_tflite
    monkeypatch.setattr(lite_model, "run_tflite", lambda path, images: real(path, images) + 0.5)
    with pytest.raises(ModelFileError, match="Quick predictions are not available"):
        prepare_lite_model(run_dir)
    assert not lite_files(run_dir)[0].exists() and not lite_model_ready(run_dir)
